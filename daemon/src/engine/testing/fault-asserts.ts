import { expect } from 'vitest'
import { createLogger } from '../../log/logger.ts'
import type { ResolvedScenario } from '../../scenario/load-scenario.ts'
import type { FaultReport } from '../fault-timeline.ts'
import type { SecondReport } from '../recorder.ts'
import { startRun } from '../run.ts'
import type { RunSummary, StreamSummary } from '../summary.ts'

/**
 * The books of a run with a fault balance exactly: every measured send was received once, or is
 * lost (a gap), or undelivered (after its device's last arrival); repeats are counted apart.
 */
export function expectExactBooks(summary: RunSummary, sent: number): StreamSummary {
  const e2e = summary.streams.e2e!
  expect(e2e.sent).toBe(sent)
  expect(e2e.received! + e2e.lost! + (e2e.undelivered ?? 0)).toBe(sent)
  expect(e2e.invalid).toBe(0)
  expect(e2e.duplicates).toBeGreaterThanOrEqual(0)
  return e2e
}

/**
 * The run's one fault dropped connections, they came back, the received rate recovered, and the
 * messages missing from the whole run were all intended inside the fault's window.
 */
export function expectRecovered(
  summary: RunSummary,
  context = '',
  options: { recoveryOptional?: boolean } = {},
): FaultReport {
  const faults = summary.faults?.faults ?? []
  expect(faults, context).toHaveLength(1)
  const f = faults[0]!
  const e2e = summary.streams.e2e!
  const why = `${JSON.stringify(f)}\n${context}`
  expect(f.firstDisconnectMs, why).not.toBeNull()
  expect(f.firstReconnectMs, why).not.toBeNull()
  // A broker slower to come back than the schedule is long is reported `not recovered` (null).
  if (!options.recoveryOptional) expect(f.recoveryMs, why).not.toBeNull()
  expect(f.lost, why).toBe(e2e.lost! + (e2e.undelivered ?? 0))
  // The fault's duplicates are the run's (no repeats outside its window), none counted twice.
  expect(f.duplicates, why).toBeLessThanOrEqual(e2e.duplicates!)
  return f
}

/** One line of what a restart cost, printed for docs/faults.md's table of measured figures. */
export function logFigures(label: string, summary: RunSummary, f: FaultReport): void {
  const e2e = summary.streams.e2e!
  console.info(
    `[faults] ${label}: lost ${f.lost}/${f.sent} in the window (run: lost ${e2e.lost}, undelivered ${e2e.undelivered ?? 0}, dup ${e2e.duplicates}), first reconnect ${f.firstReconnectMs} ms, recovered ${f.recoveryMs} ms, p99 before ${f.p99BeforeUs} µs during ${f.p99DuringUs} µs, publish errors ${JSON.stringify(f.publishErrors)}`,
  )
}

/** Collects one line per second of a run, for the message of a failed assertion. */
export function traceSeconds(): { onSecond: (r: SecondReport) => void; text: () => string } {
  const lines: string[] = []
  return {
    onSecond: (r) => {
      const c = r.counters
      lines.push(
        `${r.second}: target ${r.targetRate} sent ${c.sent + c.sentWarmup} recv ${c.received + c.receivedWarmup} dup ${c.duplicates} perr ${c.publishErrors} disc ${c.disconnects} rec ${c.reconnects} gaps ${r.gaps}`,
      )
    },
    text: () => lines.join('\n'),
  }
}

/**
 * What a fault test needs besides a binary (downloaded jars, a distribution, root for namespaces):
 * missing locally, it skips with a loud line; under `CI=true` it is an error, as `requireBinary`.
 */
export function requirePresent(present: boolean, line: string): boolean {
  if (present) return true
  if (process.env.CI === 'true') throw new Error(`${line}; CI requires it (see .ci/run)`)
  process.stderr.write(`\n!!! SKIPPING: ${line} !!!\n\n`)
  return false
}

/** Runs a scenario on the real clock with quiet logs, its seconds traced for failure messages. */
export async function runTraced(resolved: ResolvedScenario): Promise<{ summary: RunSummary; trace: string }> {
  const trace = traceSeconds()
  const summary = await startRun(resolved, {
    logger: createLogger({ level: 'error' }),
    onSecond: trace.onSecond,
  }).result
  return { summary, trace: trace.text() }
}

/**
 * What every broker-restart test asks of its run: it completed, its books balance, its one fault
 * (a command that exited 0) was survived and recovered from, and its SLOs held. Prints the figures.
 */
export function expectRestartSurvived(
  summary: RunSummary,
  expected: { sent: number; label: string; context: string; recoveryOptional?: boolean },
): FaultReport {
  expect(summary.run.status, summary.error).toBe('completed')
  expectExactBooks(summary, expected.sent)
  const f = expectRecovered(summary, expected.context, { recoveryOptional: expected.recoveryOptional })
  expect(f.exec).toMatchObject({ exitCode: 0, timedOut: false })
  logFigures(expected.label, summary, f)
  expect(summary.sloPassed).toBe(true)
  return f
}
