import { DeviceLatencySketch } from './device-latency-sketch.ts'
import type { SequenceTracker } from './sequence-tracker.ts'

/** How many devices the summary lists per ranking (the store keeps every device). */
export const WORST_DEVICES = 10

/** One device's figures over the measured part of a run (latencies in µs, raw e2e). */
export interface DeviceFigure {
  device: number
  sent: number
  received: number
  /** Measured messages missing behind a later arrival of the device (or all missing, without seqs). */
  lost: number
  /** Measured messages sent after the device's last arrival and not received by the end. */
  undelivered: number
  duplicates: number
  reordered: number
  /** Latencies recorded, and their p50, p99 and max (to within ±1%). */
  count: number
  p50: number
  p99: number
  max: number
}

/** The per-device part of a summary: how many devices were tracked and the worst of them. */
export interface DevicesSummary {
  tracked: number
  /** Up to `WORST_DEVICES` each: by missing messages (lost + undelivered), duplicates, and p99. */
  worst: { loss: DeviceFigure[]; duplicates: DeviceFigure[]; p99: DeviceFigure[] }
}

/** Per-device counters; one object per device that sent or delivered anything. */
class DeviceState {
  sent = 0
  /** First seq sent after warm-up, and the last seq sent (-1: none). */
  firstMeasuredSeq = -1
  lastSentSeq = -1
  received = 0
  duplicates = 0
  reordered = 0
  latency: DeviceLatencySketch | undefined
}

/**
 * Loss, duplicates, reordering and latency per device: the producer's sends and the consumer's
 * arrivals meet here (one process), so a device's loss is exact wherever its arrivals carry it.
 */
export class DeviceFigures {
  private readonly devices = new Map<number, DeviceState>()

  private state(dev: number): DeviceState {
    let d = this.devices.get(dev)
    if (!d) {
      d = new DeviceState()
      this.devices.set(dev, d)
    }
    return d
  }

  /** A send of `dev`'s `seq`. */
  onSent(dev: number, seq: number, warmup: boolean): void {
    const d = this.state(dev)
    d.lastSentSeq = seq
    if (warmup) return
    d.sent++
    if (d.firstMeasuredSeq < 0) d.firstMeasuredSeq = seq
  }

  /** A device's sends, counted elsewhere (a worker thread of the same run): as if `onSent` had seen them. */
  absorbSends(dev: number, sent: number, firstMeasuredSeq: number, lastSentSeq: number): void {
    if (lastSentSeq < 0) return
    const d = this.state(dev)
    d.sent += sent
    d.lastSentSeq = Math.max(d.lastSentSeq, lastSentSeq)
    if (firstMeasuredSeq >= 0 && (d.firstMeasuredSeq < 0 || firstMeasuredSeq < d.firstMeasuredSeq))
      d.firstMeasuredSeq = firstMeasuredSeq
  }

  /**
   * Whether `dev`'s `seq` was a warm-up send, from the send record; undefined when this process
   * never sent it (another run's device, or a seq not sent yet).
   */
  isWarmupSeq(dev: number, seq: number): boolean | undefined {
    const d = this.devices.get(dev)
    if (!d || seq > d.lastSentSeq) return undefined
    return d.firstMeasuredSeq < 0 || seq < d.firstMeasuredSeq
  }

  /** A first arrival of a measured message; `latencyUs` undefined when it has none (clock skew, expired id). */
  onMeasured(dev: number, late: boolean, latencyUs: number | undefined): void {
    const d = this.state(dev)
    d.received++
    if (late) d.reordered++
    if (latencyUs === undefined) return
    d.latency ??= new DeviceLatencySketch()
    d.latency.record(latencyUs)
  }

  onDuplicate(dev: number): void {
    this.state(dev).duplicates++
  }

  get size(): number {
    return this.devices.size
  }

  /**
   * Every device's figures. With `sequences` (seqs arrived), what is missing splits into lost
   * (gaps) and undelivered (after the device's last arrival), as for the whole run.
   */
  figures(sequences: SequenceTracker | undefined): DeviceFigure[] {
    const out: DeviceFigure[] = []
    for (const [device, d] of this.devices) {
      const missing = Math.max(0, d.sent - d.received)
      let undelivered = 0
      if (sequences && d.firstMeasuredSeq >= 0) {
        const from = Math.max(d.firstMeasuredSeq, sequences.highest(device) + 1)
        undelivered = Math.min(missing, Math.max(0, d.lastSentSeq - from + 1))
      }
      const l = d.latency
      out.push({
        device,
        sent: d.sent,
        received: d.received,
        lost: missing - undelivered,
        undelivered,
        duplicates: d.duplicates,
        reordered: d.reordered,
        count: l?.count ?? 0,
        p50: l?.percentile(50) ?? 0,
        p99: l?.percentile(99) ?? 0,
        max: l?.max ?? 0,
      })
    }
    return out.sort((a, b) => a.device - b.device)
  }
}

/** The worst `n` devices by missing messages, duplicates and p99 (devices with none are left out). */
export function worstDevices(all: DeviceFigure[], n = WORST_DEVICES): DevicesSummary {
  const top = (keep: (d: DeviceFigure) => boolean, key: (d: DeviceFigure) => number) =>
    all
      .filter(keep)
      .sort((a, b) => key(b) - key(a) || a.device - b.device)
      .slice(0, n)
  return {
    tracked: all.length,
    worst: {
      loss: top(
        (d) => d.lost + d.undelivered > 0,
        (d) => d.lost + d.undelivered,
      ),
      duplicates: top(
        (d) => d.duplicates > 0,
        (d) => d.duplicates,
      ),
      p99: top(
        (d) => d.count > 0,
        (d) => d.p99,
      ),
    },
  }
}
