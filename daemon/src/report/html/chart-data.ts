import type { PercentilePoint } from '../../service/percentiles.ts'
import type { ReportRun, ReportSeriesRow } from '../report-model.ts'

type Column = Array<number | null>

/** Percentile columns of one kind, per second (µs; null in a second without samples). */
interface PercentileColumns {
  p50: Column
  p90: Column
  p99: Column
  p999: Column
  max: Column
}

/** What the browser script draws for one run: columns over seconds, and spectra. */
export interface ClientRun {
  id: string
  name: string
  targetRate: number | null
  /** Seconds of warm-up, drawn shaded: [first, end) in seconds since the schedule started. */
  warmup: [number, number] | null
  /** Faults and outages, marked on every chart over time: their windows in seconds since the schedule started. */
  faults: Array<{ label: string; from: number; to: number }>
  e2e: {
    x: number[]
    sent: Column
    received: Column
    /** The schedule's target for each second (stages ramp it); null in rows stored before it was kept. */
    target: Column
    gaps: Column
    duplicates: Column
    reordered: Column
    invalid: Column
    publishErrors: Column
    disconnects: Column
    reconnects: Column
    raw: PercentileColumns
    co: PercentileColumns | null
    lagP99: Column
    lagMax: Column
    loopDelayP99: Column
    inFlight: Column
  } | null
  /** Every other stream (leg): raw p50/p99 per second. */
  legs: Record<string, { x: number[]; p50: Column; p99: Column }>
  /** Per stream: [percentiles, values µs] from the exactly merged histogram. */
  spectra: Record<string, { raw: [number[], number[]]; co?: [number[], number[]] }>
}

const latencyOf = (l: ReportSeriesRow['raw'] | null, k: keyof PercentileColumns): number | null =>
  l && l.count > 0 ? l[k] : null

function percentiles(rows: ReportSeriesRow[], pick: (r: ReportSeriesRow) => ReportSeriesRow['raw'] | null) {
  const col = (k: keyof PercentileColumns) => rows.map((r) => latencyOf(pick(r), k))
  return { p50: col('p50'), p90: col('p90'), p99: col('p99'), p999: col('p999'), max: col('max') }
}

const spectrum = (points: PercentilePoint[]): [number[], number[]] => [
  points.map((p) => p.percentile),
  points.map((p) => p.value),
]

/** The columns of a run's per-second rows and its spectra, as the report's script wants them. */
export function clientRun(run: ReportRun): ClientRun {
  const byStream = new Map<string, ReportSeriesRow[]>()
  for (const r of run.series) {
    const rows = byStream.get(r.stream) ?? []
    rows.push(r)
    byStream.set(r.stream, rows)
  }
  for (const rows of byStream.values()) rows.sort((a, b) => a.second - b.second)
  const e2eRows = byStream.get('e2e') ?? []
  const warm = e2eRows.filter((r) => r.warmup)
  const hasCo = e2eRows.some((r) => r.co !== null)
  const col = (f: (r: ReportSeriesRow) => number | null | undefined) => e2eRows.map((r) => f(r) ?? null)
  const legs: ClientRun['legs'] = {}
  for (const [stream, rows] of byStream) {
    if (stream === 'e2e') continue
    legs[stream] = {
      x: rows.map((r) => r.second),
      p50: rows.map((r) => latencyOf(r.raw, 'p50')),
      p99: rows.map((r) => latencyOf(r.raw, 'p99')),
    }
  }
  const spectra: ClientRun['spectra'] = {}
  for (const [stream, s] of Object.entries(run.spectra))
    spectra[stream] = { raw: spectrum(s.raw), ...(s.co ? { co: spectrum(s.co) } : {}) }
  return {
    id: run.id,
    name: run.name,
    targetRate: run.summary?.target.totalRate ?? null,
    warmup: warm.length > 0 ? [warm[0]!.second, warm[warm.length - 1]!.second + 1] : null,
    faults: [...(run.summary?.faults?.faults ?? []), ...(run.summary?.faults?.outages ?? [])].map((f) => ({
      label: f.kind === 'outage' ? 'outage' : f.name,
      from: f.window.fromS,
      to: f.window.toS,
    })),
    e2e:
      e2eRows.length === 0
        ? null
        : {
            x: e2eRows.map((r) => r.second),
            sent: col((r) => r.sent),
            received: col((r) => r.received),
            target: col((r) => r.targetRate),
            gaps: col((r) => r.gaps),
            duplicates: col((r) => r.duplicates),
            reordered: col((r) => r.reordered),
            invalid: col((r) => r.invalid),
            publishErrors: col((r) => r.publishErrors),
            disconnects: col((r) => r.disconnects),
            reconnects: col((r) => r.reconnects),
            raw: percentiles(e2eRows, (r) => r.raw),
            co: hasCo ? percentiles(e2eRows, (r) => r.co) : null,
            lagP99: col((r) => r.generator?.lagP99Us),
            lagMax: col((r) => r.generator?.lagMaxUs),
            loopDelayP99: col((r) => r.generator?.eventLoopDelayP99Us),
            inFlight: col((r) => r.generator?.inFlightPeak),
          },
    legs,
    spectra,
  }
}
