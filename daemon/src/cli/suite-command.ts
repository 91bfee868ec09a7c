import { writeFile } from 'node:fs/promises'
import { describeError } from '@iotload/sdk'
import { type RunHandle, startRun } from '../engine/run.ts'
import type { Logger } from '../log/logger.ts'
import { compareRuns } from '../report/comparison.ts'
import { renderReport } from '../report/html/render.ts'
import { placeholderRun, type ReportRun, reportRunFromStore } from '../report/report-model.ts'
import { localPolicy } from '../scenario/trust-policy.ts'
import type { ScenarioLimits } from '../scenario/trust-policy.ts'
import { SqliteStore } from '../store/sqlite-store.ts'
import { EXIT } from './exit-codes.ts'
import { fmtCount, fmtLatency, table } from './format.ts'
import { watchConnect } from './connect-line.ts'
import { progressLine } from './progress.ts'
import { readSuite, resolveSuite, suiteEnv } from './suite-file.ts'

/** Usage of `iotload suite`. */
export const SUITE_USAGE = `  iotload suite <suite.yaml> [--out report.html] [--db path] [--quiet]
                                     one workload against each target in turn (same seed), then one
                                     comparison report; every target is validated before any runs`

/** Flags of `suite`. */
export interface SuiteFlags {
  db: string
  out?: string
  quiet?: boolean
  limits: Partial<ScenarioLimits>
}

const write = (s: string) => process.stderr.write(s)

/** The text comparison printed at the end (the HTML has the charts). */
export function comparisonText(runs: readonly ReportRun[]): string {
  const c = compareRuns(runs)
  return table(
    ['target', 'status', 'p50', 'p99', 'p99.9', 'co p99', 'msg/s', 'loss', 'p99 ×first'],
    c.runs.map((r) => [
      r.name,
      r.measured ? `${r.status}${r.generatorLimited ? ' LIMITED' : ''}` : r.status,
      fmtLatency(r.e2eRaw?.p50Us),
      fmtLatency(r.e2eRaw?.p99Us),
      fmtLatency(r.e2eRaw?.p999Us),
      fmtLatency(r.e2eCo?.p99Us),
      r.ratePerS === null ? '-' : r.ratePerS.toFixed(1),
      r.lost === null ? '-' : fmtCount((r.lost ?? 0) + (r.undelivered ?? 0)),
      r.ratioToFirst.e2eRawP99 === null || r.ratioToFirst.e2eRawP99 === undefined
        ? '-'
        : `×${r.ratioToFirst.e2eRawP99.toFixed(2)}`,
    ]),
  )
}

/**
 * `iotload suite file.yaml`: validates every target, runs them one after another (a failed target
 * is recorded as failed and the next one runs), and writes one comparison report.
 */
export async function suiteCommand(file: string, flags: SuiteFlags, logger: Logger): Promise<number> {
  const suite = await readSuite(file)
  const { env, ignored } = suiteEnv(process.env)
  if (ignored.length > 0)
    logger.warn('ignored for a suite: each target names its own broker', { env: ignored.join(',') })
  const targets = await resolveSuite(suite, localPolicy(flags.limits), env)
  write(`suite "${suite.name}": ${targets.length} targets, seed ${suite.seed}; results in ${flags.db}\n`)
  const store = new SqliteStore(flags.db)
  const runs: ReportRun[] = []
  let current: RunHandle | undefined
  let interrupted: NodeJS.Signals | undefined
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) process.exit(EXIT.interrupted)
    interrupted = signal
    write('stopping: finishing this target, skipping the rest, writing the report (Ctrl-C again to abort)\n')
    current?.stop()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  try {
    for (const [i, t] of targets.entries()) {
      if (interrupted) {
        runs.push(placeholderRun(`skipped-${i}`, t.name, 'not run: the suite was interrupted'))
        continue
      }
      write(`\n== ${i + 1}/${targets.length} ${t.name} (${t.resolved.broker.pluginName})\n`)
      current = startRun(t.resolved, {
        store,
        logger,
        onSecond: (r) => {
          if (!flags.quiet) write(`${progressLine(r)}\n`)
        },
      })
      const stopConnect = flags.quiet ? () => {} : watchConnect(current.live, (line) => write(`${line}\n`))
      const summary = await current.result.finally(stopConnect)
      const e2e = summary.streams.e2e
      write(
        `${t.name}: ${summary.run.status}${summary.error ? ` — ${summary.error}` : ''}${summary.run.measured && e2e ? `, p99 ${fmtLatency(e2e.latency.raw.p99)}, ${e2e.rate?.toFixed(1)} msg/s` : ''}\n`,
      )
      runs.push(
        reportRunFromStore(store, summary.run.id) ?? placeholderRun(summary.run.id, t.name, 'not stored'),
      )
    }
  } catch (err) {
    write(`error: ${describeError(err)}\n`)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    store.close()
  }
  const html = renderReport(runs, { title: suite.name })
  const out = flags.out ?? suite.report ?? `suite-${runs[0]?.id ?? 'report'}.html`
  await writeFile(out, html)
  process.stdout.write(
    `\n${comparisonText(runs)}\n\ncomparison: ${out} (${Math.round(html.length / 1024)} KB)\n`,
  )
  if (interrupted) return interrupted === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted
  if (runs.some((r) => r.status === 'failed')) return EXIT.runtime
  return runs.some((r) => r.summary?.sloPassed === false) ? EXIT.sloFailed : EXIT.ok
}
