import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { RunSummary } from '../../daemon/src/engine/summary.ts'
import { sustained } from './in-process-run.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const run = promisify(execFile)

/**
 * One trial in a fresh `iotload run` process (no JIT or socket state carried between probes),
 * judged by `sustained`. `dir` holds the scenario, summary and database of each trial.
 */
export async function cliTrial(
  dir: string,
  scenario: Record<string, unknown>,
  targetRate: number,
): Promise<{ ok: boolean; detail: string }> {
  const tag = randomUUID().slice(0, 8)
  const file = join(dir, `${tag}.json`)
  const out = join(dir, `${tag}.out.json`)
  await writeFile(file, JSON.stringify(scenario))
  const args = [
    join(ROOT, 'daemon/bin/iotload.js'),
    'run',
    file,
    '--json',
    out,
    '--db',
    join(dir, `${tag}.db`),
    '--quiet',
  ]
  const exit = await run('node', args, { cwd: ROOT, timeout: 180_000 }).then(
    () => 0,
    (err: { code?: number }) => err.code ?? -1,
  )
  if (exit !== 0 && exit !== 1) return { ok: false, detail: `${Math.round(targetRate)}/s: exit ${exit}` }
  return sustained(JSON.parse(await readFile(out, 'utf8')) as RunSummary, targetRate)
}
