import { writeFile } from 'node:fs/promises'
import { ConfigError, IotloadError, PluginLoadError } from '@iotload/sdk'
import { startRun } from '../engine/run.ts'
import type { RunSummary } from '../engine/summary.ts'
import { createLogger, type Logger } from '../log/logger.ts'
import { installLastResortHandlers } from '../service/last-resort.ts'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import { SqliteStore } from '../store/sqlite-store.ts'
import { cliTelemetry } from '../telemetry/cli-telemetry.ts'
import { checkFileLimit } from '../engine/fd-limit.ts'
import { EXIT } from './exit-codes.ts'
import { progressLine } from './progress.ts'
import { watchConnect } from './connect-line.ts'
import { renderSummary } from './summary-table.ts'
import { exportDocument } from '../report/export-document.ts'
import type { ResultReader } from '../store/result-store.ts'

/** Flags shared by `run` and `quickstart`. */
export interface RunFlags {
  db: string
  json?: string
  /** Serve Prometheus metrics on this port (127.0.0.1) during the run. */
  metricsPort?: number
  quiet?: boolean
  verbose?: boolean
}

/** Maps an error raised before the run started to an exit code and a one-line message. */
export function reportStartupError(err: unknown, verbose: boolean, write: (s: string) => void): number {
  const bad = err instanceof ConfigError || err instanceof PluginLoadError
  const msg = err instanceof Error ? err.message : String(err)
  write(`error: ${msg}\n`)
  if (verbose && err instanceof Error && err.stack) write(`${err.stack}\n`)
  if (bad) return EXIT.badInput
  return err instanceof IotloadError ? EXIT.runtime : EXIT.runtime
}

/** Executes a resolved scenario with live progress, prints the summary, returns the exit code. */
export async function runResolved(
  resolved: ResolvedScenario,
  flags: RunFlags,
  logger: Logger = createLogger(),
): Promise<number> {
  for (const name of resolved.env.unknown)
    logger.warn('environment variable matches no scenario field; ignored', { env: name })
  // A fleet that cannot fit in `ulimit -n` is refused now (exit 2), not after minutes of connecting.
  checkFileLimit(resolved.scenario)
  const telemetry = await cliTelemetry(resolved, flags.metricsPort, logger)
  const store = new SqliteStore(flags.db)
  // A plugin's stray error must not end the run and lose what it measured.
  const stray = installLastResortHandlers(logger)
  let summary: RunSummary
  let interruptedBy: NodeJS.Signals | undefined
  let json: unknown
  try {
    const handle = startRun(resolved, {
      id: telemetry.id,
      ...(telemetry.telemetry ? { telemetry: telemetry.telemetry } : {}),
      store,
      logger,
      onSecond: (r) => {
        if (!flags.quiet) process.stderr.write(`${progressLine(r)}\n`)
      },
    })
    const stopConnect = flags.quiet
      ? () => {}
      : watchConnect(handle.live, (line) => process.stderr.write(`${line}\n`))
    let interrupts = 0
    const onSignal = (signal: NodeJS.Signals) => {
      interrupts++
      interruptedBy ??= signal
      if (interrupts > 1) process.exit(130)
      process.stderr.write(
        'stopping: finishing the current second and keeping the results (Ctrl-C again to abort)\n',
      )
      handle.stop()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    summary = await handle.result
    stopConnect()
    // The export document (schemaVersion 2): the summary's keys plus series, histograms, scenario.
    if (flags.json) json = resultDocument(store, summary)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  } finally {
    stray.uninstall()
    store.close()
    await telemetry.close()
  }
  process.stdout.write(`${renderSummary(summary)}\n`)
  if (stray.count > 0)
    process.stdout.write(
      `warning: ${stray.count} error(s) nothing caught were logged during the run (see above); the run went on\n`,
    )
  process.stdout.write(`results: ${flags.db} (run ${summary.run.id})\n`)
  if (flags.json) await writeFile(flags.json, `${JSON.stringify(json ?? summary, null, 2)}\n`)
  if (summary.run.status === 'failed') return EXIT.runtime
  // Interrupted: the partial results are printed and saved, and the exit code says it was cut short.
  if (interruptedBy) return interruptedBy === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted
  return summary.sloPassed === false ? EXIT.sloFailed : EXIT.ok
}

/** The `--json` document of a finished run, or its bare summary when the store could not give it. */
function resultDocument(store: ResultReader, summary: RunSummary): unknown {
  try {
    return exportDocument(store, summary.run.id) ?? summary
  } catch {
    return summary
  }
}
