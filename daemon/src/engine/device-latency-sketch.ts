/** Relative width of a bucket: values are reported to within ±1% (the bucket's geometric middle). */
const GAMMA = 1.02
const LOG_GAMMA = Math.log(GAMMA)

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
    const v = Math.max(us, 1)
    if (v > this.max) this.max = v
    this.count++
    const i = Math.floor(Math.log(v) / LOG_GAMMA)
    let c = this.counts
    if (!c) {
      c = new Uint32Array(16)
      this.offset = i - 8
      this.counts = c
    } else if (i < this.offset || i >= this.offset + c.length) {
      const lo = Math.min(this.offset, i - 4)
      const hi = Math.max(this.offset + c.length, i + 5)
      const grown = new Uint32Array(Math.max(hi - lo, c.length + (c.length >> 1)))
      grown.set(c, this.offset - lo)
      this.offset = lo
      this.counts = c = grown
    }
    c[i - this.offset]!++
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
