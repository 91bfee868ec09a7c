import type { InboundMessage, PausableSubscription, PluginLogger } from '@iotload/sdk'

/** The sdk's pausable subscription, the shape the memory plugin's subscriptions have. */
export type { PausableSubscription }

/** Messages delivered per turn when draining a backlog, so a long one does not starve I/O. */
const DRAIN_CHUNK = 1000

/** What a subscription needs from its bus and connection. */
export interface SubscriptionHost {
  /** Counts a message a full backlog had to drop. */
  onOverflow(): void
  /** Forgets the subscription (routing and the owning connection). */
  detach(sub: MemorySubscription): void
  readonly logger: PluginLogger
}

/** One subscription on a bus: a compiled filter, an optional group, and a backlog while paused. */
export class MemorySubscription implements PausableSubscription {
  private backlog: InboundMessage[] = []
  private paused = false
  private active = true
  private drainScheduled = false
  private callbackErrors = 0

  constructor(
    readonly filter: string,
    readonly matches: (topic: string) => boolean,
    readonly group: string | undefined,
    private readonly onMessage: (msg: InboundMessage) => void,
    private readonly maxQueued: number,
    private readonly host: SubscriptionHost,
  ) {}

  /** Whether it currently takes messages straight away (for choosing a group member). */
  get ready(): boolean {
    return this.active && !this.paused && this.backlog.length === 0
  }

  /** Hands over one routed message: delivered now, or held behind a pause or an older backlog. */
  offer(msg: InboundMessage): void {
    if (!this.active) return
    if (this.paused || this.backlog.length > 0) {
      if (this.backlog.length >= this.maxQueued) this.host.onOverflow()
      else this.backlog.push(msg)
      return
    }
    this.invoke(msg)
  }

  pause(): void {
    this.paused = true
  }

  resume(): void {
    if (!this.paused) return
    this.paused = false
    this.scheduleDrain()
  }

  async unsubscribe(): Promise<void> {
    if (!this.active) return
    this.active = false
    this.backlog = []
    this.host.detach(this)
  }

  private scheduleDrain(): void {
    if (this.drainScheduled || this.backlog.length === 0) return
    this.drainScheduled = true
    setImmediate(this.drain)
  }

  private readonly drain = (): void => {
    this.drainScheduled = false
    let n = 0
    // A callback may pause again: what is left waits for the next resume().
    while (this.active && !this.paused && this.backlog.length > 0 && n++ < DRAIN_CHUNK) {
      this.invoke(this.backlog.shift()!)
    }
    if (!this.paused) this.scheduleDrain()
  }

  private invoke(msg: InboundMessage): void {
    try {
      this.onMessage(msg)
    } catch (err) {
      // A throwing consumer must not break the bus for everyone else; say so once.
      if (this.callbackErrors++ === 0)
        this.host.logger.warn('subscriber callback threw; the message is dropped', {
          filter: this.filter,
          error: err instanceof Error ? err.message : String(err),
        })
    }
  }
}
