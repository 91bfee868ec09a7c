import type { PluginLogger } from '@iotload/sdk'
import type { ClientOptions, default as WebSocket } from 'ws'
import { HandshakeRejected, toConnectionError } from './connect-error.ts'
import type { StatusTracker } from './status-tracker.ts'
import { displayUrl } from './topic-url.ts'

/** The `ws` constructor, imported lazily by the plugin. */
export type WebSocketCtor = typeof WebSocket

/** The TCP socket under a ws WebSocket (a private field of ws 8, used only if present). */
interface Corkable {
  cork(): void
  uncork(): void
}

/** What a socket's owner (producer or consumer) does with it. */
export interface SocketHandlers {
  /** A text frame from the WebSocket service. */
  onMessage(data: string): void
  /** The socket is open (first time and after each reconnect). */
  onOpen(): void
  /** An open socket was lost; a reconnect follows unless the socket was closed. */
  onDown(reason: string): void
}

/** Everything a ManagedSocket needs besides its URL and handlers. */
export interface SocketEnv {
  WebSocket: WebSocketCtor
  options: ClientOptions
  status: StatusTracker
  logger: PluginLogger
  /** First reconnect delay in ms; doubles up to 10x. */
  reconnectMs: number
}

/**
 * One WebSocket to the Pulsar WebSocket API that reopens itself with backoff after a drop.
 * The first open rejects with a ConnectionError; after that, failures only delay the reopen.
 */
export class ManagedSocket {
  private ws: WebSocket | undefined
  private closed = false
  private timer: NodeJS.Timeout | undefined
  private attempt = 0
  private corked: Corkable | undefined
  private readonly where: string

  constructor(
    private readonly env: SocketEnv,
    private readonly url: string,
    private readonly handlers: SocketHandlers,
  ) {
    this.where = displayUrl(url)
  }

  /** True while frames can be sent. */
  get isOpen(): boolean {
    return this.ws !== undefined && this.ws.readyState === 1
  }

  /** Opens the socket for the first time; rejects with a ConnectionError saying why it failed. */
  async open(): Promise<void> {
    try {
      await this.dial()
    } catch (err) {
      throw toConnectionError(err, this.where)
    }
  }

  /** Sends a text frame; false when the socket is not open. */
  send(frame: string): boolean {
    const ws = this.ws
    if (ws === undefined || ws.readyState !== 1) return false
    if (this.corked === undefined) {
      // Frames sent in one event-loop turn (the acks for a whole read, every publish the
      // scheduler's timers made) leave in one writev instead of one syscall each, which
      // dominated the CPU profile under load.
      const tcp = (ws as unknown as { _socket?: Corkable })._socket
      if (tcp !== undefined && typeof tcp.cork === 'function') {
        tcp.cork()
        this.corked = tcp
        setImmediate(this.uncork)
      }
    }
    ws.send(frame)
    return true
  }

  private readonly uncork = (): void => {
    const tcp = this.corked
    this.corked = undefined
    tcp?.uncork()
  }

  /** Closes for good; idempotent. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve()
    this.closed = true
    clearTimeout(this.timer)
    this.env.status.forget(this)
    const ws = this.ws
    this.ws = undefined
    if (ws === undefined || ws.readyState === 3) return Promise.resolve()
    return new Promise((resolve) => {
      const force = setTimeout(() => {
        ws.terminate()
        resolve()
      }, 2000)
      ws.once('close', () => {
        clearTimeout(force)
        resolve()
      })
      ws.close(1000)
    })
  }

  /**
   * Opens one WebSocket and attaches it inside the 'open' event: the service may send a
   * backlog message in the same packet as the handshake, and ws emits it before any promise
   * continuation could add a listener.
   */
  private dial(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new this.env.WebSocket(this.url, this.env.options)
      const fail = (err: Error) => {
        ws.removeAllListeners()
        ws.on('error', () => undefined)
        ws.terminate()
        reject(err)
      }
      ws.once('open', () => {
        ws.removeAllListeners()
        this.attach(ws)
        resolve()
      })
      ws.once('unexpected-response', (req, res) => {
        // The service answers a failed auth or producer/consumer creation with an HTTP error.
        res.resume()
        req.destroy()
        fail(new HandshakeRejected(res.statusCode ?? 0, res.statusMessage ?? ''))
      })
      ws.once('error', fail)
      ws.once('close', (code, reason) =>
        fail(new Error(`closed during handshake: ${code} ${reason.toString()}`)),
      )
    })
  }

  private attach(ws: WebSocket): void {
    if (this.closed) {
      ws.terminate()
      return
    }
    this.ws = ws
    this.attempt = 0
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      // Frames still in flight after close() are not delivered: the subscriber has left.
      if (!isBinary && !this.closed) this.handlers.onMessage(data.toString('utf8'))
    })
    ws.on('error', () => undefined) // 'close' follows and drives the reconnect
    ws.once('close', (code: number, reason: Buffer) => {
      if (this.ws !== ws) return
      this.ws = undefined
      if (this.closed) return
      const detail = `${this.where} closed: ${code}${reason.length ? ` ${reason.toString()}` : ''}`
      this.env.status.markDown(this, detail)
      this.handlers.onDown(detail)
      this.scheduleReopen()
    })
    this.handlers.onOpen()
  }

  private scheduleReopen(): void {
    if (this.closed) return
    const delay = Math.min(this.env.reconnectMs * 2 ** this.attempt, this.env.reconnectMs * 10)
    this.attempt++
    this.timer = setTimeout(() => {
      if (this.closed) return
      this.env.status.markReconnecting()
      this.dial().then(
        () => {
          if (!this.closed) this.env.status.markUp(this)
        },
        (err: unknown) => {
          if (this.attempt === 1 || this.attempt % 20 === 0)
            this.env.logger.warn('pulsar websocket reopen failed', {
              url: this.where,
              attempt: this.attempt,
              error: toConnectionError(err, this.where).message,
            })
          this.scheduleReopen()
        },
      )
    }, delay)
  }
}
