/** Relative width of a bucket: values are reported to within ±1% (the bucket's geometric middle). */
const GAMMA = 1.02
const LOG_GAMMA = Math.log(GAMMA)
/** Bucket of the largest finite double: no latency needs more buckets than this (about 36k). */
const MAX_INDEX = Math.floor(Math.log(Number.MAX_VALUE) / LOG_GAMMA)

/**
 * A small per-device latency histogram: logarithmic buckets 2% wide, stored only over the span of
 * values the device actually produced (about 1 KB for latencies spread over two decades). The
 * fleet-wide figures stay in HdrHistograms at 3 significant digits; this one ranks devices.
 */
export class DeviceLatencySketch {
  private offset = 0
  private counts: Uint32Array | undefined
  count = 0
  max = 0

  /** Records a latency in µs (values below 1 µs count as 1 µs). */
  record(us: number): void {
    const v = Number.isNaN(us) ? 1 : Math.max(us, 1) // NaN too: never a bucket index
    if (v > this.max) this.max = v
    this.count++
    const i = Math.min(Math.floor(Math.log(v) / LOG_GAMMA), MAX_INDEX)
    let c = this.counts
    if (!c) {
      c = new Uint32Array(16)
      this.offset = Math.max(0, i - 8)
      this.counts = c
    } else if (i < this.offset || i >= this.offset + c.length) c = this.grow(c, i)
    c[i - this.offset]!++
  }

  /** Room for bucket `i`, plus half the current span as slack on the side that ran out of it. */
  private grow(c: Uint32Array, i: number): Uint32Array {
    const slack = Math.max(4, c.length >> 1)
    const lo = i < this.offset ? Math.max(0, i - slack) : this.offset
    const hi = i < this.offset ? this.offset + c.length : Math.min(MAX_INDEX + 1, i + slack)
    const grown = new Uint32Array(hi - lo)
    grown.set(c, this.offset - lo)
    this.offset = lo
    this.counts = grown
    return grown
  }

  /** Buckets allocated: bounded by the span of values recorded, whatever their order. */
  get buckets(): number {
    return this.counts?.length ?? 0
  }

  /** The value at percentile `p` (0–100), never above the largest value recorded; 0 when empty. */
  percentile(p: number): number {
    const c = this.counts
    if (!c || this.count === 0) return 0
    const rank = Math.max(1, Math.ceil((p / 100) * this.count - 1e-9))
    let seen = 0
    for (let k = 0; k < c.length; k++) {
      seen += c[k]!
      if (seen >= rank) return Math.min(Math.round(GAMMA ** (this.offset + k + 0.5)), this.max)
    }
    return this.max
  }
}
