import type { LatencyStats } from './histogram.ts'
import { LatencyStream } from './latency-stream.ts'

/** Subscribers of a fan-out are numbered 0 … MAX_LANES-1 (consumer.connections is at most 1000). */
const MAX_LANES = 1024

/**
 * The sequence-tracker key of `dev` as fan-out subscriber `lane` (≥ 1) sees it: negative, so it
 * never meets a device number (lane 0 keeps the device number itself).
 */
export function laneKey(dev: number, lane: number): number {
  return -(dev * MAX_LANES + lane) - 1
}

/** What the recorder tells a fan-out breakdown about each delivery. */
export interface LaneTap {
  onDuplicate(lane: number): void
  /** A first delivery of a measured message to `lane`; `rawUs` undefined without a latency (clock skew). */
  onMeasured(lane: number, late: boolean, rawUs: number | undefined, coUs: number | undefined): void
}

/** One subscriber's figures for one second (live lines). */
export interface SubscriberSecond {
  subscriber: number
  received: number
  /** e2e latency of the second, µs (raw). */
  p99: number
}

/** One subscriber's figures over the measured part of a run. Latencies in µs. */
export interface SubscriberSummary {
  subscriber: number
  received: number
  /** Measured messages missing behind a later delivery to this subscriber (sequence gaps). */
  lost: number
  /** Measured messages sent after this subscriber's last delivery from their device, never delivered to it. */
  undelivered: number
  duplicates: number
  reordered: number
  latency: { raw: LatencyStats; co?: LatencyStats }
}

class Lane {
  received = 0
  secondReceived = 0
  duplicates = 0
  reordered = 0
  readonly e2e: LatencyStream

  constructor(readonly index: number) {
    this.e2e = new LatencyStream(`e2e:sub${index}`, true)
  }
}

/**
 * Per-subscriber accounting of a fan-out (`consumer.mode: fanout`): every subscriber should get
 * every message, so each is held to the full count of measured sends. Deliveries, duplicates and
 * reordering are counted per subscriber as they arrive (the recorder keeps one sequence window per
 * subscriber); what is missing splits into lost and undelivered with that subscriber's sequences.
 */
export class FanoutBreakdown implements LaneTap {
  private readonly lanes: Lane[]

  constructor(subscribers: number) {
    if (subscribers > MAX_LANES) throw new RangeError(`at most ${MAX_LANES} fan-out subscribers`)
    this.lanes = Array.from({ length: subscribers }, (_, i) => new Lane(i))
  }

  onDuplicate(lane: number): void {
    const l = this.lanes[lane]
    if (l) l.duplicates++
  }

  onMeasured(lane: number, late: boolean, rawUs: number | undefined, coUs: number | undefined): void {
    const l = this.lanes[lane]
    if (!l) return
    l.received++
    l.secondReceived++
    if (late) l.reordered++
    if (rawUs !== undefined) l.e2e.record(rawUs, coUs)
  }

  rollSecond(): SubscriberSecond[] {
    return this.lanes.map((l) => {
      const snap = l.e2e.rollSecond()
      const out = { subscriber: l.index, received: l.secondReceived, p99: snap.raw.p99 }
      l.secondReceived = 0
      return out
    })
  }

  /**
   * Each subscriber's totals against the measured sends. Call after the last `rollSecond`.
   * @param undelivered measured sends after the subscriber's last delivery from their device
   */
  summary(sent: number, undelivered: (lane: number) => number): SubscriberSummary[] {
    return this.lanes.map((l) => {
      const missing = Math.max(0, sent - l.received)
      const tail = Math.min(missing, undelivered(l.index))
      const c = l.e2e.cumulative()
      return {
        subscriber: l.index,
        received: l.received,
        lost: missing - tail,
        undelivered: tail,
        duplicates: l.duplicates,
        reordered: l.reordered,
        latency: { raw: c.raw, ...(c.co ? { co: c.co } : {}) },
      }
    })
  }
}
