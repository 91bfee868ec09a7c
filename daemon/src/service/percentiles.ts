import type { Histogram } from 'hdr-histogram-js'
import { mergeEncoded } from '../engine/histogram.ts'
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
export function percentileSpectrum(h: Histogram, ticksPerHalf = 5): PercentilePoint[] {
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
    .map((p) => ({ percentile: p, value: h.getValueAtPercentile(p) }))
  points.push({ percentile: 100, value: h.maxValue })
  return points
}

/**
 * The spectrum of a stream from the stored cumulative histogram, or, when the run has no summary
 * yet (running, interrupted), from its measured per-second rows merged exactly. Undefined when the
 * stream has no data.
 */
export function runPercentiles(
  store: ResultReader,
  runId: string,
  stream: string,
  kind: 'raw' | 'co',
): PercentileSpectrum | undefined {
  const summary = store.getSummaryStreams(runId).find((s) => s.stream === stream)
  let encoded: string[]
  let source: PercentileSpectrum['source']
  if (summary) {
    const e = kind === 'raw' ? summary.rawHist : summary.coHist
    if (!e) return undefined
    encoded = [e]
    source = 'summary'
  } else {
    const rows = store.getSeries(runId, { stream }).filter((r) => !r.warmup)
    encoded = rows.map((r) => (kind === 'raw' ? r.rawHist : r.coHist)).filter((e): e is string => !!e)
    if (encoded.length === 0) return undefined
    source = 'series'
  }
  const h = mergeEncoded(encoded)
  return { stream, kind, source, count: h.totalCount, points: percentileSpectrum(h) }
}
