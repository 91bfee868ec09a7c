import type { BridgeStats, InboundMessage, Subscription } from '@iotload/sdk'

/** An arrival waiting for a free slot. */
interface Waiting {
  msg: InboundMessage
  hopIn: number
  target: string
}

/** How much work the bridge takes on at once. */
export interface AdmissionLimits {
  /** Messages between receipt and publish settlement. */
  concurrency: number
  /** Arrivals held while every slot is taken; beyond that they are dropped and counted. */
  maxQueued: number
}

/**
 * The bridge's back-pressure: at most `concurrency` messages in flight; later arrivals wait in a
 * FIFO bounded by `maxQueued`, and while any wait the subscription is paused if it declares the
 * capability (`Subscription.pause`), so the backlog stays in the broker. Beyond the bound arrivals
 * are dropped and counted (`overflowDropped`), never buffered without limit.
 */
export class Admission {
  /** FIFO of waiting arrivals: an array with a moving head, compacted now and then. */
  private queue: Waiting[] = []
  private head = 0
  private paused = false
  /** Set once subscribed; paused and resumed as the queue fills and empties. */
  subscription: Subscription | undefined

  constructor(
    private readonly stats: BridgeStats,
    private readonly limits: AdmissionLimits,
    /** Processes one admitted message; must call `release()` exactly once when it settled. */
    private readonly process: (msg: InboundMessage, hopIn: number, target: string) => void,
  ) {}

  /** One arrival: processed now if a slot is free, else queued, else dropped. */
  offer(msg: InboundMessage, hopIn: number, target: string): void {
    const stats = this.stats
    if (stats.inFlight < this.limits.concurrency) {
      this.admit(msg, hopIn, target)
      return
    }
    if (stats.queued >= this.limits.maxQueued) {
      stats.overflowDropped++
      return
    }
    this.queue.push({ msg, hopIn, target })
    stats.queued++
    if (stats.queued > stats.queuedPeak) stats.queuedPeak = stats.queued
    if (!this.paused && this.subscription?.pause) {
      this.paused = true
      this.subscription.pause()
    }
  }

  /** A message settled (forwarded, failed or dropped): its slot goes to the oldest waiting arrival. */
  release(): void {
    const stats = this.stats
    stats.inFlight--
    while (stats.inFlight < this.limits.concurrency && this.head < this.queue.length) {
      const w = this.queue[this.head]!
      this.queue[this.head++] = undefined as unknown as Waiting
      stats.queued--
      this.admit(w.msg, w.hopIn, w.target)
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
    if (this.paused && stats.queued === 0) {
      this.paused = false
      this.subscription?.resume?.()
    }
  }

  private admit(msg: InboundMessage, hopIn: number, target: string): void {
    const stats = this.stats
    stats.inFlight++
    if (stats.inFlight > stats.inFlightPeak) stats.inFlightPeak = stats.inFlight
    this.process(msg, hopIn, target)
  }
}
