import type { LatencyStats } from '../engine/histogram.ts'
import type { RunEnvironment } from '../engine/run-environment.ts'
import type { RunSummary } from '../engine/summary.ts'
import { exactMax, type PercentilePoint, percentileSpectrum, runHistogram } from '../service/percentiles.ts'
import { decodeHistogram } from '../engine/histogram.ts'
import type { ResultReader, SeriesRow } from '../store/result-store.ts'

/** A stored per-second row as a report draws it (histograms left out: they are merged into spectra). */
export type ReportSeriesRow = Omit<SeriesRow, 'rawHist' | 'coHist'>

/** The percentile spectrum of one stream, from its exactly merged histogram (µs). */
export interface ReportSpectrum {
  raw: PercentilePoint[]
  co?: PercentilePoint[]
}

/** Everything a report shows about one run; every figure comes from stored rows and histograms. */
export interface ReportRun {
  id: string
  name: string
  status: string
  /** ms since the epoch, when the schedule started. */
  startedAt: number | null
  error: string | null
  /** The summary as stored (same shape as `iotload run --json`); null while running or interrupted. */
  summary: RunSummary | null
  /** The scenario as run, secrets redacted. */
  scenario: unknown
  environment: RunEnvironment | null
  /** Per-second rows of every stream, ordered by stream then second. */
  series: ReportSeriesRow[]
  /** Per stream, from the cumulative histograms the summary came from (or merged seconds). */
  spectra: Record<string, ReportSpectrum>
  /** Where the run was read from: a run id in a store, or a result file. */
  source: string
}

/** A run that is not (or no longer) available to the report, for instance a suite target that failed to start. */
export function placeholderRun(id: string, name: string, error: string): ReportRun {
  return {
    id,
    name,
    status: 'failed',
    startedAt: null,
    error,
    summary: null,
    scenario: null,
    environment: null,
    series: [],
    spectra: {},
    source: 'none',
  }
}

/** Streams a run recorded, e2e first. */
export function streamsOf(rows: readonly { stream: string }[], summary: RunSummary | null): string[] {
  const names = new Set<string>(['e2e'])
  for (const r of rows) names.add(r.stream)
  for (const s of Object.keys(summary?.streams ?? {})) names.add(s)
  return [...names]
}

/** Reads a run from a store: record, summary, rows, and spectra merged exactly from its histograms. */
export function reportRunFromStore(store: ResultReader, id: string): ReportRun | undefined {
  const record = store.getRun(id)
  if (!record) return undefined
  const summary = (record.summary as RunSummary | null) ?? null
  const series = store.getSeries(id).map(({ rawHist: _r, coHist: _c, ...row }) => row)
  const spectra: Record<string, ReportSpectrum> = {}
  for (const stream of streamsOf(series, summary)) {
    const raw = runHistogram(store, id, stream, 'raw')
    if (!raw) continue
    const co = runHistogram(store, id, stream, 'co')
    spectra[stream] = {
      raw: percentileSpectrum(raw.histogram, raw.maxUs),
      ...(co ? { co: percentileSpectrum(co.histogram, co.maxUs) } : {}),
    }
  }
  return {
    id,
    name: record.name,
    status: record.status,
    startedAt: record.startedAt,
    error: record.error,
    summary,
    scenario: record.scenario,
    environment: summary?.environment ?? null,
    series,
    spectra,
    source: `run ${id}`,
  }
}

/**
 * The spectrum of an encoded (base64, compressed) histogram, ending at `maxUs` (the summary's exact
 * max) when it lies in the histogram's last bucket.
 */
export function spectrumOfEncoded(encoded: string, maxUs?: number): PercentilePoint[] {
  const h = decodeHistogram(encoded)
  return percentileSpectrum(h, exactMax(h, maxUs))
}

/** Latency figures in a summary stream, for tables. */
export type Latencies = { raw: LatencyStats; co?: LatencyStats }
