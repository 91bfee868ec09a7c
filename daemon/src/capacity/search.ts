import type { ProbeLimit } from './verdict.ts'

/** Where a search starts, stops and how fine it gets. Rates are fleet-wide msg/s. */
export interface SearchBounds {
  /** The first probe; if it fails the search ends ("fails at the floor rate"). */
  floor: number
  /** No probe above this; if it holds the search ends ("at least the ceiling"). */
  ceiling: number
  /** Bisection stops once (first failing − sustained) / sustained ≤ this, e.g. 0.05. */
  precision: number
  /** Probes at most. */
  maxProbes: number
  /** Total time at most, ms: a probe starts only when its expected time still fits. */
  maxTimeMs: number
  /** Expected time of one probe (warm-up, duration, drain, connecting), ms. */
  probeMs: number
}

/** What the search needs to know about a probe. */
export interface ProbeOutcome {
  ok: boolean
  limit: ProbeLimit | null
}

/**
 * How the search ended: `found` the knee within the precision; `ceiling` held at the ceiling;
 * `floor-fails` the first probe failed; `bounded` the probe or time budget ran out first;
 * `error` a probe run failed outright; `stopped` on request.
 */
export type SearchStatus = 'found' | 'ceiling' | 'floor-fails' | 'bounded' | 'error' | 'stopped'

/** The outcome of `searchCapacity`. */
export interface SearchOutcome {
  status: SearchStatus
  /** Highest rate that held; null when none did. */
  sustained: number | null
  /** Lowest rate that failed; null when none did. */
  failing: number | null
  /** Which budget ended a `bounded` search. */
  bound?: 'probes' | 'time'
}

/** Probe rates are whole msg/s from 1000 up, four significant digits below. */
export function roundRate(rate: number): number {
  return rate >= 1000 ? Math.round(rate) : Number(rate.toPrecision(4))
}

/**
 * Finds the highest sustained rate: probes the floor, doubles until a probe fails (or the ceiling
 * holds), then bisects between the highest rate that held and the lowest that failed until they
 * are within `precision` of each other. Each probe is one call of `probe`, in turn.
 */
export async function searchCapacity(
  bounds: SearchBounds,
  probe: (rate: number) => Promise<ProbeOutcome>,
  control: { now: () => number; stopped: () => boolean },
): Promise<SearchOutcome> {
  const started = control.now()
  let probes = 0
  let sustained: number | null = null
  let failing: number | null = null
  const outcome = (status: SearchStatus, bound?: 'probes' | 'time'): SearchOutcome => ({
    status,
    sustained,
    failing,
    ...(bound ? { bound } : {}),
  })
  /** Runs one probe if the budgets allow; returns the outcome to end with, or undefined to go on. */
  const step = async (rate: number): Promise<SearchOutcome | undefined> => {
    if (control.stopped()) return outcome('stopped')
    if (probes >= bounds.maxProbes) return outcome('bounded', 'probes')
    if (probes > 0 && control.now() - started + bounds.probeMs > bounds.maxTimeMs)
      return outcome('bounded', 'time')
    probes++
    const r = await probe(rate)
    if (control.stopped()) return outcome('stopped')
    if (r.limit === 'error') return outcome('error')
    if (r.ok) sustained = rate
    else failing = rate
    return undefined
  }

  let rate = roundRate(Math.min(bounds.floor, bounds.ceiling))
  let end = await step(rate)
  if (end) return end
  if (sustained === null) return outcome('floor-fails')
  while (failing === null) {
    // At the ceiling, or so near it that the next probe would be within the precision.
    if (rate * (1 + bounds.precision) >= bounds.ceiling) return outcome('ceiling')
    rate = roundRate(Math.min(rate * 2, bounds.ceiling))
    end = await step(rate)
    if (end) return end
  }
  for (;;) {
    const lo: number = sustained
    const hi: number = failing
    if ((hi - lo) / lo <= bounds.precision) return outcome('found')
    const mid = roundRate((lo + hi) / 2)
    // Rates cannot get finer than roundRate makes them.
    if (mid <= lo || mid >= hi) return outcome('found')
    end = await step(mid)
    if (end) return end
  }
}
