/**
 * Correlation ids (`{msgid}` in the payload, `consumer.external.correlationPath` on the way back)
 * for flows that drop iotload's envelope and keep only an id. The id names the run, the device
 * and the seq (scenario/msgid.ts), so loss, duplicates and order stay exact for every id that
 * comes back; the send times live here, in a table of bounded size.
 */

/** A send found again: its times and whether it was a warm-up send. */
export interface CorrelatedSend {
  tUs: number
  tiUs: number
  warmup: boolean
}

/**
 * Send times of the messages in flight: per device a ring of `perDevice` slots indexed by seq, so
 * memory is fixed at 24 bytes × window (never more than `window`, at least one slot per device).
 * An id whose slot was reused by a later send of its device (that device sent `perDevice` more
 * since) is `expired`: it still counts as received, without a latency.
 */
export class CorrelationTable {
  readonly perDevice: number
  /** Per slot: seq + 1 (negative for warm-up; 0 empty), send time, intended send time. */
  private readonly slots: Float64Array

  constructor(
    private readonly firstDevice: number,
    private readonly devices: number,
    window: number,
  ) {
    this.perDevice = Math.max(1, Math.floor(window / devices))
    this.slots = new Float64Array(3 * devices * this.perDevice)
  }

  /** Bytes the table holds. */
  get bytes(): number {
    return this.slots.byteLength
  }

  /** Notes a send (the producer calls this through the recorder's `onSent`). */
  put(dev: number, seq: number, tUs: number, tiUs: number, warmup: boolean): void {
    const at = this.slotOf(dev, seq)
    if (at < 0) return
    this.slots[at] = warmup ? -(seq + 1) : seq + 1
    this.slots[at + 1] = tUs
    this.slots[at + 2] = tiUs
  }

  /** The send of (dev, seq), or undefined when its slot holds another (later) send or none. */
  get(dev: number, seq: number): CorrelatedSend | undefined {
    const at = this.slotOf(dev, seq)
    if (at < 0) return undefined
    const mark = this.slots[at]!
    if (Math.abs(mark) !== seq + 1) return undefined
    return { tUs: this.slots[at + 1]!, tiUs: this.slots[at + 2]!, warmup: mark < 0 }
  }

  private slotOf(dev: number, seq: number): number {
    const k = dev - this.firstDevice
    if (k < 0 || k >= this.devices) return -1
    return 3 * (k * this.perDevice + (seq % this.perDevice))
  }
}
