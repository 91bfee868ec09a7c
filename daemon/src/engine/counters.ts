import type { InvalidReason } from '@iotload/sdk'

/** Message counters; one instance per second and one cumulative. */
export class Counters {
  /** Measured sends (warm-up excluded), including those whose publish failed. */
  sent = 0
  sentWarmup = 0
  /** First arrivals of measured messages. */
  received = 0
  receivedWarmup = 0
  duplicates = 0
  /** First arrivals with a seq below the device's highest so far. */
  reordered = 0
  invalid = 0
  publishErrors = 0
  /** Measured messages whose receive time precedes their send time (cross-host clock skew); not recorded as latency. */
  clockSkew = 0
  disconnects = 0
  reconnects = 0
  readonly invalidByReason: Partial<Record<InvalidReason, number>> = {}

  countInvalid(reason: InvalidReason): void {
    this.invalid++
    this.invalidByReason[reason] = (this.invalidByReason[reason] ?? 0) + 1
  }

  /** Adds another counter set into this one. */
  add(o: Counters): void {
    this.sent += o.sent
    this.sentWarmup += o.sentWarmup
    this.received += o.received
    this.receivedWarmup += o.receivedWarmup
    this.duplicates += o.duplicates
    this.reordered += o.reordered
    this.invalid += o.invalid
    this.publishErrors += o.publishErrors
    this.clockSkew += o.clockSkew
    this.disconnects += o.disconnects
    this.reconnects += o.reconnects
    for (const [k, v] of Object.entries(o.invalidByReason) as Array<[InvalidReason, number]>) {
      this.invalidByReason[k] = (this.invalidByReason[k] ?? 0) + v
    }
  }

  toJSON(): Record<string, unknown> {
    return { ...(this as object), invalidByReason: { ...this.invalidByReason } }
  }
}
