import type { ProducerConfig } from '../scenario/schema.ts'
import type { SloThreshold } from '../scenario/slo.ts'
import { lossBetween } from './fault-loss.ts'
import type { FaultsSummary, FaultTimeline } from './fault-timeline.ts'
import type { RecorderCore } from './recorder-core.ts'
import { evaluateSlo, sloPassed } from './slo-verdicts.ts'
import type { RunSummary } from './summary.ts'

/**
 * Puts the fault timeline's figures into `summary.faults` once the run closed (only when there is
 * a fault, an outage or a failed setup/teardown command to report).
 */
export function addFaultFigures(
  summary: RunSummary,
  faults: FaultTimeline,
  run: {
    t0Us: number
    producer: ProducerConfig
    /** Sends intended in [from, to) and those never received (null: unknown); see fault-loss.ts. */
    lossBetween: (fromUs: number, toUs: number) => { sent: number; lost: number | null }
    knowsLoss: boolean
  },
): void {
  if (!faults.active) return
  const { t0Us, producer: p } = run
  const figures = faults.summarize({
    t0Us,
    scheduleSeconds: scheduleSeconds(p),
    lossBetween: (from, to) => {
      const r = run.lossBetween(from, to)
      return run.knowsLoss ? r : { sent: r.sent, lost: null }
    },
  })
  if (figures.faults.length + figures.outages.length + figures.hookFailures.length > 0)
    summary.faults = figures
}

/** Seconds of the schedule, warm-up included. */
const scheduleSeconds = (p: ProducerConfig) => Math.ceil((p.warmup + p.duration) / 1000)

/** The loss windows `addFaultFigures` will ask about, found by a dry run of the same summary. */
export function faultLossWindows(
  faults: FaultTimeline,
  run: { t0Us: number; producer: ProducerConfig },
): Array<[number, number]> {
  if (!faults.active) return []
  const windows: Array<[number, number]> = []
  faults.summarize({
    t0Us: run.t0Us,
    scheduleSeconds: scheduleSeconds(run.producer),
    lossBetween: (from, to) => {
      windows.push([from, to])
      return { sent: 0, lost: 0 }
    },
  })
  return windows
}

/** The loss in a window of a run whose sequences are in this thread's recorder. */
export function recorderLoss(
  p: ProducerConfig,
  t0Us: number,
  recorder: RecorderCore,
): (fromUs: number, toUs: number) => { sent: number; lost: number } {
  return (from, to) => lossBetween(p, t0Us, recorder.sentAllSoFar, recorder.sequences, from, to)
}

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
