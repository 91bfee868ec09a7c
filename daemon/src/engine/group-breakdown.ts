import type { ProducerGroup } from '../scenario/schema.ts'
import type { DeviceFigure } from './device-figures.ts'
import type { LatencyStats } from './histogram.ts'
import { LatencyStream } from './latency-stream.ts'

/** What the recorder tells a breakdown: measured sends and first arrivals, by device number. */
export interface GroupTap {
  onSent(dev: number, warmup: boolean): void
  /** A first arrival of a measured message; `rawUs` undefined when it has no latency (clock skew). */
  onMeasured(dev: number, rawUs: number | undefined, coUs: number | undefined): void
}

/** One group's figures for one second (live lines). */
export interface GroupSecond {
  group: string
  sent: number
  received: number
  /** e2e latency of the second, µs (raw). */
  p50: number
  p99: number
}

/** One group's figures over the measured part of a run. Latencies in µs. */
export interface GroupSummary {
  group: string
  devices: number
  firstDevice: number
  sent: number
  received: number
  lost: number
  undelivered: number
  duplicates: number
  reordered: number
  /** Sends planned per second over the measured time. */
  targetRate: number
  latency: { raw: LatencyStats; co?: LatencyStats }
}

class GroupState {
  sent = 0
  received = 0
  readonly e2e: LatencyStream

  constructor(
    readonly name: string,
    readonly firstDevice: number,
    readonly devices: number,
  ) {
    this.e2e = new LatencyStream(`e2e:${name}`, true)
  }
}

/**
 * Results per device group (`producers:`): each group's own e2e histograms (raw and corrected)
 * and per-second counts, fed by the recorder; its loss, duplicates and reordering are the sums
 * of its devices' exact figures at the end.
 */
export class GroupBreakdown implements GroupTap {
  private readonly groups: GroupState[]
  /** First device of each group, ascending, for a binary search. */
  private readonly starts: number[]

  constructor(groups: ProducerGroup[]) {
    this.groups = groups
      .map((g) => new GroupState(g.name, g.config.firstDevice, g.config.devices))
      .sort((a, b) => a.firstDevice - b.firstDevice)
    this.starts = this.groups.map((g) => g.firstDevice)
  }

  /** The group a device number belongs to; undefined outside every group (another run's device). */
  private groupOf(dev: number): GroupState | undefined {
    let lo = 0
    let hi = this.starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.starts[mid]! <= dev) lo = mid
      else hi = mid - 1
    }
    const g = this.groups[lo]
    return g && dev >= g.firstDevice && dev < g.firstDevice + g.devices ? g : undefined
  }

  onSent(dev: number, warmup: boolean): void {
    if (warmup) return
    const g = this.groupOf(dev)
    if (g) g.sent++
  }

  onMeasured(dev: number, rawUs: number | undefined, coUs: number | undefined): void {
    const g = this.groupOf(dev)
    if (!g) return
    g.received++
    if (rawUs !== undefined) g.e2e.record(rawUs, coUs)
  }

  /** Closes a second: each group's measured sends, arrivals and e2e percentiles in it. */
  rollSecond(): GroupSecond[] {
    return this.groups.map((g) => {
      const snap = g.e2e.rollSecond()
      const out = { group: g.name, sent: g.sent, received: g.received, p50: snap.raw.p50, p99: snap.raw.p99 }
      g.sent = 0
      g.received = 0
      return out
    })
  }

  /**
   * Each group's totals: counts summed over its devices' figures (exact), latency from its own
   * cumulative histograms. Call after the last `rollSecond`.
   * @param planned sends planned per second over the measured time, per group name
   */
  summary(devices: DeviceFigure[], planned: (group: string) => number): GroupSummary[] {
    const sums = new Map<
      GroupState,
      Omit<GroupSummary, 'group' | 'devices' | 'firstDevice' | 'latency' | 'targetRate'>
    >()
    for (const g of this.groups)
      sums.set(g, { sent: 0, received: 0, lost: 0, undelivered: 0, duplicates: 0, reordered: 0 })
    for (const d of devices) {
      const g = this.groupOf(d.device)
      const s = g && sums.get(g)
      if (!s) continue
      s.sent += d.sent
      s.received += d.received
      s.lost += d.lost
      s.undelivered += d.undelivered
      s.duplicates += d.duplicates
      s.reordered += d.reordered
    }
    return this.groups.map((g) => {
      const c = g.e2e.cumulative()
      return {
        group: g.name,
        devices: g.devices,
        firstDevice: g.firstDevice,
        ...sums.get(g)!,
        targetRate: Math.round(planned(g.name) * 1000) / 1000,
        latency: { raw: c.raw, ...(c.co ? { co: c.co } : {}) },
      }
    })
  }
}
