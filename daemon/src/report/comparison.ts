import type { LatencyStats } from '../engine/histogram.ts'
import type { ReportRun } from './report-model.ts'

/** Latency figures compared across runs (µs). */
export interface ComparedLatency {
  p50Us: number
  p99Us: number
  p999Us: number
  maxUs: number
}

/** One run's line in a comparison; figures are null where the run measured nothing. */
export interface ComparisonRow {
  id: string
  name: string
  status: string
  plugin: string | null
  measured: boolean
  e2eRaw: ComparedLatency | null
  e2eCo: ComparedLatency | null
  /** Received messages per measured second. */
  ratePerS: number | null
  sent: number | null
  received: number | null
  lost: number | null
  undelivered: number | null
  queued: number | null
  /** (lost + undelivered) / sent, what the loss SLO counts. */
  lossRatio: number | null
  generatorLimited: boolean | null
  sloPassed: boolean | null
  error: string | null
  /** Each figure divided by the first run's (null where either is missing or the first is 0). */
  ratioToFirst: Record<string, number | null>
  /** 1 for the lowest e2e raw p99 among the measured runs; null for a run without figures. */
  rankP99: number | null
}

/** The comparison of runs, the first one being the baseline of every ratio. */
export interface Comparison {
  baseline: string | null
  runs: ComparisonRow[]
}

const compared = (l: LatencyStats | undefined): ComparedLatency | null =>
  l && l.count > 0 ? { p50Us: l.p50, p99Us: l.p99, p999Us: l.p999, maxUs: l.max } : null

/** The figures ratios are taken of, by name. */
function ratioFigures(r: ComparisonRow): Record<string, number | null> {
  return {
    e2eRawP50: r.e2eRaw?.p50Us ?? null,
    e2eRawP99: r.e2eRaw?.p99Us ?? null,
    e2eRawP999: r.e2eRaw?.p999Us ?? null,
    e2eRawMax: r.e2eRaw?.maxUs ?? null,
    e2eCoP50: r.e2eCo?.p50Us ?? null,
    e2eCoP99: r.e2eCo?.p99Us ?? null,
    e2eCoP999: r.e2eCo?.p999Us ?? null,
    e2eCoMax: r.e2eCo?.maxUs ?? null,
    ratePerS: r.ratePerS,
    lossRatio: r.lossRatio,
  }
}

function pluginOf(run: ReportRun): string | null {
  const fromSummary = run.summary?.target?.plugin
  if (fromSummary) return fromSummary
  const broker = (run.scenario as { broker?: { plugin?: unknown } } | null)?.broker
  return typeof broker?.plugin === 'string' ? broker.plugin : null
}

/** One row per run, in the order given: the summary's figures, never recomputed. */
export function compareRuns(runs: readonly ReportRun[]): Comparison {
  const rows: ComparisonRow[] = runs.map((run) => {
    const s = run.summary
    const measured = s?.run.measured !== false && s !== null && run.status !== 'failed'
    const e2e = measured ? s?.streams.e2e : undefined
    const sent = e2e?.sent ?? null
    const missing = e2e ? (e2e.lost ?? 0) + (e2e.undelivered ?? 0) : null
    return {
      id: run.id,
      name: run.name,
      status: run.status,
      plugin: pluginOf(run),
      measured,
      e2eRaw: compared(e2e?.latency.raw),
      e2eCo: compared(e2e?.latency.co),
      ratePerS: e2e?.rate ?? null,
      sent,
      received: e2e?.received ?? null,
      lost: e2e?.lost ?? null,
      undelivered: e2e?.undelivered ?? null,
      queued: e2e?.queued ?? null,
      lossRatio: sent && missing !== null ? missing / sent : sent === 0 ? 0 : null,
      generatorLimited: measured ? (s?.generatorLimited ?? null) : null,
      sloPassed: s?.sloPassed ?? null,
      error: run.error ?? s?.error ?? null,
      ratioToFirst: {},
      rankP99: null,
    }
  })
  const ranked = rows.filter((r) => r.e2eRaw !== null).sort((a, b) => a.e2eRaw!.p99Us - b.e2eRaw!.p99Us)
  ranked.forEach((r, i) => {
    r.rankP99 = i + 1
  })
  const base = rows[0] ? ratioFigures(rows[0]) : {}
  for (const row of rows) {
    const mine = ratioFigures(row)
    for (const [k, v] of Object.entries(mine)) {
      const b = base[k]
      row.ratioToFirst[k] = v !== null && b !== null && b !== undefined && b > 0 ? v / b : null
    }
  }
  return { baseline: rows[0]?.id ?? null, runs: rows }
}
