import net from 'node:net'
import tls from 'node:tls'
import { ConnectionError, describeError, type PluginLogger, type TlsMaterial } from '@iotload/sdk'
import { toConnectionError } from '../connect-error.ts'
import type { StatusTracker } from '../status-tracker.ts'
import {
  type AuthData,
  authResponseFrame,
  Cmd,
  connectFrame,
  decodeFrame,
  type InboundFrame,
  pingFrame,
  pongFrame,
  ServerError,
} from './commands.ts'
import { FrameSplitter } from './frame-splitter.ts'

const SOURCE = 'broker-pulsar'
/** Silence after which the client pings the broker; twice that and the connection counts as dead. */
const KEEPALIVE_MS = 30_000
/** A request the broker has not answered in this long fails (the Java client's operation timeout). */
export const REQUEST_TIMEOUT_MS = 30_000
/** Bytes queued on a socket the broker no longer reads; past this the connection is dropped and redialled. */
const MAX_WRITE_BACKLOG = 64 * 1024 * 1024
/** A connection must have lived this long for the next drop to start backoff afresh. */
const STABLE_MS = 5000
/** Broker-supplied text (error messages, URLs) is cut to this length before it reaches errors and logs. */
const MAX_TEXT = 200

/** Everything a client needs to reach one broker (or Pulsar proxy). */
export interface BinaryEnv {
  host: string
  port: number
  /** TLS material for pulsar+ssl://; undefined for pulsar://. */
  tls: TlsMaterial | undefined
  auth: AuthData | undefined
  status: StatusTracker
  logger: PluginLogger
  /** First reconnect delay in ms; doubles up to 10x. */
  reconnectMs: number
  connectTimeoutMs: number
  /** The URL as logs and errors may show it. */
  where: string
  /** `host:port` of the broker a connection through a Pulsar proxy is piped to. */
  proxyToBroker?: string
}

/** A producer or consumer living on a client: it gets its frames and the connection's ups and downs. */
export interface Channel {
  onFrame(frame: InboundFrame): void
  /** The connection is back after a drop: re-create yourself on the broker. */
  onUp(): void
  /** The connection dropped; a reconnect follows unless the client was closed. */
  onDown(reason: string): void
}

/** A broker error answer (CommandError, or the error of a lookup or send). */
export class BrokerError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message)
  }
}

/** The answer to a request: the fields iotload reads, by command type. */
export interface Response {
  type: number
  producerName?: string
  producerReady?: boolean
  lookup?: { response: number; brokerUrl?: string; proxyThroughServiceUrl: boolean }
}

interface PendingRequest {
  resolve(r: Response): void
  reject(err: Error): void
  timer: NodeJS.Timeout
}

/** Broker-supplied text, cut short: a hostile broker must not fill logs with megabytes. */
export function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text
}

/** Runs channel callbacks so one that throws cannot escape into a socket or timer handler. */
function each(channels: Iterable<Channel>, call: (c: Channel) => void, logger: PluginLogger): void {
  for (const c of [...channels]) {
    try {
      call(c)
    } catch (err) {
      logger.warn('pulsar producer/consumer callback failed', { error: describeError(err) })
    }
  }
}

/**
 * One TCP (or TLS) connection to a Pulsar broker speaking the binary protocol: CONNECT with the
 * credentials, PING/PONG, request ids, and frames routed to the producers and consumers registered
 * on it. A drop is reported through the StatusTracker and redialled with backoff; the channels
 * re-create themselves on `onUp`. The first `open()` rejects with a ConnectionError saying why.
 */
export class BinaryClient {
  readonly producers = new Map<number, Channel>()
  readonly consumers = new Map<number, Channel>()
  private socket: net.Socket | undefined
  private ready = false
  private closed = false
  private corked = false
  private requests = new Map<number, PendingRequest>()
  private lastRequestId = 0
  private lastChannelId = 0
  private attempt = 0
  private reconnectTimer: NodeJS.Timeout | undefined
  private keepalive: NodeJS.Timeout | undefined
  private heardFrom = true
  private pinged = false
  private attachedAt = 0
  private warnedFrame = false

  constructor(readonly env: BinaryEnv) {}

  /** True while commands can be sent. */
  get isReady(): boolean {
    return this.ready
  }

  /** A new producer or consumer id, unique on this client. */
  nextChannelId(): number {
    return ++this.lastChannelId
  }

  /** Connects and authenticates for the first time. */
  async open(): Promise<void> {
    try {
      await this.dial()
    } catch (err) {
      throw this.connectError(err)
    }
  }

  /** Writes one frame; frames written in one event-loop turn leave in one writev. False when not ready. */
  write(frame: Buffer): boolean {
    const socket = this.socket
    if (socket === undefined || !this.ready) return false
    if (socket.writableLength > MAX_WRITE_BACKLOG) {
      // The broker stopped reading: drop the connection (unacked sends fail, a redial follows)
      // rather than buffer without bound.
      this.env.logger.warn('pulsar connection: the broker stopped reading; reconnecting', {
        url: this.env.where,
        queuedBytes: socket.writableLength,
      })
      socket.destroy()
      return false
    }
    if (!this.corked) {
      this.corked = true
      socket.cork()
      setImmediate(this.uncork)
    }
    socket.write(frame)
    return true
  }

  /**
   * Sends a command with a fresh request id and resolves with the broker's answer to it; rejects
   * after `timeoutMs` without one.
   */
  request(build: (requestId: number) => Buffer, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Response> {
    const id = ++this.lastRequestId
    return new Promise((resolve, reject) => {
      if (!this.write(build(id))) {
        reject(new Error(`not connected to ${this.env.where}`))
        return
      }
      const timer = setTimeout(() => {
        if (this.requests.delete(id))
          reject(new Error(`${this.env.where} did not answer within ${timeoutMs} ms`))
      }, timeoutMs)
      timer.unref()
      this.requests.set(id, { resolve, reject, timer })
    })
  }

  /** Closes for good; idempotent. Pending requests are rejected. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.reconnectTimer)
    clearInterval(this.keepalive)
    this.env.status.forget(this)
    this.failRequests('client closed')
    const socket = this.socket
    this.socket = undefined
    this.ready = false
    if (socket === undefined || socket.destroyed) return
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        socket.destroy()
        resolve()
      }, 2000)
      socket.once('close', () => {
        clearTimeout(force)
        resolve()
      })
      socket.end()
    })
  }

  private readonly uncork = (): void => {
    this.corked = false
    this.socket?.uncork()
  }

  /** One TCP/TLS connection through the CONNECT/CONNECTED handshake. */
  private dial(): Promise<void> {
    const { env } = this
    return new Promise((resolve, reject) => {
      const socket =
        env.tls === undefined
          ? net.connect({ host: env.host, port: env.port })
          : tls.connect({
              host: env.host,
              port: env.port,
              servername: env.tls.servername ?? sni(env.host),
              ...env.tls,
            })
      socket.setNoDelay(true)
      let settled = false
      const timer = setTimeout(
        () =>
          fail(new ConnectionError('timeout', `timed out connecting to ${env.where}`, { source: SOURCE })),
        env.connectTimeoutMs,
      )
      const fail = (err: Error) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        socket.removeAllListeners()
        socket.on('error', () => undefined)
        socket.destroy()
        reject(err)
      }
      const splitter = new FrameSplitter((bytes) => {
        let frame: InboundFrame
        try {
          frame = decodeFrame(bytes)
        } catch (err) {
          fail(
            new ConnectionError('protocol', `${env.where} sent a malformed frame: ${describeError(err)}`, {
              source: SOURCE,
            }),
          )
          return
        }
        if (!settled) {
          if (frame.type === Cmd.CONNECTED) {
            settled = true
            clearTimeout(timer)
            this.attach(socket, splitter)
            resolve()
          } else if (frame.type === Cmd.ERROR) {
            const e = readError(frame)
            fail(handshakeError(e, env.where))
          } else if (frame.type === Cmd.AUTH_CHALLENGE && env.auth) socket.write(authResponseFrame(env.auth))
          return
        }
        try {
          this.onFrame(frame)
        } catch (err) {
          // A bad frame for one producer or consumer (or a throwing callback) must not cost the
          // connection; say so once per client.
          if (!this.warnedFrame) {
            this.warnedFrame = true
            this.env.logger.warn('pulsar connection: a frame could not be handled', {
              url: env.where,
              type: frame.type,
              error: describeError(err),
            })
          }
        }
      })
      socket.on('data', (chunk: Buffer) => {
        try {
          splitter.push(chunk)
        } catch (err) {
          if (!settled)
            fail(new ConnectionError('protocol', `${env.where}: ${describeError(err)}`, { source: SOURCE }))
          else {
            this.env.logger.warn('pulsar connection: malformed data, reconnecting', {
              url: env.where,
              error: describeError(err),
            })
            socket.destroy()
          }
        }
      })
      socket.once(env.tls === undefined ? 'connect' : 'secureConnect', () =>
        socket.write(connectFrame(env.auth, env.proxyToBroker)),
      )
      socket.once('error', fail)
      socket.once('close', () =>
        fail(
          new ConnectionError(
            'protocol',
            `${env.where} closed the connection during the handshake (not a Pulsar binary port, or it refused the client)`,
            { source: SOURCE },
          ),
        ),
      )
    })
  }

  private attach(socket: net.Socket, splitter: FrameSplitter): void {
    if (this.closed) {
      socket.destroy()
      return
    }
    socket.removeAllListeners('error')
    socket.removeAllListeners('close')
    this.socket = socket
    this.ready = true
    this.attachedAt = Date.now()
    this.heardFrom = true
    this.pinged = false
    socket.on('error', () => undefined) // 'close' follows and drives the reconnect
    socket.once('close', () => {
      if (this.socket !== socket) return
      splitter.reset()
      this.onLost(`${this.env.where} closed the connection`)
    })
    clearInterval(this.keepalive)
    this.keepalive = setInterval(() => {
      if (this.heardFrom) {
        this.heardFrom = false
        return
      }
      // Nothing for a whole period: ask; nothing for two, give up on this socket.
      if (this.socket === socket && socket.writableLength === 0 && !this.pinged) {
        this.pinged = true
        socket.write(pingFrame())
      } else socket.destroy()
    }, KEEPALIVE_MS)
    this.keepalive.unref()
  }

  private onFrame(frame: InboundFrame): void {
    this.heardFrom = true
    this.pinged = false
    switch (frame.type) {
      case Cmd.SEND_RECEIPT:
      case Cmd.SEND_ERROR:
      case Cmd.CLOSE_PRODUCER:
        this.producers.get(peekId(frame))?.onFrame(frame)
        return
      case Cmd.MESSAGE:
      case Cmd.CLOSE_CONSUMER:
        this.consumers.get(peekId(frame))?.onFrame(frame)
        return
      case Cmd.PING:
        this.write(pongFrame())
        return
      case Cmd.SUCCESS:
      case Cmd.ERROR:
      case Cmd.PRODUCER_SUCCESS:
      case Cmd.LOOKUP_RESPONSE:
        this.onResponse(frame)
        return
      case Cmd.AUTH_CHALLENGE:
        if (this.env.auth) this.write(authResponseFrame(this.env.auth))
        return
      default:
        return // PONG, ACTIVE_CONSUMER_CHANGE, REACHED_END_OF_TOPIC, …
    }
  }

  private onResponse(frame: InboundFrame): void {
    const r = frame.body
    let requestId = -1
    const out: Response = { type: frame.type }
    let errorCode = -1
    let errorMessage = ''
    let lookupType = -1
    let brokerUrl: string | undefined
    let brokerUrlTls: string | undefined
    let proxyThrough = false
    while (r.next()) {
      const f = r.field
      if (frame.type === Cmd.LOOKUP_RESPONSE) {
        if (f === 1) brokerUrl = r.string()
        else if (f === 2) brokerUrlTls = r.string()
        else if (f === 3) lookupType = r.uint()
        else if (f === 4) requestId = r.uint()
        else if (f === 6) errorCode = r.uint()
        else if (f === 7) errorMessage = r.string()
        else if (f === 8) proxyThrough = r.bool()
        else r.skip()
      } else if (f === 1) requestId = r.uint()
      else if (frame.type === Cmd.ERROR && f === 2) errorCode = r.uint()
      else if (frame.type === Cmd.ERROR && f === 3) errorMessage = r.string()
      else if (frame.type === Cmd.PRODUCER_SUCCESS && f === 2) out.producerName = r.string()
      else if (frame.type === Cmd.PRODUCER_SUCCESS && f === 6) out.producerReady = r.bool()
      else r.skip()
    }
    const pending = this.requests.get(requestId)
    if (pending === undefined) return
    // A producer waiting for exclusive access gets a second PRODUCER_SUCCESS when it is ready.
    if (out.producerReady === false) return
    this.requests.delete(requestId)
    clearTimeout(pending.timer)
    errorMessage = clip(errorMessage)
    if (frame.type === Cmd.ERROR || (frame.type === Cmd.LOOKUP_RESPONSE && lookupType === 2)) {
      pending.reject(new BrokerError(errorCode, errorMessage || `broker error ${errorCode}`))
      return
    }
    if (frame.type === Cmd.LOOKUP_RESPONSE) {
      const url = this.env.tls === undefined ? brokerUrl : (brokerUrlTls ?? brokerUrl)
      out.lookup = {
        response: lookupType,
        proxyThroughServiceUrl: proxyThrough,
        ...(url !== undefined && { brokerUrl: url }),
      }
    }
    pending.resolve(out)
  }

  private onLost(reason: string): void {
    this.socket = undefined
    this.ready = false
    clearInterval(this.keepalive)
    this.failRequests(reason)
    if (this.closed) return
    // A connection that dies right after CONNECTED must not reset the backoff, or a broker that
    // accepts and drops would be redialled at the shortest delay for ever.
    if (Date.now() - this.attachedAt >= STABLE_MS) this.attempt = 0
    this.env.status.markDown(this, reason)
    each([...this.producers.values(), ...this.consumers.values()], (c) => c.onDown(reason), this.env.logger)
    this.scheduleReconnect()
  }

  private scheduleReconnect(): void {
    if (this.closed) return
    const { reconnectMs } = this.env
    const base = Math.max(reconnectMs, 50)
    const delay = Math.min(base * 2 ** this.attempt, base * 10)
    this.attempt++
    this.reconnectTimer = setTimeout(() => {
      if (this.closed) return
      this.env.status.markReconnecting()
      this.dial().then(
        () => {
          if (this.closed) return
          this.env.status.markUp(this)
          each([...this.producers.values(), ...this.consumers.values()], (c) => c.onUp(), this.env.logger)
        },
        (err: unknown) => {
          if (this.attempt === 1 || this.attempt % 20 === 0)
            this.env.logger.warn('pulsar reconnect failed', {
              url: this.env.where,
              attempt: this.attempt,
              error: this.connectError(err).message,
            })
          this.scheduleReconnect()
        },
      )
    }, delay)
  }

  private failRequests(reason: string): void {
    const all = [...this.requests.values()]
    this.requests.clear()
    for (const r of all) {
      clearTimeout(r.timer)
      r.reject(new Error(reason))
    }
  }

  private connectError(err: unknown): ConnectionError {
    if (err instanceof ConnectionError) return err
    return toConnectionError(err, this.env.where, 'connection')
  }
}

/** Node refuses an IP address as SNI. */
function sni(host: string): string | undefined {
  return net.isIP(host) === 0 ? host : undefined
}

/** The producer or consumer id (field 1) a frame is for, without consuming its body. */
function peekId(frame: InboundFrame): number {
  const r = frame.body.fork()
  while (r.next()) {
    if (r.field === 1) return r.uint()
    r.skip()
  }
  return -1
}

function readError(frame: InboundFrame): { code: number; message: string } {
  let code = -1
  let message = ''
  const r = frame.body
  while (r.next()) {
    if (r.field === 2) code = r.uint()
    else if (r.field === 3) message = r.string()
    else r.skip()
  }
  return { code, message }
}

function handshakeError(e: { code: number; message: string }, where: string): ConnectionError {
  const auth = e.code === ServerError.AuthenticationError || e.code === ServerError.AuthorizationError
  return new ConnectionError(
    auth ? 'auth' : 'protocol',
    `${where} refused the connection${auth ? ' (credentials)' : ''}: ${clip(e.message) || `error ${e.code}`}`,
    { source: SOURCE },
  )
}
