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

/** Internals of the JS histogram implementation used for the single-pass scan. */
interface CountsAccess {
  countsArrayLength: number
  getCountAtIndex(i: number): number
  valueFromIndex(i: number): number
  highestEquivalentValue(v: number): number
  medianEquivalentValue(v: number): number
}

const PERCENTILES = [50, 90, 99, 99.9] as const

/**
 * Percentiles, mean and extremes of an hdr histogram in ONE pass over its counts (calling
 * getValueAtPercentile per figure rescans ~24k buckets each time: milliseconds per second of a
 * run, stolen from the event loop). Same rounding rule as getValueAtPercentile. Zeros when empty.
 */
export function statsOf(h: hdr.Histogram): LatencyStats {
  const total = h.totalCount
  if (total === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 }
  const c = h as unknown as CountsAccess
  const targets = PERCENTILES.map((p) => Math.max(1, Math.ceil((p / 100) * total - 1e-9)))
  const found: number[] = []
  let cumulative = 0
  let sum = 0
  for (let i = 0; i < c.countsArrayLength && cumulative < total; i++) {
    const n = c.getCountAtIndex(i)
    if (n === 0) continue
    cumulative += n
    const value = c.valueFromIndex(i)
    sum += c.medianEquivalentValue(value) * n
    while (found.length < targets.length && cumulative >= targets[found.length]!)
      found.push(c.highestEquivalentValue(value))
  }
  // A bucket's highest equivalent value can lie above the largest value recorded: that is not a
  // measurement, so no percentile is reported above the max.
  const max = h.maxValue
  const at = (k: number) => Math.min(found[k] ?? max, max)
  return {
    count: total,
    min: h.minNonZeroValue,
    mean: Math.round((sum / total) * 10) / 10,
    p50: at(0),
    p90: at(1),
    p99: at(2),
    p999: at(3),
    max,
  }
}

/** The compressed base64 V2 encoding of any histogram (a merged one, say). */
export function encodeHistogram(h: hdr.Histogram): string {
  return hdr.encodeIntoCompressedBase64(h)
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
