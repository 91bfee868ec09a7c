import {
  type BrokerConnection,
  ClosedError,
  ConfigError,
  type ConnectionStatus,
  type InboundMessage,
  type OutboundMessage,
  type PluginContext,
  PublishError,
  type SubscribeOptions,
} from '@iotload/sdk'
import type { MemoryConfig } from './config.ts'
import type { BusMember, MemoryBus } from './memory-bus.ts'
import { MemorySubscription, type PausableSubscription } from './memory-subscription.ts'
import { compileFilter, filterProblem, topicProblem } from './topic-filter.ts'

const SOURCE = 'broker-memory'
const RESOLVED: Promise<void> = Promise.resolve()

/** A message accepted by `publish`, waiting for its connection's flush. */
interface Pending {
  topic: string
  payload: Uint8Array
  headers: Record<string, string> | undefined
  /** Dropped by the `loss` knob: acknowledged, never routed. */
  lost: boolean
  /** When it may be routed, ms on the monotonic clock (0: next turn). */
  due: number
  /** Settles a QoS ≥ 1 publish. */
  ack?: { resolve(): void; reject(err: Error): void }
}

/** A small deterministic generator (mulberry32), seeded from the client id, for the `loss` knob. */
function seededRandom(seed: string): () => number {
  let a = 2166136261
  for (let i = 0; i < seed.length; i++) a = Math.imul(a ^ seed.charCodeAt(i), 16777619)
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * One client of a memory bus. Publishes keep their order per connection: they queue and are routed
 * on this connection's next turn (or after `latency`), never inside `publish` itself, so a
 * subscriber that publishes from its callback cannot recurse.
 */
export class MemoryConnection implements BrokerConnection, BusMember {
  private closed = false
  /** Shared by concurrent and later close() calls. */
  private closing: Promise<void> | undefined
  private queue: Pending[] = []
  private timer: NodeJS.Timeout | NodeJS.Immediate | undefined
  private readonly subs = new Set<MemorySubscription>()
  private readonly random: () => number

  constructor(
    private readonly bus: MemoryBus,
    private readonly config: MemoryConfig,
    private readonly ctx: PluginContext,
  ) {
    this.random = seededRandom(ctx.clientId)
    bus.setCapacity(config.capacity)
    bus.join(this)
  }

  publish(topic: string, msg: OutboundMessage): Promise<void> {
    if (this.closed)
      return Promise.reject(new ClosedError(`publish to '${topic}' after close()`, { source: SOURCE }))
    const problem = topicProblem(topic)
    if (problem) return Promise.reject(new PublishError(problem, { source: SOURCE }))
    const qos = msg.qos ?? 0
    if (this.bus.isDown) {
      if (qos === 0) this.bus.stats.dropped++
      return qos === 0
        ? RESOLVED
        : Promise.reject(
            new PublishError(`bus '${this.bus.name}' is down (simulated outage)`, { source: SOURCE }),
          )
    }
    const item: Pending = {
      topic,
      // The caller may reuse its buffer once publish returns; a broker would have copied it too.
      payload: msg.payload.slice(),
      headers: msg.headers === undefined ? undefined : { ...msg.headers },
      lost: this.config.loss > 0 && this.random() < this.config.loss,
      due: this.config.latency > 0 ? performance.now() + this.config.latency : 0,
    }
    if (qos === 0) {
      this.enqueue(item)
      return RESOLVED
    }
    return new Promise<void>((resolve, reject) => {
      item.ack = { resolve, reject }
      this.enqueue(item)
    })
  }

  async subscribe(
    filter: string,
    onMessage: (msg: InboundMessage) => void,
    options: SubscribeOptions = {},
  ): Promise<PausableSubscription> {
    if (this.closed) throw new ClosedError(`subscribe to '${filter}' after close()`, { source: SOURCE })
    const problem = filterProblem(filter)
    if (problem) throw new ConfigError('filter', problem, { source: SOURCE })
    const sub = new MemorySubscription(
      filter,
      compileFilter(filter),
      options.group,
      onMessage,
      this.config.maxQueued,
      {
        logger: this.ctx.logger,
        onOverflow: () => {
          this.bus.stats.dropped++
        },
        detach: (s) => {
          this.subs.delete(s)
          this.bus.remove(s)
        },
      },
    )
    this.subs.add(sub)
    this.bus.add(sub)
    return sub
  }

  close(): Promise<void> {
    if (this.closing) return this.closing
    this.closed = true
    this.cancelTimer()
    this.failQueued(
      () => new ClosedError('connection closed before the message was routed', { source: SOURCE }),
    )
    this.closing = Promise.all([...this.subs].map((s) => s.unsubscribe())).then(() => this.bus.leave(this))
    return this.closing
  }

  /** @internal Reports a bus outage or recovery through the plugin context. */
  status(status: ConnectionStatus, detail?: string): void {
    if (!this.closed) this.ctx.onStatus?.(status, detail)
  }

  /** @internal The bus went down: what was accepted but not yet routed is lost. */
  dropPending(): void {
    this.cancelTimer()
    this.bus.stats.dropped += this.queue.length
    this.failQueued(
      () => new PublishError(`bus '${this.bus.name}' went down (simulated outage)`, { source: SOURCE }),
    )
  }

  private failQueued(error: () => Error): void {
    const queued = this.queue
    this.queue = []
    for (const item of queued) item.ack?.reject(error())
  }

  private cancelTimer(): void {
    if (this.timer === undefined) return
    clearTimeout(this.timer as NodeJS.Timeout)
    clearImmediate(this.timer as NodeJS.Immediate)
    this.timer = undefined
  }

  private enqueue(item: Pending): void {
    this.queue.push(item)
    this.schedule()
  }

  private schedule(): void {
    if (this.timer !== undefined || this.queue.length === 0) return
    const waitMs = this.queue[0]!.due - performance.now()
    this.timer = waitMs > 0 ? setTimeout(this.flush, waitMs) : setImmediate(this.flush)
  }

  private readonly flush = (): void => {
    this.timer = undefined
    const now = performance.now()
    let n = 0
    while (n < this.queue.length && this.queue[n]!.due <= now) n++
    const batch = n === this.queue.length ? this.queue : this.queue.slice(0, n)
    this.queue = n === this.queue.length ? [] : this.queue.slice(n)
    for (const item of batch) {
      if (!item.lost && !this.bus.admit()) {
        this.bus.stats.dropped++
        item.ack?.reject(new PublishError(`bus '${this.bus.name}' is over its capacity`, { source: SOURCE }))
        continue
      }
      if (item.lost) this.bus.stats.dropped++
      else this.bus.route(item.topic, item.payload, item.headers)
      item.ack?.resolve()
    }
    this.schedule()
  }
}
