import type { Histogram } from 'hdr-histogram-js'
import { mergeEncoded } from '../engine/histogram.ts'
import { STREAM } from '../engine/recorder.ts'
import type { ResultReader } from '../store/result-store.ts'

/** One point of the percentile spectrum: the value (µs) at or below which `percentile` % of samples lie. */
export interface PercentilePoint {
  percentile: number
  value: number
}

/** The spectrum of one stream of a run. */
export interface PercentileSpectrum {
  stream: string
  kind: 'raw' | 'co'
  /** `summary`: the run's cumulative histogram; `series`: merged per-second rows (run unfinished or interrupted). */
  source: 'summary' | 'series'
  count: number
  points: PercentilePoint[]
}

/** Percentiles people quote, always present when the sample count resolves them. */
const NAMED = [50, 90, 99, 99.9, 99.99, 99.999]

/**
 * HdrHistogram's percentile ticks: `ticksPerHalf` steps in each halving of the distance to 100 %,
 * so the tail gets as much resolution as the body, plus the named ones, up to the last sample, then 100.
 */
export function percentileSpectrum(h: Histogram, maxUs = h.maxValue, ticksPerHalf = 5): PercentilePoint[] {
  if (h.totalCount === 0) return []
  const last = 100 * (1 - 1 / h.totalCount)
  const ps = new Set<number>(NAMED.filter((p) => p <= last))
  for (let half = 0; half < 40; half++) {
    const lo = 100 - 100 / 2 ** half
    if (lo > last) break
    for (let t = 0; t < ticksPerHalf; t++) {
      const p = lo + (100 / 2 ** (half + 1)) * (t / ticksPerHalf)
      if (p > last) break
      ps.add(Math.round(p * 1e6) / 1e6)
    }
  }
  const points = [...ps]
    .sort((a, b) => a - b)
    .map((p) => ({ percentile: p, value: Math.min(h.getValueAtPercentile(p), maxUs) }))
  points.push({ percentile: 100, value: maxUs })
  return points
}

/** Which part of a run to merge: seconds since the schedule started, both inclusive. */
export interface SecondRange {
  from?: number | undefined
  to?: number | undefined
}

/** A stream's histogram, merged exactly, and where it came from. */
export interface MergedHistogram {
  histogram: Histogram
  source: PercentileSpectrum['source']
  /**
   * The largest value recorded, exactly as the summary (or the seconds) stored it: an encoded
   * histogram keeps only its bucket, whose highest equivalent value can lie up to one unit of
   * resolution above. Spectra are clamped to this, so they end where the summary's max does.
   */
  maxUs: number
}

/**
 * The histogram of a stream: the stored cumulative one, or, when a range is asked for or the run
 * has no summary yet (running, interrupted), its measured per-second rows in the range merged
 * exactly. Undefined when the stream has no data there.
 */
export function runHistogram(
  store: ResultReader,
  runId: string,
  stream: string,
  kind: 'raw' | 'co',
  range: SecondRange = {},
): MergedHistogram | undefined {
  const whole = range.from === undefined && range.to === undefined
  const summary = whole ? store.getSummaryStreams(runId).find((s) => s.stream === stream) : undefined
  if (summary) {
    const e = kind === 'raw' ? summary.rawHist : summary.coHist
    if (!e) return undefined
    const histogram = mergeEncoded([e])
    const stored = (kind === 'raw' ? summary.raw : summary.co)?.max
    return { histogram, source: 'summary', maxUs: exactMax(histogram, stored) }
  }
  const rows = measuredRows(store, runId, stream, range)
  const encoded = rows.map((r) => (kind === 'raw' ? r.rawHist : r.coHist)).filter((e): e is string => !!e)
  if (encoded.length === 0) return undefined
  const histogram = mergeEncoded(encoded)
  // A loop, not Math.max(...rows): a spread of more than ~125,000 seconds overflows the stack.
  let stored = 0
  for (const r of rows) stored = Math.max(stored, kind === 'raw' ? r.raw.max : (r.co?.max ?? 0))
  return { histogram, source: 'series', maxUs: exactMax(histogram, stored) }
}

function measuredRows(store: ResultReader, runId: string, stream: string, range: SecondRange) {
  return store
    .getSeries(runId, {
      stream,
      ...(range.from !== undefined ? { from: range.from } : {}),
      ...(range.to !== undefined ? { to: range.to } : {}),
    })
    .filter((r) => !r.warmup)
}

/** Seconds read from the store at once, and merged between two turns of the event loop. */
const SECONDS_PER_READ = 512
const ROWS_PER_TURN = 32

/**
 * A range's stored rows (warm-up included), a window of seconds at a time. Rows are written every
 * second, so an empty window is the end; what lies beyond one (seconds missing) is read in one go.
 */
function* rowWindows(store: ResultReader, runId: string, stream: string, range: SecondRange) {
  const end = range.to ?? Number.MAX_SAFE_INTEGER
  for (let from = range.from ?? 0; from <= end; from += SECONDS_PER_READ) {
    const to = Math.min(end, from + SECONDS_PER_READ - 1)
    const rows = store.getSeries(runId, { stream, from, to })
    if (rows.length > 0) {
      yield rows
      continue
    }
    if (to < end)
      yield store.getSeries(runId, { stream, from: to + 1, ...(range.to !== undefined ? { to: end } : {}) })
    return
  }
}

/**
 * `runHistogram` for request handlers: the same histogram, read and merged a few seconds per turn
 * of the event loop. A range over a long run merges thousands of seconds (~0.25 ms each) and the
 * runs of this daemon measure on the same loop: merged in one go, three reads of a 20,000 s range
 * put seconds of send lag into a run measuring beside them.
 */
export async function runHistogramYielding(
  store: ResultReader,
  runId: string,
  stream: string,
  kind: 'raw' | 'co',
  range: SecondRange = {},
): Promise<MergedHistogram | undefined> {
  const whole = range.from === undefined && range.to === undefined
  if (whole && store.getSummaryStreams(runId).some((s) => s.stream === stream))
    return runHistogram(store, runId, stream, kind)
  let histogram: Histogram | undefined
  let stored = 0
  for (const window of rowWindows(store, runId, stream, range)) {
    const rows = window.filter((r) => !r.warmup)
    for (let i = 0; i < rows.length; i += ROWS_PER_TURN) {
      await new Promise((r) => setImmediate(r))
      const chunk = rows.slice(i, i + ROWS_PER_TURN)
      for (const r of chunk) stored = Math.max(stored, kind === 'raw' ? r.raw.max : (r.co?.max ?? 0))
      const encoded = chunk
        .map((r) => (kind === 'raw' ? r.rawHist : r.coHist))
        .filter((e): e is string => !!e)
      if (encoded.length === 0) continue
      const part = mergeEncoded(encoded)
      if (histogram) histogram.add(part)
      else histogram = part
    }
  }
  if (!histogram) return undefined
  return { histogram, source: 'series', maxUs: exactMax(histogram, stored) }
}

/** A merged histogram's percentile spectrum, as `runPercentiles` answers it. */
export function spectrumOf(stream: string, kind: 'raw' | 'co', merged: MergedHistogram): PercentileSpectrum {
  const h = merged.histogram
  return {
    stream,
    kind,
    source: merged.source,
    count: h.totalCount,
    points: percentileSpectrum(h, merged.maxUs),
  }
}

/**
 * The stored exact max when it lies within the histogram's resolution of its max (3 significant
 * digits: the same bucket), else the histogram's own.
 */
export function exactMax(h: Histogram, stored: number | undefined): number {
  if (stored === undefined || stored <= 0 || h.totalCount === 0) return h.maxValue
  return stored <= h.maxValue && h.maxValue - stored < Math.max(1, h.maxValue / 1000) ? stored : h.maxValue
}

/** The percentile spectrum of a stream (see `runHistogram` for where it comes from). */
export function runPercentiles(
  store: ResultReader,
  runId: string,
  stream: string,
  kind: 'raw' | 'co',
  range: SecondRange = {},
): PercentileSpectrum | undefined {
  const merged = runHistogram(store, runId, stream, kind, range)
  return merged ? spectrumOf(stream, kind, merged) : undefined
}

/**
 * HdrHistogram's percentile distribution text (the `.hgrm` its plotter reads: value, percentile,
 * total count, 1/(1−percentile)), values in µs. Written from the same points as the JSON spectrum,
 * so both agree and neither reports a value above the largest one recorded.
 */
export function percentileDistributionText(h: Histogram, maxUs = h.maxValue): string {
  const pad = (s: string, n: number) => s.padStart(n)
  const lines = [`${pad('Value', 12)} ${pad('Percentile', 14)} ${pad('TotalCount', 10)} 1/(1-Percentile)`, '']
  const total = h.totalCount
  for (const p of percentileSpectrum(h, maxUs)) {
    const q = p.percentile / 100
    const count = Math.min(total, Math.max(1, Math.ceil(q * total - 1e-9)))
    const inverse = q < 1 ? pad((1 / (1 - q)).toFixed(2), 14) : ''
    lines.push(
      `${pad(p.value.toFixed(3), 12)} ${pad(q.toFixed(12), 14)} ${pad(String(count), 10)} ${inverse}`.trimEnd(),
    )
  }
  const f = (v: number) => pad(v.toFixed(3), 12)
  lines.push(
    `#[Mean    = ${f(h.mean)}, StdDeviation   = ${f(h.stdDeviation)}]`,
    `#[Max     = ${f(maxUs)}, Total count    = ${pad(String(total), 12)}]`,
    '#[Values in microseconds (µs)]',
  )
  return `${lines.join('\n')}\n`
}

/** Streams with a coordinated-omission-corrected twin (they have an intended send time). */
const CORRECTED = new Set<string>([STREAM.e2e, STREAM.producerToBridge])
const KNOWN = new Set<string>(Object.values(STREAM))

/** Why a stream/kind pair cannot be asked for, or undefined when it can. */
export function streamProblem(
  stream: string,
  kind: 'raw' | 'co',
): { path: string; message: string } | undefined {
  if (!KNOWN.has(stream))
    return {
      path: 'stream',
      message: `unknown stream '${stream.slice(0, 64)}'; one of ${[...KNOWN].join(', ')}`,
    }
  if (kind === 'co' && !CORRECTED.has(stream))
    return { path: 'kind', message: `'${stream}' has no co figure (only ${[...CORRECTED].join(', ')})` }
  return undefined
}
