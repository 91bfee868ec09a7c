import { randomBytes } from 'node:crypto'

/**
 * Seconds actually measured: from the end of warm-up to the end of the schedule, or to the moment
 * the run was stopped; 0 when it never left warm-up. Rates and the generator verdict use this, so
 * a run stopped after 9 s of 60 is judged on 9 s.
 */
export function measuredSeconds(
  started: boolean,
  measureStartUs: number,
  durationMs: number,
  stopAtUs: number | undefined,
): number {
  if (!started || measureStartUs === 0) return 0
  const fullS = durationMs / 1000
  if (stopAtUs === undefined) return fullS
  return Math.min(fullS, Math.max(0, (stopAtUs - measureStartUs) / 1e6))
}

export function newRunId(): string {
  return randomBytes(6).toString('hex')
}
