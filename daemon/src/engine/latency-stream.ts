import { LatencyHistogram, type LatencyStats } from './histogram.ts'

/** Snapshot of one stream for one second, or cumulatively. */
export interface StreamSnapshot {
  raw: LatencyStats
  co: LatencyStats | undefined
  rawHist: string
  coHist: string | undefined
}

/**
 * A named latency series (`e2e`, `publish-ack`, a leg): raw latency and, where an intended time
 * exists, the coordinated-omission-corrected latency, side by side. Values go into a per-second
 * interval histogram; `rollSecond` folds it into the cumulative one.
 */
export class LatencyStream {
  private readonly intervalRaw = new LatencyHistogram(32)
  private readonly intervalCo: LatencyHistogram | undefined
  readonly totalRaw = new LatencyHistogram(64)
  readonly totalCo: LatencyHistogram | undefined

  constructor(
    readonly name: string,
    readonly corrected: boolean,
  ) {
    if (corrected) {
      this.intervalCo = new LatencyHistogram(32)
      this.totalCo = new LatencyHistogram(64)
    }
  }

  record(rawUs: number, coUs?: number): void {
    this.intervalRaw.record(rawUs)
    if (this.intervalCo && coUs !== undefined) this.intervalCo.record(coUs)
  }

  /** Closes the current second: returns its snapshot and adds it to the cumulative histograms. */
  rollSecond(): StreamSnapshot {
    const snap = snapshotOf(this.intervalRaw, this.intervalCo)
    this.totalRaw.add(this.intervalRaw)
    this.intervalRaw.reset()
    if (this.intervalCo && this.totalCo) {
      this.totalCo.add(this.intervalCo)
      this.intervalCo.reset()
    }
    return snap
  }

  cumulative(): StreamSnapshot {
    return snapshotOf(this.totalRaw, this.totalCo)
  }
}

function snapshotOf(raw: LatencyHistogram, co: LatencyHistogram | undefined): StreamSnapshot {
  return {
    raw: raw.stats(),
    co: co?.stats(),
    rawHist: raw.encode(),
    coHist: co?.encode(),
  }
}
