import { parseArgs } from 'node:util'
import { IOTLOAD_VERSION } from '../engine/run-environment.ts'
import { createLogger } from '../log/logger.ts'
import { defaultDbPath } from './default-paths.ts'
import { EXIT } from './exit-codes.ts'
import { EXPORT_USAGE, exportCommand } from './export-command.ts'
import { limitsFrom } from './limit-flags.ts'
import { REPORT_USAGE, reportCommand } from './report-command.ts'
import { reportStartupError } from './run-command.ts'
import { RUNS_USAGE, runsCommand, showCommand } from './runs-command.ts'
import { SUITE_USAGE, suiteCommand } from './suite-command.ts'

/** Commands that read or compare stored results (and `suite`, which writes a comparison). */
export const RESULTS_COMMANDS = ['report', 'compare', 'export', 'runs', 'show', 'suite'] as const

/** Their usage lines, for the CLI's help. */
export const RESULTS_USAGE = [SUITE_USAGE, REPORT_USAGE, EXPORT_USAGE, RUNS_USAGE].join('\n')

/** `iotload --version`. */
export function versionLine(): string {
  const bun = (process.versions as Record<string, string | undefined>).bun
  return `iotload ${IOTLOAD_VERSION} (${bun ? `bun ${bun}` : `node ${process.versions.node}`})`
}

/** Runs one of RESULTS_COMMANDS with its own flags; returns the exit code. */
export async function resultsCli(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        db: { type: 'string' },
        out: { type: 'string', short: 'o' },
        title: { type: 'string' },
        format: { type: 'string' },
        stream: { type: 'string' },
        kind: { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean', short: 'q' },
        verbose: { type: 'boolean', short: 'v' },
        'max-rate': { type: 'string' },
        'max-devices': { type: 'string' },
        'max-run-time': { type: 'string' },
        'max-payload-bytes': { type: 'string' },
        'max-workers': { type: 'string' },
      },
    })
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n\n${RESULTS_USAGE}\n`)
    return EXIT.badInput
  }
  const { values: v, positionals } = parsed
  const [command, ...args] = positionals
  const str = (x: unknown) => (typeof x === 'string' ? x : undefined)
  const db = str(v.db) ?? defaultDbPath()
  const verbose = v.verbose === true
  const opt = <T extends object>(o: T) =>
    Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as {
      [K in keyof T]: Exclude<T[K], undefined>
    }
  try {
    switch (command) {
      case 'report':
      case 'compare':
        return await reportCommand(args, {
          db,
          json: v.json === true,
          ...opt({ out: str(v.out), title: str(v.title) }),
        })
      case 'export':
        return await exportCommand(args, {
          db,
          ...opt({ format: str(v.format), stream: str(v.stream), kind: str(v.kind), out: str(v.out) }),
        })
      case 'runs':
        return runsCommand({ db, ...opt({ limit: str(v.limit) }) })
      case 'show':
        return showCommand(args, { db, json: v.json === true })
      default: {
        const file = args[0]
        if (!file || args.length > 1) {
          process.stderr.write(`error: usage:\n${SUITE_USAGE}\n`)
          return EXIT.badInput
        }
        const limits = limitsFrom(
          {
            maxRate: str(v['max-rate']),
            maxDevices: str(v['max-devices']),
            maxRunTime: str(v['max-run-time']),
            maxPayloadBytes: str(v['max-payload-bytes']),
            maxWorkers: str(v['max-workers']),
          },
          process.env,
        )
        const logger = createLogger(verbose ? { level: 'debug' } : {})
        return await suiteCommand(
          file,
          { db, limits, quiet: v.quiet === true, ...opt({ out: str(v.out) }) },
          logger,
        )
      }
    }
  } catch (err) {
    return reportStartupError(err, verbose, (s) => process.stderr.write(s))
  }
}
