import {
  type BrokerConnection,
  ClosedError,
  ConfigError,
  describeError,
  type InboundMessage,
  type OutboundMessage,
  type PluginContext,
  PublishError,
  type Subscription,
} from '@iotload/sdk'
import type * as Zmq from 'zeromq'
import type { ZeromqConfig } from './config.ts'
import { encodeHeaders, toInbound, topicOf } from './frames.ts'
import type { PeerWatch } from './peer-watch.ts'
import type { SocketPlan } from './socket-plan.ts'
import { compileFilter, type TopicFilter } from './topic-filter.ts'

const SOURCE = 'broker-zeromq'
/** Upper bound on waiting for libzmq to confirm a socket is closed. */
const CLOSE_WAIT_MS = 1000

/** Sockets of the sending roles. */
export type SendSocket = Zmq.XPublisher | Zmq.Push
/** Sockets of the receiving roles. */
export type ReceiveSocket = Zmq.Subscriber | Zmq.Pull

interface ActiveSubscription {
  filter: TopicFilter
  onMessage: (msg: InboundMessage) => void
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const noop = () => {}

/**
 * One role's socket. ZeroMQ has no acknowledgements: `publish` resolves once libzmq queued the
 * frames (`await sock.send()`), which for PUB is immediate even when no subscriber matches.
 */
export class ZeromqConnection implements BrokerConnection {
  private subs: readonly ActiveSubscription[] = []
  private closed = false
  private closing: Promise<void> | undefined
  private receiving: Promise<void> | undefined
  private draining: Promise<void> | undefined
  private subscriptionSeen = false
  private wakeSubscribed: (() => void) | undefined
  private sendsPending = 0
  private sendTail: Promise<unknown> = Promise.resolve()
  private handlerErrors = 0
  private readonly onSent = () => {
    this.sendsPending--
  }
  private readonly onSendFailed = (err: unknown): never => {
    this.sendsPending--
    throw new PublishError(`send on ${this.plan.addresses.join(', ')} failed: ${describeError(err)}`, {
      source: SOURCE,
      cause: err,
    })
  }

  constructor(
    private readonly sock: SendSocket | ReceiveSocket,
    private readonly plan: SocketPlan,
    private readonly config: ZeromqConfig,
    private readonly ctx: PluginContext,
    private readonly watch: PeerWatch,
  ) {
    if (plan.direction === 'send' && config.mode === 'pubsub') this.draining = this.drainSubscriptions()
  }

  publish(topic: string, msg: OutboundMessage): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError('connection is closed', { source: SOURCE }))
    if (this.plan.direction !== 'send') {
      return Promise.reject(
        new PublishError(
          `role '${this.ctx.role}' owns a receiving socket; publish from a producer or bridge-out`,
          {
            source: SOURCE,
          },
        ),
      )
    }
    const sock = this.sock as SendSocket
    const frames = [topic, encodeHeaders(msg.headers), msg.payload]
    // zeromq.js allows one pending send per socket (EBUSY otherwise). A send is pending when PUSH
    // blocks at its high-water mark, and on any socket every 512th send, which zeromq.js defers
    // so as not to starve the event loop; later publishes queue behind it instead of failing.
    const sent = this.sendsPending === 0 ? sock.send(frames) : this.sendTail.then(() => sock.send(frames))
    this.sendsPending++
    const done = sent.then(this.onSent, this.onSendFailed)
    this.sendTail = done.catch(noop)
    return done
  }

  async subscribe(filter: string, onMessage: (msg: InboundMessage) => void): Promise<Subscription> {
    if (this.closed) throw new ClosedError('connection is closed', { source: SOURCE })
    if (this.plan.direction !== 'receive') {
      throw new ConfigError(
        this.plan.path,
        `role '${this.ctx.role}' owns a sending socket and cannot subscribe`,
        {
          source: SOURCE,
        },
      )
    }
    const compiled = compileFilter(filter, this.config.topicSeparator)
    const entry: ActiveSubscription = { filter: compiled, onMessage }
    this.subs = [...this.subs, entry]
    const sub = this.config.mode === 'pubsub' ? (this.sock as Zmq.Subscriber) : undefined
    sub?.subscribe(compiled.prefix)
    this.receiving ??= this.receiveLoop(this.sock as ReceiveSocket)
    // Slow joiner: the subscription travels to connected publishers asynchronously; messages they
    // send before it lands are dropped. Publishers that join later get it in their handshake.
    if (sub && this.watch.peers > 0 && this.config.settleMs > 0) await sleep(this.config.settleMs)
    let active = true
    return {
      unsubscribe: async () => {
        if (!active) return
        active = false
        this.subs = this.subs.filter((s) => s !== entry)
        if (sub && !this.closed) sub.unsubscribe(compiled.prefix)
      },
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  /**
   * Slow joiner, publisher side: after the handshake, wait (up to `settleMs`) for the first
   * subscription to arrive, which an XPUB can see, so early messages are not dropped.
   */
  async settleFirstSubscriber(): Promise<void> {
    if (!this.draining || this.subscriptionSeen || this.watch.peers === 0 || this.config.settleMs === 0)
      return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.config.settleMs)
      this.wakeSubscribed = () => {
        clearTimeout(timer)
        resolve()
      }
    })
    this.wakeSubscribed = undefined
  }

  private async shutdown(): Promise<void> {
    this.closed = true
    // Our own close disconnects every peer; that is no outage to report.
    this.watch.stop()
    this.wakeSubscribed?.()
    // libzmq closes in its I/O thread; the monitor's `end` event says the listener is gone, so a
    // closed connection's port is free for the next bind when close() resolves.
    let timer: NodeJS.Timeout | undefined
    const events = this.sock.events
    const ended = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_WAIT_MS)
      events.on('end', () => resolve())
    })
    this.sock.linger = 0
    this.sock.close()
    await ended
    clearTimeout(timer)
    await Promise.allSettled([this.receiving, this.draining])
  }

  private async drainSubscriptions(): Promise<void> {
    try {
      for await (const _ of this.sock as Zmq.XPublisher) {
        if (!this.subscriptionSeen) {
          this.subscriptionSeen = true
          this.wakeSubscribed?.()
        }
      }
    } catch (err) {
      if (!this.closed)
        this.ctx.logger.warn('ZeroMQ subscription drain stopped', { error: describeError(err) })
    }
  }

  private async receiveLoop(sock: ReceiveSocket): Promise<void> {
    try {
      for await (const frames of sock) {
        const subs = this.subs
        if (subs.length === 0) continue
        const topic = topicOf(frames)
        let msg: InboundMessage | undefined
        for (const s of subs) {
          if (!s.filter.matches(topic)) continue
          msg ??= toInbound(frames, topic)
          try {
            s.onMessage(msg)
          } catch (err) {
            if (this.handlerErrors++ === 0) {
              this.ctx.logger.error('message handler threw', { error: describeError(err) })
            }
          }
        }
      }
    } catch (err) {
      if (!this.closed) this.ctx.logger.error('ZeroMQ receive loop stopped', { error: describeError(err) })
    }
  }
}
