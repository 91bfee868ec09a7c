import type { SloThreshold } from '../scenario/slo.ts'
import type { LatencyStats } from './histogram.ts'

/**
 * The figures of a stream an SLO judges: a run's `StreamSummary` or a merged cluster stream.
 * Declared here, not imported from summary.ts, which imports this file.
 */
export interface SloStreamFigures {
  sent?: number
  /** Deliveries owed in a fan-out (sent × subscribers). */
  expected?: number
  lost?: number
  undelivered?: number
  duplicates?: number
  invalid?: number
  latency: { raw: LatencyStats; co?: LatencyStats }
}

/** Verdict on one SLO threshold. */
export interface SloResult {
  key: string
  threshold: string
  actual: string
  /** `not evaluated` when the run measured nothing (it failed, or stopped during warm-up). */
  result: 'pass' | 'fail' | 'not evaluated'
  /** `result === 'pass'`. */
  pass: boolean
}

/** What besides the stream figures an SLO may look at. */
export interface SloContext {
  /** The run measured something: false for a failed run or one stopped in warm-up. @default true */
  measured?: boolean
  /** The generator was the bottleneck (`generator: ok` fails). @default false */
  generatorLimited?: boolean
  /** Recovery of each fault and outage (ms; null: not recovered). None: `recovery` passes (`no faults`). */
  recoveries?: ReadonlyArray<number | null>
}

function fmtUs(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(3)}ms` : `${us}us`
}

function verdict(key: string, threshold: string, actual: string, pass: boolean): SloResult {
  return { key, threshold, actual, result: pass ? 'pass' : 'fail', pass }
}

function thresholdText(t: SloThreshold): string {
  if (t.kind === 'latency') return `≤ ${fmtUs(t.maxUs)}`
  if (t.kind === 'generator') return 'ok'
  if (t.kind === 'recovery') return `≤ ${t.maxMs / 1000}s`
  return t.maxRatio !== undefined ? `≤ ${(t.maxRatio * 100).toPrecision(3)}%` : `≤ ${t.maxCount}`
}

/**
 * Verdicts of SLO thresholds on stream figures (also used on merged cluster results). A run that
 * measured nothing gets `not evaluated` for every threshold: a failed run must not PASS `loss: 0`.
 * `loss` counts every measured message that did not arrive: lost in a gap, or undelivered at the end.
 */
export function evaluateSlo(
  thresholds: SloThreshold[],
  streams: Record<string, SloStreamFigures>,
  context: SloContext = {},
): SloResult[] {
  const e2e = streams.e2e
  return thresholds.map((t): SloResult => {
    if (context.measured === false)
      return { key: t.key, threshold: thresholdText(t), actual: '—', result: 'not evaluated', pass: false }
    if (t.kind === 'generator') {
      const limited = context.generatorLimited === true
      return verdict(t.key, 'ok', limited ? 'LIMITED' : 'ok', !limited)
    }
    if (t.kind === 'recovery') {
      const r = context.recoveries ?? []
      if (r.length === 0) return verdict(t.key, thresholdText(t), 'no faults', true)
      const worst = r.includes(null) ? null : Math.max(...(r as number[]))
      return verdict(
        t.key,
        thresholdText(t),
        worst === null ? 'not recovered' : `${(worst / 1000).toFixed(1)}s`,
        worst !== null && worst <= t.maxMs,
      )
    }
    if (t.kind === 'latency') {
      const s = streams[t.stream]
      const stats = t.corrected ? s?.latency.co : s?.latency.raw
      if (!stats || stats.count === 0) return verdict(t.key, thresholdText(t), 'no data', false)
      const actual = stats[t.stat]
      return verdict(t.key, thresholdText(t), fmtUs(actual), actual <= t.maxUs)
    }
    const count =
      t.metric === 'loss'
        ? (e2e?.lost ?? 0) + (e2e?.undelivered ?? 0)
        : t.metric === 'invalid'
          ? (e2e?.invalid ?? 0)
          : (e2e?.duplicates ?? 0)
    // A fan-out's ratios are over the deliveries owed (sent × subscribers).
    const sent = e2e?.expected ?? e2e?.sent ?? 0
    if (t.maxRatio !== undefined) {
      const ratio = sent > 0 ? count / sent : 0
      return verdict(t.key, thresholdText(t), `${(ratio * 100).toPrecision(3)}%`, ratio <= t.maxRatio)
    }
    return verdict(t.key, thresholdText(t), String(count), count <= (t.maxCount ?? 0))
  })
}

/** Whether a run passed its SLOs: null when they were not evaluated. */
export function sloPassed(results: SloResult[]): boolean | null {
  if (results.some((r) => r.result === 'not evaluated')) return null
  return results.every((r) => r.pass)
}
