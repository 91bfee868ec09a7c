import type { SearchBounds, SearchOutcome, SearchStatus } from './search.ts'
import type { CurvePoint, ProbeLimit } from './verdict.ts'

/** The answer of a find-max search: the knee, who set it, and the curve it was found on. */
export interface CapacityResult {
  status: SearchStatus
  /** Highest rate that held (fleet-wide msg/s); null when none did. */
  sustainedRate: number | null
  /** Lowest rate that failed; null when none did. */
  firstFailingRate: number | null
  /** The probe at `firstFailingRate`: why it failed. */
  failure: { rate: number; limit: ProbeLimit; reasons: string[]; runId: string } | null
  /**
   * What set the limit: `broker` (the path under test: broker, and the bridge if there is one),
   * `generator` (iotload could not issue the load), `ceiling` (the highest rate allowed held).
   */
  limitedBy: 'broker' | 'generator' | 'ceiling' | null
  /** The path's real capacity may be higher: the generator or the ceiling stopped the search. */
  lowerBound: boolean
  /** Precision asked for, and the gap left: (first failing − sustained) / sustained. */
  precision: number
  gap: number | null
  /** Which budget ended a `bounded` search. */
  bound?: 'probes' | 'time'
  /** Every probe, by rate: the latency-vs-throughput curve. */
  curve: CurvePoint[]
  probes: number
  elapsedS: number
  /** The result in one line. */
  message: string
}

const r = (n: number) => `${Math.round(n).toLocaleString('en-US')} msg/s`

function why(f: NonNullable<CapacityResult['failure']>): string {
  return `${f.limit}: ${f.reasons.join('; ')}`
}

/** Puts the search outcome and its probes together into the result and its one-line message. */
export function buildResult(
  outcome: SearchOutcome,
  points: CurvePoint[],
  bounds: SearchBounds,
  elapsedMs: number,
): CapacityResult {
  const failingPoint = [...points].reverse().find((p) => !p.ok && p.rate === outcome.failing)
  const failure = failingPoint?.limit
    ? {
        rate: failingPoint.rate,
        limit: failingPoint.limit,
        reasons: failingPoint.reasons,
        runId: failingPoint.runId,
      }
    : null
  const limitedBy: CapacityResult['limitedBy'] =
    outcome.status === 'ceiling'
      ? 'ceiling'
      : failure && failure.limit !== 'error'
        ? failure.limit === 'generator'
          ? 'generator'
          : 'broker'
        : null
  const { sustained, failing } = outcome
  const gap = sustained !== null && failing !== null ? (failing - sustained) / sustained : null
  let message: string
  switch (outcome.status) {
    case 'floor-fails':
      message = `fails at the floor rate ${r(failing!)}${failure ? ` (${why(failure)})` : ''}`
      break
    case 'ceiling':
      message =
        sustained! >= bounds.ceiling
          ? `holds the ceiling ${r(sustained!)}: the path's capacity is at least that (raise it with --to)`
          : `holds ${r(sustained!)}, within ${Math.round(bounds.precision * 100)}% of the ceiling ${r(bounds.ceiling)}: the path's capacity is at least that (raise it with --to)`
      break
    case 'error':
      message = `a probe run failed${failingPoint ? ` at ${r(failingPoint.rate)}: ${failingPoint.reasons.join('; ')}` : ''}`
      break
    case 'stopped':
      message = `stopped${sustained !== null ? `; sustained ${r(sustained)} so far` : ''}`
      break
    default: {
      const head = `sustained ${r(sustained ?? 0)}${failing !== null ? `; fails at ${r(failing)}` : ''}`
      const set =
        limitedBy === 'generator'
          ? ` — the generator set the limit (${why(failure!)}): a lower bound for the broker, which may hold more`
          : limitedBy === 'broker'
            ? ` — the broker set the limit (${why(failure!)})`
            : ''
      const bounded =
        outcome.status === 'bounded'
          ? ` (search ended by its ${outcome.bound === 'time' ? 'time' : 'probe'} budget${gap !== null ? ` ${Math.round(gap * 1000) / 10}% apart` : ' before any probe failed'})`
          : ''
      message = head + set + bounded
    }
  }
  return {
    status: outcome.status,
    sustainedRate: sustained,
    firstFailingRate: failing,
    failure,
    limitedBy,
    lowerBound:
      limitedBy === 'generator' ||
      limitedBy === 'ceiling' ||
      (outcome.status === 'bounded' && failing === null),
    precision: bounds.precision,
    gap: gap === null ? null : Math.round(gap * 10_000) / 10_000,
    ...(outcome.bound ? { bound: outcome.bound } : {}),
    curve: [...points].sort((a, b) => a.rate - b.rate),
    probes: points.length,
    elapsedS: Math.round(elapsedMs / 100) / 10,
    message,
  }
}
