import type { SloThreshold } from '../scenario/slo.ts'
import type { FaultsSummary } from './fault-timeline.ts'
import { evaluateSlo, sloPassed } from './slo-verdicts.ts'
import type { RunSummary } from './summary.ts'

/**
 * Judges the SLOs again once the faults' recovery is known, so `slo.recovery` sees every fault
 * and outage (the summary is built before the fault timeline is summed up).
 */
export function judgeRecovery(
  summary: RunSummary,
  thresholds: SloThreshold[],
  faults: FaultsSummary | undefined,
): void {
  if (!thresholds.some((t) => t.kind === 'recovery') || summary.run.measured === false) return
  const recoveries = faults ? [...faults.faults, ...faults.outages].map((f) => f.recoveryMs) : []
  summary.slo = evaluateSlo(thresholds, summary.streams, {
    measured: true,
    generatorLimited: summary.generatorLimited,
    recoveries,
  })
  summary.sloPassed = sloPassed(summary.slo)
}
