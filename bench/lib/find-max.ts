import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { CapacityResult } from '../../daemon/src/capacity/result.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const run = promisify(execFile)

/** Search settings of a bench capacity figure: the same flags a user gives `iotload find-max`. */
export interface FindMaxFlags {
  from: number
  to: number
  /** @default '5%' */
  precision?: string
  /** @default '5s' */
  probeDuration?: string
  /** @default '1s' */
  warmup?: string
  /** @default 12 */
  maxProbes?: number
}

/** The result of `iotload find-max --json`: the search id beside the CapacityResult. */
export type FindMaxOutput = CapacityResult & { id: string; name: string }

/**
 * Runs `iotload find-max` on a scenario in a process of its own, exactly as a user would (one
 * implementation of the search: the bench has none of its own), and returns its `--json` result.
 */
export async function findMax(
  scenario: Record<string, unknown>,
  flags: FindMaxFlags,
): Promise<FindMaxOutput> {
  const dir = await mkdtemp(join(tmpdir(), 'iotload-bench-find-max-'))
  try {
    const file = join(dir, `${randomUUID().slice(0, 8)}.json`)
    const out = join(dir, 'result.json')
    await writeFile(file, JSON.stringify(scenario))
    const args = [
      join(ROOT, 'daemon/bin/iotload.js'),
      'find-max',
      file,
      '--json',
      out,
      '--db',
      join(dir, 'bench.db'),
      '--quiet',
      '--from',
      `${Math.round(flags.from)}/s`,
      '--to',
      `${Math.round(flags.to)}/s`,
      '--precision',
      flags.precision ?? '5%',
      '--probe-duration',
      flags.probeDuration ?? '5s',
      '--warmup',
      flags.warmup ?? '1s',
      '--max-probes',
      String(flags.maxProbes ?? 12),
    ]
    const exit = await run('node', args, { cwd: ROOT, timeout: 30 * 60_000 }).then(
      () => 0,
      (err: { code?: number; stderr?: string }) => {
        if (err.code === 1) return 1
        throw new Error(`iotload find-max exited ${err.code}: ${String(err.stderr ?? '').slice(-500)}`)
      },
    )
    const result = JSON.parse(await readFile(out, 'utf8')) as FindMaxOutput
    if (exit === 1 && result.status !== 'floor-fails') throw new Error(`find-max exit 1: ${result.message}`)
    return result
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Producer threads the search's probes ran (`run.workers` as resolved): the most of any probe. */
export function probeWorkers(r: FindMaxOutput): number {
  return Math.max(1, ...r.curve.map((p) => p.producerWorkers ?? 1))
}

/**
 * The target of a capacity figure: `floor` of the raw client, and with `workers` beyond 1 at least
 * what `workers: 1` held (`single`). When `auto` ran one thread (a broker on this machine takes half
 * its cores), it is the configuration of `workers: 1` again: the two figures differ by run-to-run
 * noise only, and the second target holds by construction, as the text says.
 */
export function capacityTarget(
  floor: number,
  ratio: number,
  single: number | undefined,
  r: FindMaxOutput,
): { target: string; met: boolean } {
  if (single === undefined) return { target: `≥ ${floor}`, met: ratio >= floor }
  if (probeWorkers(r) === 1)
    return {
      target: `≥ ${floor}; auto ran one thread (the broker shares this machine): workers: 1's configuration (${single} in the same run)`,
      met: ratio >= floor,
    }
  return { target: `≥ ${floor}, and ≥ workers: 1 (${single})`, met: ratio >= floor && ratio >= single }
}

/** The search as a BENCHMARKS note: its verdict, who set the limit, and every probe of the curve. */
export function findMaxNotes(r: FindMaxOutput): string {
  const ms = (us: number) => `${(us / 1000).toFixed(1)}ms`
  const curve = r.curve
    .map(
      (p) =>
        `${p.ok ? 'ok' : `FAIL(${p.limit})`} ${Math.round(p.rate)}/s → sent ${Math.round(p.sendRate)}/s, recv ${Math.round(p.receiveRate)}/s, p50 ${ms(p.e2e.raw.p50)}, p99 ${ms(p.e2e.raw.p99)}, p99.9 ${ms(p.e2e.raw.p999)}${p.cpu !== undefined ? `, cpu ${p.cpu.toFixed(2)}` : ''}`,
    )
    .join('; ')
  const set =
    r.limitedBy === 'generator'
      ? 'limit set by the GENERATOR (iotload on this 2-core machine): a lower bound for the broker'
      : r.limitedBy === 'broker'
        ? 'limit set by the BROKER path'
        : r.limitedBy === 'ceiling'
          ? 'the ceiling held: a lower bound'
          : `search ${r.status}`
  const threads = probeWorkers(r)
  return `iotload find-max (${r.probes} probes, ${r.elapsedS}s, precision ${r.precision * 100}%, ${threads === 1 ? 'one thread' : `${threads} producer workers`}): ${set}. ${r.message}. Curve: ${curve}`
}

/** Who set the limit, for the BENCHMARKS table: `broker`, `generator (lower bound)`, `ceiling`, or the search's status. */
export function limitOf(r: FindMaxOutput): string {
  if (r.limitedBy === 'generator') return 'generator (lower bound for the broker)'
  return r.limitedBy ?? r.status
}
