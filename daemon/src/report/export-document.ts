import { ConfigError } from '@iotload/sdk'
import type { RunEnvironment } from '../engine/run-environment.ts'
import type { RunSummary } from '../engine/summary.ts'
import type { ResultReader } from '../store/result-store.ts'
import { runHistogram } from '../service/percentiles.ts'
import { encodeHistogram } from '../engine/histogram.ts'
import { type ReportRun, type ReportSeriesRow, spectrumOfEncoded, streamsOf } from './report-model.ts'
import { withUnits } from './units.ts'

/**
 * Version of the `--json` / `export --format json` document. 1: the RunSummary alone. 2: the same
 * keys, plus unit-suffixed twins of every figure with a unit (`p99Us` beside `p99`, `ratePerS`
 * beside `rate`), schemaVersion, iotloadVersion, environment, the redacted scenario as run, the
 * per-second series and the cumulative histograms.
 */
export const EXPORT_SCHEMA_VERSION = 2

/** One per-second row in the export: every latency in µs, every key with its unit. */
export interface ExportSeriesRow {
  stream: string
  second: number
  warmup: boolean
  sent: number | null
  received: number | null
  invalid: number | null
  duplicates: number | null
  reordered: number | null
  publishErrors: number | null
  gaps: number | null
  disconnects: number | null
  reconnects: number | null
  /** Sends the schedule planned in the second (fleet-wide), where known. */
  targetRatePerS: number | null
  raw: UnitLatency
  co: UnitLatency | null
  generator: ReportSeriesRow['generator'] | null
}

/** Latency figures of a row, keys with their unit. */
export interface UnitLatency {
  count: number
  p50Us: number
  p90Us: number
  p99Us: number
  p999Us: number
  maxUs: number
}

/** The JSON export of a run (schemaVersion 2). */
export type ExportDocument = Omit<RunSummary, 'environment'> & {
  schemaVersion: number
  iotloadVersion: string | null
  environment: RunEnvironment | null
  scenario: unknown
  series: ExportSeriesRow[]
  /** Per stream, the cumulative HdrHistograms (compressed V2, base64), to merge or re-plot elsewhere. */
  histograms: Record<string, { raw: string; co?: string }>
}

const unitLatency = (l: ReportSeriesRow['raw']): UnitLatency => ({
  count: l.count,
  p50Us: l.p50,
  p90Us: l.p90,
  p99Us: l.p99,
  p999Us: l.p999,
  maxUs: l.max,
})

/** A per-second row as exported. */
export function exportRow(r: ReportSeriesRow): ExportSeriesRow {
  return {
    stream: r.stream,
    second: r.second,
    warmup: r.warmup,
    sent: r.sent,
    received: r.received,
    invalid: r.invalid,
    duplicates: r.duplicates,
    reordered: r.reordered,
    publishErrors: r.publishErrors,
    gaps: r.gaps,
    disconnects: r.disconnects ?? null,
    reconnects: r.reconnects ?? null,
    targetRatePerS: r.targetRate ?? null,
    raw: unitLatency(r.raw),
    co: r.co ? unitLatency(r.co) : null,
    generator: r.generator ?? null,
  }
}

/** The export document of a stored run with a summary; undefined when the run is unknown. */
export function exportDocument(store: ResultReader, id: string): ExportDocument | undefined {
  const record = store.getRun(id)
  if (!record) return undefined
  const summary = record.summary as RunSummary | null
  if (!summary)
    throw new ConfigError(
      'run',
      `run ${id} is ${record.status} and has no summary yet; export it once it ended`,
    )
  const rows = store.getSeries(id).map(({ rawHist: _r, coHist: _c, ...row }) => row)
  const histograms: ExportDocument['histograms'] = {}
  for (const stream of streamsOf(rows, summary)) {
    const raw = runHistogram(store, id, stream, 'raw')
    if (!raw) continue
    const co = runHistogram(store, id, stream, 'co')
    histograms[stream] = {
      raw: encodeHistogram(raw.histogram),
      ...(co ? { co: encodeHistogram(co.histogram) } : {}),
    }
  }
  return {
    ...withUnits(summary),
    schemaVersion: EXPORT_SCHEMA_VERSION,
    iotloadVersion: summary.environment?.iotloadVersion ?? null,
    environment: summary.environment ?? null,
    scenario: record.scenario,
    series: rows.map(exportRow),
    histograms,
  }
}

const rowFromExport = (r: ExportSeriesRow): ReportSeriesRow => {
  const plain = (l: UnitLatency) => ({
    count: l.count,
    p50: l.p50Us,
    p90: l.p90Us,
    p99: l.p99Us,
    p999: l.p999Us,
    max: l.maxUs,
  })
  const { targetRatePerS, ...rest } = r
  return { ...rest, targetRate: targetRatePerS ?? null, raw: plain(r.raw), co: r.co ? plain(r.co) : null }
}

/**
 * A run from a result file: an export document (schemaVersion 2: series and spectra included),
 * or a plain summary (`--json` before version 2: tables only). `source` names the file.
 */
export function reportRunFromDocument(doc: unknown, source: string): ReportRun {
  const d = doc as Partial<ExportDocument>
  if (!d || typeof d !== 'object' || !d.run || typeof d.run.id !== 'string' || !d.streams)
    throw new ConfigError(
      source,
      'not an iotload result: expected the JSON of `iotload run --json` or `iotload export`',
    )
  const spectra: ReportRun['spectra'] = {}
  for (const [stream, h] of Object.entries(d.histograms ?? {})) {
    const l = d.streams[stream]?.latency
    spectra[stream] = {
      raw: spectrumOfEncoded(h.raw, l?.raw.max),
      ...(h.co ? { co: spectrumOfEncoded(h.co, l?.co?.max) } : {}),
    }
  }
  const started = d.run.startedAt ? Date.parse(d.run.startedAt) : Number.NaN
  return {
    id: d.run.id,
    name: d.run.name,
    status: d.run.status,
    startedAt: Number.isFinite(started) ? started : null,
    error: d.error ?? null,
    summary: d as unknown as RunSummary,
    scenario: d.scenario ?? null,
    environment: d.environment ?? null,
    series: (d.series ?? []).map(rowFromExport),
    spectra,
    source,
  }
}
