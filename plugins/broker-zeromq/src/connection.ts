import {
  type BrokerConnection,
  ClosedError,
  ConfigError,
  ConnectionError,
  describeError,
  type InboundMessage,
  type OutboundMessage,
  type PluginContext,
  PublishError,
  type Subscription,
} from '@iotload/sdk'
import type * as Zmq from 'zeromq'
import type { ZeromqConfig } from './config.ts'
import { applyCurve } from './curve.ts'
import { encodeHeaders, toInbound, topicOf } from './frames.ts'
import { PeerWatch } from './peer-watch.ts'
import { planSocket, type SocketPlan } from './socket-plan.ts'
import { compileFilter, type TopicFilter } from './topic-filter.ts'

const SOURCE = 'broker-zeromq'
/** Upper bound on waiting for libzmq to confirm a socket is closed. */
const CLOSE_WAIT_MS = 1000

type ZmqModule = typeof Zmq
type SendSocket = Zmq.XPublisher | Zmq.Push
type ReceiveSocket = Zmq.Subscriber | Zmq.Pull

interface ActiveSubscription {
  filter: TopicFilter
  onMessage: (msg: InboundMessage) => void
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
const noop = () => {}
/** Once per process: 500 devices need not repeat the same warning. */
let credentialsWarned = false

/**
 * Opens the one socket `ctx.role` owns: PUB (an XPUB, to see subscriptions arrive) or PUSH for
 * producers and bridge-out, SUB or PULL for consumers, bridge-in and probes.
 */
export async function openConnection(
  zmq: ZmqModule,
  config: ZeromqConfig,
  ctx: PluginContext,
): Promise<BrokerConnection> {
  const plan = planSocket(config, ctx.role)
  const sock = createSocket(zmq, plan, config.mode === 'pubsub')
  const { credentials } = ctx
  if (!credentialsWarned && (credentials?.username || credentials?.password || credentials?.token)) {
    credentialsWarned = true
    ctx.logger.warn('ZeroMQ has no username/password login here; broker.auth is ignored (use broker.curve)')
  }
  let watch: PeerWatch | undefined
  let conn: ZeromqConnection | undefined
  try {
    if (config.sendHighWaterMark !== undefined && 'sendHighWaterMark' in sock) {
      sock.sendHighWaterMark = config.sendHighWaterMark
    }
    if (config.receiveHighWaterMark !== undefined && 'receiveHighWaterMark' in sock) {
      sock.receiveHighWaterMark = config.receiveHighWaterMark
    }
    if (config.curve) applyCurve(zmq, sock, config.curve, plan, ctx.role)
    // Watch before bind/connect so no handshake event is missed.
    watch = new PeerWatch(sock, {
      plan,
      curve: config.curve !== undefined,
      handshakeEvents: zmq.capability.draft === true,
      ctx,
    })
    conn = new ZeromqConnection(sock, plan, config, ctx, watch)
    await attach(sock, plan)
    await watch.ready(config.connectTimeoutMs)
    await conn.settleFirstSubscriber()
    return conn
  } catch (err) {
    if (conn) await conn.close()
    else {
      watch?.stop()
      sock.linger = 0
      sock.close()
    }
    throw err
  }
}

function createSocket(zmq: ZmqModule, plan: SocketPlan, pubsub: boolean): SendSocket | ReceiveSocket {
  const options = { context: sharedContext(zmq) }
  try {
    if (plan.direction === 'send') return pubsub ? new zmq.XPublisher(options) : new zmq.Push(options)
    return pubsub ? new zmq.Subscriber(options) : new zmq.Pull(options)
  } catch (err) {
    // EMFILE: the process ran out of file descriptors (each socket needs several).
    throw new ConnectionError('unreachable', `cannot create a ZeroMQ socket: ${describeError(err)}`, {
      source: SOURCE,
      cause: err,
    })
  }
}

let context: Zmq.Context | undefined

/**
 * One context for every connection of the process. libzmq's default caps a context at 1023
 * sockets, and each connection costs three (its own plus the monitor pair behind `sock.events`),
 * so a few hundred devices would hit EMFILE; raise the cap to libzmq's limit. Not blocky, so a
 * lingering socket can never hold up process exit.
 */
function sharedContext(zmq: ZmqModule): Zmq.Context {
  context ??= new zmq.Context({ maxSockets: zmq.context.maxSocketsLimit, blocky: false })
  return context
}

async function attach(sock: Zmq.Socket, plan: SocketPlan): Promise<void> {
  for (const address of plan.addresses) {
    try {
      if (plan.side === 'bind') await sock.bind(address)
      else sock.connect(address)
    } catch (err) {
      throw new ConnectionError(
        'unreachable',
        `cannot ${plan.side} ${address} (${plan.path}): ${describeError(err)}`,
        {
          source: SOURCE,
          cause: err,
        },
      )
    }
  }
}

/**
 * One role's socket. ZeroMQ has no acknowledgements: `publish` resolves once libzmq queued the
 * frames (`await sock.send()`), which for PUB is immediate even when no subscriber matches.
 */
class ZeromqConnection implements BrokerConnection {
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
  private readonly onPubSendFailed = (err: unknown): never => {
    throw new PublishError(`send on ${this.plan.addresses.join(', ')} failed: ${describeError(err)}`, {
      source: SOURCE,
      cause: err,
    })
  }
  private readonly onSendFailed = (err: unknown): never => {
    this.sendsPending--
    return this.onPubSendFailed(err)
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
    // A PUB never blocks (it drops at its high-water mark), so its send resolves at once.
    if (this.config.mode === 'pubsub') return sock.send(frames).then(undefined, this.onPubSendFailed)
    // zeromq allows one blocked send per socket (EBUSY otherwise); PUSH blocks at its high-water
    // mark, so later publishes queue behind the blocked one instead of failing.
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
