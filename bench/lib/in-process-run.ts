import { startRun } from '../../daemon/src/engine/run.ts'
import type { RunSummary } from '../../daemon/src/engine/summary.ts'
import { createLogger } from '../../daemon/src/log/logger.ts'
import { resolveScenario } from '../../daemon/src/scenario/load-scenario.ts'

/** Runs a scenario in this process (no store) and returns its summary. */
export async function runScenario(scenario: Record<string, unknown>): Promise<RunSummary> {
  const resolved = await resolveScenario(scenario, { env: {} })
  return startRun(resolved, { logger: createLogger({ level: 'error' }) }).result
}

/** Lag at the end of the schedule beyond which the generator is falling behind for good. */
const MAX_FINAL_LAG_US = 50_000

/**
 * A trial is sustained when nothing was lost, ≥ 97% of the target was sent and arrived per second
 * (both measured over the real send and arrival windows), and the
 * generator was keeping its schedule at the end (final-phase lag p99 ≤ 50 ms). Transient lag and
 * event-loop spikes, which on this shared machine come from other processes, do not fail a trial;
 * the generator-limited verdict is still reported in the detail.
 */
export function sustained(summary: RunSummary, targetRate: number): { ok: boolean; detail: string } {
  const e2e = summary.streams.e2e
  const rate = e2e?.rate ?? 0
  const finalLag = summary.generator?.finalLagP99Us ?? Number.POSITIVE_INFINITY
  const sendRate = summary.generator?.achievedSendRate ?? 0
  const ok =
    summary.run.status === 'completed' &&
    (e2e?.lost ?? 1) === 0 &&
    sendRate >= targetRate * 0.97 &&
    rate >= targetRate * 0.97 &&
    finalLag <= MAX_FINAL_LAG_US
  const why = summary.generator?.reasons.join('; ') ?? ''
  return {
    ok,
    detail: `${Math.round(targetRate)}/s → sent ${Math.round(sendRate)}/s, recv ${Math.round(rate)}/s, lost ${e2e?.lost}, p99 ${e2e?.latency.raw.p99}µs, final lag p99 ${Math.round(finalLag / 1000)}ms${summary.generatorLimited ? `, generator-limited (${why})` : ''}`,
  }
}

/**
 * Bisects the highest sustained rate in (0, hi], probing `first` first. Returns the best sustained
 * target rate and the probe log.
 */
export async function searchMaxRate(
  trial: (rate: number) => Promise<{ ok: boolean; detail: string }>,
  first: number,
  hi: number,
  steps: number,
): Promise<{ best: number; log: string[] }> {
  let lo = 0
  let top = hi
  let probe = first
  let best = 0
  const log: string[] = []
  for (let i = 0; i < steps; i++) {
    const r = await trial(probe)
    log.push(`${r.ok ? 'ok' : 'FAIL'} ${r.detail}`)
    if (r.ok) {
      best = Math.max(best, probe)
      lo = probe
    } else top = probe
    probe = (lo + top) / 2
  }
  return { best, log }
}
