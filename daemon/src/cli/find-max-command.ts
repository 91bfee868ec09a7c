import { readFile, writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { ConfigError } from '@iotload/sdk'
import { CapacitySearch } from '../capacity/capacity-search.ts'
import { SqliteCapacityStore } from '../capacity/capacity-store.ts'
import { type CapacityOptions, capacityOptionsSchema } from '../capacity/options.ts'
import { prepareSearch } from '../capacity/prepare.ts'
import { probeLine, renderCapacity } from './find-max-render.ts'
import { startRun } from '../engine/run.ts'
import { createLogger } from '../log/logger.ts'
import { parseScenarioText, resolveScenario } from '../scenario/load-scenario.ts'
import { localPolicy } from '../scenario/trust-policy.ts'
import { installLastResortHandlers } from '../service/last-resort.ts'
import { SqliteStore } from '../store/sqlite-store.ts'
import { defaultDbPath } from './default-paths.ts'
import { EXIT } from './exit-codes.ts'
import { limitsFrom } from './limit-flags.ts'
import { reportStartupError } from './run-command.ts'

/** The usage lines of `find-max`, for the CLI's help. */
export const FIND_MAX_USAGE = `  iotload find-max <scenario.yaml|-> [--slo e2e.p99=10ms]… [--json out.json] [--db path] [--quiet] [--verbose]
                   [--from 1000/s] [--to 200000/s] [--precision 5%] [--probe-duration 10s] [--warmup 2s]
                   [--max-probes 20] [--max-time 1h] [--max-final-lag 50ms]
                                     the highest rate the path sustains, what set the limit, and the latency curve
                                     (exit 1: fails at the floor rate; every probe is a stored run)`

/** Variables that set what find-max sets on every probe: they would contradict it. */
const SEARCH_SETS = ['RATE', 'TOTAL_RATE', 'STAGES', 'DURATION', 'WARMUP'].map((k) => `IOTLOAD_PRODUCER_${k}`)

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

/** `--slo e2e.p99=10ms --slo loss=0` (or comma-separated) → `{ 'e2e.p99': '10ms', loss: '0' }`. */
function sloFlags(values: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const item of values.flatMap((v) => v.split(','))) {
    const m = /^\s*([^=\s]+)\s*=\s*(\S+)\s*$/.exec(item)
    if (!m) throw new ConfigError('--slo', `expected key=value like e2e.p99=10ms, got '${item}'`)
    out[m[1]!] = m[2]!
  }
  return out
}

function searchOptions(v: Record<string, string | string[] | boolean | undefined>): CapacityOptions {
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined)
  const rate = (k: string) => {
    const s = str(k)
    return s === undefined ? undefined : /^\s*[\d.]+\s*$/.test(s) ? `${s}/s` : s
  }
  const int = (k: string) => (str(k) === undefined ? undefined : Number(str(k)))
  const raw = {
    ...(Array.isArray(v.slo) && v.slo.length > 0 ? { slo: sloFlags(v.slo) } : {}),
    from: rate('from'),
    to: rate('to'),
    precision: str('precision'),
    probeDuration: str('probe-duration'),
    warmup: str('warmup'),
    maxProbes: int('max-probes'),
    maxTime: str('max-time'),
    maxFinalLag: str('max-final-lag'),
  }
  const parsed = capacityOptionsSchema.safeParse(
    Object.fromEntries(Object.entries(raw).filter(([, x]) => x !== undefined)),
  )
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]!
  throw new ConfigError(`--${kebab(String(issue.path[0] ?? ''))}`, issue.message)
}

/** `iotload find-max`: runs the search in this process, prints the knee and its curve, returns the exit code. */
export async function findMaxCommand(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const write = (s: string) => process.stderr.write(s)
  let values: Record<string, string | string[] | boolean | undefined>
  let positionals: string[]
  try {
    ;({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        slo: { type: 'string', multiple: true },
        json: { type: 'string' },
        db: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        verbose: { type: 'boolean', short: 'v' },
        from: { type: 'string' },
        to: { type: 'string' },
        precision: { type: 'string' },
        'probe-duration': { type: 'string' },
        warmup: { type: 'string' },
        'max-probes': { type: 'string' },
        'max-time': { type: 'string' },
        'max-final-lag': { type: 'string' },
        'max-rate': { type: 'string' },
        'max-devices': { type: 'string' },
        'max-run-time': { type: 'string' },
        'max-payload-bytes': { type: 'string' },
        'max-workers': { type: 'string' },
      },
    }))
  } catch (err) {
    write(`error: ${(err as Error).message}\n\nusage:\n${FIND_MAX_USAGE}\n`)
    return EXIT.badInput
  }
  const verbose = values.verbose === true
  const file = positionals[0]
  if (!file) {
    write(
      `error: find-max needs a scenario file (or '-' for environment-only)\n\nusage:\n${FIND_MAX_USAGE}\n`,
    )
    return EXIT.badInput
  }
  const str = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined)
  const logger = createLogger({ level: verbose ? 'debug' : 'warn' })
  const probeEnv = Object.fromEntries(Object.entries(env).filter(([k]) => !SEARCH_SETS.includes(k)))
  let prepared: Awaited<ReturnType<typeof prepareSearch>>
  let policy: ReturnType<typeof localPolicy>
  try {
    const options = searchOptions(values)
    const limits = limitsFrom(
      {
        maxRate: str('max-rate'),
        maxDevices: str('max-devices'),
        maxRunTime: str('max-run-time'),
        maxPayloadBytes: str('max-payload-bytes'),
        maxWorkers: str('max-workers'),
      },
      env,
    )
    policy = localPolicy(limits)
    const raw = file === '-' ? {} : parseScenarioText(await readScenario(file), file)
    prepared = await prepareSearch(
      raw,
      options,
      (r) => resolveScenario(r, { policy, env }),
      policy.limits,
      (r) => resolveScenario(r, { policy, env: probeEnv }),
    )
  } catch (err) {
    const code = reportStartupError(err, verbose, write)
    // A bad limit flag is bad input too (limitsFrom throws plain errors naming the flag).
    return /^--/.test((err as Error).message) ? EXIT.badInput : code
  }
  const db = str('db') ?? defaultDbPath()
  const store = new SqliteStore(db)
  const stray = installLastResortHandlers(logger)
  const quiet = values.quiet === true
  const search = new CapacitySearch(prepared, {
    startRun: (resolved) => startRun(resolved, { store, logger }),
    resolveProbe: (r) => resolveScenario(r, { policy, env: probeEnv }),
    store: new SqliteCapacityStore(store.database),
    logger,
    onProbe: (p, i) => {
      if (!quiet) write(`${probeLine(p, i)}\n`)
    },
  })
  if (!quiet)
    write(
      `find-max ${search.id}: from ${prepared.bounds.floor}/s, doubling then bisecting to ${Math.round(prepared.options.precision * 1000) / 10}%, up to ${prepared.bounds.maxProbes} probes of ${prepared.durationMs / 1000}s (+${prepared.warmupMs / 1000}s warm-up)\n`,
    )
  let interrupted: NodeJS.Signals | undefined
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) process.exit(130)
    interrupted = signal
    write('stopping: ending the current probe and keeping every result (Ctrl-C again to abort)\n')
    search.stop()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  let result: Awaited<typeof search.done>
  try {
    result = await search.done
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    stray.uninstall()
    store.close()
  }
  process.stdout.write(`${renderCapacity(prepared.name, result)}\nresults: ${db} (search ${search.id})\n`)
  const json = str('json')
  if (json)
    await writeFile(json, `${JSON.stringify({ id: search.id, name: prepared.name, ...result }, null, 2)}\n`)
  if (interrupted) return interrupted === 'SIGTERM' ? EXIT.terminated : EXIT.interrupted
  if (result.status === 'floor-fails') return EXIT.sloFailed
  return result.status === 'error' ? EXIT.runtime : EXIT.ok
}

async function readScenario(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    throw new ConfigError(
      '',
      `cannot read scenario file '${path}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    )
  }
}
