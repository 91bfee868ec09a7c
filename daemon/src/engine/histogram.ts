import * as hdr from 'hdr-histogram-js'

/** Latencies are µs; 1 µs to 1 hour at 3 significant digits, as DESIGN requires. */
export const LOWEST_US = 1
export const HIGHEST_US = 3_600_000_000

/** Percentile figures of one histogram, in µs. */
export interface LatencyStats {
  count: number
  min: number
  mean: number
  p50: number
  p90: number
  p99: number
  p999: number
  max: number
}

/** An HdrHistogram wrapper whose `record` never throws: out-of-range values clamp and are counted. */
export class LatencyHistogram {
  readonly h: hdr.Histogram
  /** Values above one hour, recorded as one hour. */
  overflow = 0

  constructor(bitBucketSize: 32 | 64 = 32) {
    this.h = hdr.build({
      bitBucketSize,
      autoResize: false,
      lowestDiscernibleValue: LOWEST_US,
      highestTrackableValue: HIGHEST_US,
      numberOfSignificantValueDigits: 3,
      useWebAssembly: false,
    })
  }

  /** Records a latency in µs. Callers filter negatives (clock skew) before this. */
  record(us: number): void {
    let v = us < LOWEST_US ? LOWEST_US : Math.round(us)
    if (v > HIGHEST_US) {
      v = HIGHEST_US
      this.overflow++
    }
    try {
      this.h.recordValue(v)
    } catch {
      this.overflow++
    }
  }

  get count(): number {
    return this.h.totalCount
  }

  add(other: LatencyHistogram): void {
    this.h.add(other.h)
    this.overflow += other.overflow
  }

  reset(): void {
    this.h.reset()
    this.overflow = 0
  }

  stats(): LatencyStats {
    return statsOf(this.h)
  }

  /** Compressed base64 (the HdrHistogram V2 encoding), mergeable later and across daemons. */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.h)
  }
}

/** Percentiles of any hdr histogram; zeros when empty. */
export function statsOf(h: hdr.Histogram): LatencyStats {
  if (h.totalCount === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 }
  return {
    count: h.totalCount,
    min: h.minNonZeroValue,
    mean: Math.round(h.mean * 10) / 10,
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
  }
}

/** Decodes an encoded histogram (from the store or another daemon). */
export function decodeHistogram(encoded: string): hdr.Histogram {
  return hdr.decodeFromCompressedBase64(encoded, 64, false)
}

/** Merges encoded histograms exactly, e.g. per-second rows into a range, or daemons into a cluster. */
export function mergeEncoded(encoded: string[]): hdr.Histogram {
  const total = hdr.build({
    bitBucketSize: 64,
    autoResize: true,
    lowestDiscernibleValue: LOWEST_US,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
    useWebAssembly: false,
  })
  for (const e of encoded) total.add(decodeHistogram(e))
  return total
}
