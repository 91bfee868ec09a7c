/** Seconds of send time the estimate looks back over (before the allowance). */
export const LOSS_WINDOW_S = 10
/** Ring of per-second buckets: the window plus the longest allowance, with room to spare. */
const RING = 64
const MIN_ALLOWANCE_US = 250_000
const MAX_ALLOWANCE_US = 30_000_000

/**
 * A per-second loss signal for messages without sequence numbers: messages sent during the last
 * `LOSS_WINDOW_S` seconds that are older than the allowance (twice the latency measured lately,
 * at least 250 ms) and have not arrived. Sends and arrivals are bucketed by their *send* second, so
 * a slow path (a backlog) raises the allowance, not the estimate. It is an estimate: a message
 * later than the allowance counts until it arrives, and a duplicate hides one loss in its second.
 */
export class LossEstimate {
  private readonly keys = new Float64Array(RING).fill(-1)
  private readonly sent = new Float64Array(RING)
  private readonly arrived = new Float64Array(RING)
  /** Current allowance for in-flight messages, µs. */
  allowanceUs = 1_000_000

  private slot(second: number, create: boolean): number {
    const i = second % RING
    if (this.keys[i] === second) return i
    // A slot holds one second at a time; an arrival for a second already recycled is dropped.
    if (!create && this.keys[i]! > second) return -1
    this.keys[i] = second
    this.sent[i] = 0
    this.arrived[i] = 0
    return i
  }

  onSent(tUs: number): void {
    this.sent[this.slot(Math.floor(tUs / 1e6), true)]!++
  }

  /** A first arrival of a message sent at `tUs`. */
  onArrival(tUs: number): void {
    const i = this.slot(Math.floor(tUs / 1e6), false)
    if (i >= 0) this.arrived[i]!++
  }

  /** Adapts the allowance to the latency of the last second (its p99, µs); none arrived: unchanged. */
  noteLatency(p99Us: number, count: number): void {
    if (count === 0) return
    this.allowanceUs = Math.min(MAX_ALLOWANCE_US, Math.max(MIN_ALLOWANCE_US, 2 * p99Us))
  }

  /** Messages sent in the window before `nowUs − allowance` that have not arrived. */
  estimate(nowUs: number): number {
    const due = Math.floor((nowUs - this.allowanceUs) / 1e6) // seconds before this one are complete
    let missing = 0
    for (let s = due - LOSS_WINDOW_S; s < due; s++) {
      const i = s % RING
      if (s < 0 || this.keys[i] !== s) continue
      missing += Math.max(0, this.sent[i]! - this.arrived[i]!)
    }
    return missing
  }
}
