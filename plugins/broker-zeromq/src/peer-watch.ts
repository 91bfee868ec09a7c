import { ConnectionError, type ConnectionFailureKind, type PluginContext } from '@iotload/sdk'
import type { EventOfType, EventSubscriber, EventType } from 'zeromq'
import type { SocketPlan } from './socket-plan.ts'

const SOURCE = 'broker-zeromq'

/** The part of a zeromq socket the watch needs. */
export interface WatchedSocket {
  readonly events: EventSubscriber
}

/** Options of a `PeerWatch`. */
export interface PeerWatchOptions {
  plan: SocketPlan
  /** The socket is a CURVE client or server; handshake failures then mean a key problem. */
  curve: boolean
  /**
   * libzmq reports ZMTP handshakes (DRAFT events, present in the zeromq 6 prebuilds). Without them
   * the TCP-level `connect`/`accept` stands in, which cannot see CURVE rejections.
   */
  handshakeEvents: boolean
  ctx: PluginContext
}

type Failure = { type: EventType; address: string; reason: string }

/**
 * Turns a socket's monitor events into (a) readiness for `connect()`, so the first messages are
 * not lost to a peer that has not finished its handshake, and (b) `ctx.onStatus` changes.
 *
 * ZeroMQ never fails a `connect` call: it retries forever and a CURVE rejection only shows up as
 * monitor events. This is where such failures become `ConnectionError`s.
 */
export class PeerWatch {
  private readonly up = new Set<string>()
  private readonly everUp = new Set<string>()
  private readonly reconnecting = new Set<string>()
  private accepted = 0
  private allPeersLost = false
  private statusActive = false
  private failure: Failure | undefined
  private failuresLogged = 0
  private wake: (() => void) | undefined
  private readonly listeners: Array<[EventType, (e: never) => void]> = []

  // Captured once: the `events` getter throws after the socket is closed.
  private readonly events: EventSubscriber

  constructor(
    sock: WatchedSocket,
    private readonly opts: PeerWatchOptions,
  ) {
    this.events = sock.events
    if (opts.plan.side === 'bind') {
      this.on('accept', (e) => {
        this.accepted++
        if (!opts.handshakeEvents) this.onBindUp(e.address)
      })
      if (opts.handshakeEvents) this.on('handshake', (e) => this.onBindUp(e.address))
      this.on('disconnect', () => this.onBindDown())
    } else {
      // inproc has no ZMTP handshake and no monitor events; its pipes attach synchronously.
      for (const a of opts.plan.addresses) {
        if (a.startsWith('inproc://')) {
          this.up.add(a)
          this.everUp.add(a)
        }
      }
      this.on(opts.handshakeEvents ? 'handshake' : 'connect', (e) => this.onLinkUp(e.address))
      this.on('disconnect', (e) => this.onLinkDown(e.address))
      this.on('connect:retry', (e) => this.onRetry(e.address))
    }
    for (const type of [
      'handshake:error:auth',
      'handshake:error:protocol',
      'handshake:error:other',
    ] as const) {
      this.on(type, (e) => this.onFailure(type, e.address, e.error))
    }
  }

  /** Live peers: handshaken links of a connecting socket, accepted connections of a binding one. */
  get peers(): number {
    return this.opts.plan.side === 'bind' ? this.accepted : this.up.size
  }

  /**
   * Resolves once the plan's peers are there: every `connect` address handshaken, or, for a sending
   * `bind` socket, the first peer. A binding receiver resolves at once. Rejects on a handshake
   * failure or after `timeoutMs`.
   */
  async ready(timeoutMs: number): Promise<void> {
    const { plan } = this.opts
    const inprocOnly = plan.addresses.every((a) => a.startsWith('inproc://'))
    if (!plan.waitForPeer || (plan.side === 'bind' && (plan.direction === 'receive' || inprocOnly))) {
      return this.activate()
    }
    const need = plan.side === 'connect' ? plan.addresses.length : 1
    const deadline = Date.now() + timeoutMs
    while (this.everUp.size < need) {
      if (this.failure) throw this.failureError(this.failure)
      const left = deadline - Date.now()
      if (left <= 0) throw this.timeoutError(timeoutMs)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.wake = undefined
    }
    this.activate()
  }

  /** Stops listening; safe to call more than once. */
  stop(): void {
    this.statusActive = false
    this.wake?.()
    for (const [type, fn] of this.listeners.splice(0)) this.events.off(type, fn as never)
  }

  private activate(): void {
    // Outages before connect() resolved are not reported, so neither are their recoveries.
    this.reconnecting.clear()
    this.allPeersLost = false
    this.statusActive = true
  }

  private on<E extends EventType>(type: E, fn: (e: EventOfType<E>) => void): void {
    this.events.on(type, fn)
    this.listeners.push([type, fn as (e: never) => void])
  }

  private onLinkUp(address: string): void {
    this.up.add(address)
    this.everUp.add(address)
    if (this.reconnecting.delete(address) && this.statusActive)
      this.opts.ctx.onStatus?.('reconnected', address)
    this.wake?.()
  }

  private onLinkDown(address: string): void {
    // A link that never completed its handshake (rejected key) was never up: no status for it.
    if (!this.up.delete(address)) return
    this.reconnecting.add(address)
    if (this.statusActive) this.opts.ctx.onStatus?.('disconnected', address)
  }

  private onBindUp(address: string): void {
    this.everUp.add(address)
    if (this.allPeersLost && this.statusActive) this.opts.ctx.onStatus?.('reconnected', address)
    this.allPeersLost = false
    this.wake?.()
  }

  /**
   * Peers of a bound socket come and go (devices stopping, reconnecting), so one leaving is no
   * outage of this connection; losing the last one is, and a returning peer ends it.
   */
  private onBindDown(): void {
    if (this.accepted > 0) this.accepted--
    if (this.accepted > 0 || this.allPeersLost || this.everUp.size === 0) return
    this.allPeersLost = true
    if (this.statusActive) this.opts.ctx.onStatus?.('disconnected', this.opts.plan.addresses.join(', '))
  }

  private onRetry(address: string): void {
    if (this.statusActive && this.reconnecting.has(address)) this.opts.ctx.onStatus?.('reconnecting', address)
  }

  private onFailure(type: EventType, address: string, error: Error): void {
    const failure = { type, address, reason: error?.message ?? type }
    if (this.opts.plan.side === 'connect') {
      this.failure = failure
      this.wake?.()
    }
    // After start-up, a rejected handshake only shows in the log: ZeroMQ keeps retrying on its own.
    if (this.statusActive || this.opts.plan.side === 'bind') {
      if (this.failuresLogged++ === 0) {
        this.opts.ctx.logger.warn('ZeroMQ handshake failed', { address, event: type, reason: failure.reason })
      }
    }
  }

  private failureError(f: Failure): ConnectionError {
    let kind: ConnectionFailureKind = 'protocol'
    let hint = 'the peer speaks another ZMTP security mechanism (CURVE on one side only?)'
    if (f.type === 'handshake:error:auth') {
      kind = 'auth'
      hint = "the peer's authentication handler rejected this client"
    } else if (this.opts.curve) {
      kind = 'tls'
      hint =
        'the CURVE server rejected the handshake: wrong curve.serverPublicKey, or the peer is not a CURVE server'
    }
    return new ConnectionError(kind, `handshake with ${f.address} failed (${f.reason}): ${hint}`, {
      source: SOURCE,
    })
  }

  private timeoutError(timeoutMs: number): ConnectionError {
    const { plan } = this.opts
    if (plan.side === 'connect') {
      const missing = plan.addresses.filter((a) => !this.everUp.has(a))
      return new ConnectionError(
        'unreachable',
        `no ZeroMQ peer completed a handshake at ${(missing.length ? missing : plan.addresses).join(', ')} ` +
          `within ${timeoutMs} ms (${plan.path}); is the binding side running?`,
        { source: SOURCE },
      )
    }
    return new ConnectionError(
      'timeout',
      `no peer connected to ${plan.addresses.join(', ')} within ${timeoutMs} ms (${plan.path}); ` +
        'set waitForPeer: false if peers start later',
      { source: SOURCE },
    )
  }
}
