/**
 * `npm run bench [suite…]`: runs bench/suites/*.ts (all, or the named ones), prints a table, and
 * records the figures in bench/results.json and BENCHMARKS.md. Suites not run this time keep
 * their previous figures, marked with the date they were measured. `npm run bench -- --report`
 * only renders BENCHMARKS.md again from bench/results.json.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isPortOpen } from '@iotload/sdk/testing'
import { scalingSection } from './lib/scaling.ts'
import type { BenchFigure, BenchSuite } from './lib/types.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const RESULTS = join(ROOT, 'bench', 'results.json')
const REPORT = join(ROOT, 'BENCHMARKS.md')

interface SuiteResult {
  suite: string
  measuredAt: string
  machine: string
  command: string
  figures: BenchFigure[]
  skipped?: string
  error?: string
}

async function loadSuites(names: string[]): Promise<BenchSuite[]> {
  const files = (await readdir(join(ROOT, 'bench', 'suites'))).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.test.ts'),
  )
  const suites: BenchSuite[] = []
  for (const f of files.sort()) {
    const mod = (await import(join(ROOT, 'bench', 'suites', f))) as { default: BenchSuite }
    if (names.length === 0 || names.includes(mod.default.name)) suites.push(mod.default)
  }
  return suites
}

function machine(): string {
  const [one, five] = loadavg()
  const model = cpus()[0]
  const cpu = model ? `, ${model.model.trim()}${model.speed > 0 ? ` at ${model.speed} MHz` : ''}` : ''
  return `${cpus().length} cores${cpu}, load ${one?.toFixed(1)}/${five?.toFixed(1)} (1/5 min), node ${process.version}`
}

/** The machine's CPU time so far (Linux /proc/stat, in ticks): all of it, and what the hypervisor stole. */
async function cpuTicks(): Promise<{ steal: number; total: number } | undefined> {
  try {
    const first = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? ''
    // user nice system idle iowait irq softirq steal: guest time is already inside user and nice.
    const ticks = first.trim().split(/\s+/).slice(1, 9).map(Number)
    return { steal: ticks[7] ?? 0, total: ticks.reduce((a, b) => a + b, 0) }
  } catch {
    return undefined
  }
}

/**
 * The share of the machine's CPU time the hypervisor gave other guests while a suite ran: a
 * shared VM's noise, stated beside its figures.
 */
function stealShare(
  before: { steal: number; total: number } | undefined,
  after: { steal: number; total: number } | undefined,
): string {
  if (!before || !after || after.total <= before.total) return ''
  const share = (after.steal - before.steal) / (after.total - before.total)
  return `, CPU steal ${(share * 100).toFixed(1)} % during the suite`
}

function fmt(n: number): string {
  return Number.isInteger(n)
    ? n.toLocaleString('en-US')
    : n.toLocaleString('en-US', { maximumFractionDigits: 3 })
}

/**
 * The capacity figures (those find-max produced) with who set each limit, and how they are found:
 * one search implementation, `iotload find-max`, shared by users and the bench.
 */
function capacitySection(results: SuiteResult[]): string[] {
  const rows = results.flatMap((r) => r.figures.filter((f) => f.limitedBy).map((f) => ({ r, f })))
  if (rows.length === 0) return []
  return [
    '',
    '## Capacity (find-max)',
    '',
    'Each capacity above is what `iotload find-max` reports for the path, run by the bench exactly as a',
    'user runs it (in a process of its own): probes of 5 s after a 1 s warm-up, doubling from a',
    "sixteenth of the raw client's ceiling, then bisection to 5 %. A probe holds when nothing is lost",
    'or left undelivered, send and receive rates reach 97 % of the target, the generator still keeps',
    'its schedule over the last tenth of the probe (send lag p50 ≤ 50 ms) and every SLO holds. The',
    'first failing probe names what set the limit: the **broker** path (loss, broker lag, latency), or',
    'the **generator**: iotload could not issue the load on this machine (2 cores shared by the broker,',
    'iotload and other work), so the capacity is a lower bound for the broker. The `cpu` of each probe',
    'is the cores iotload used while sending: well under one core while the generator lags means the',
    "CPU went to other processes. The raw ceiling is the broker's own client library flat out, measured",
    'in the same run; the whole curve of every search is in the notes below.',
    '',
    '| suite | path | capacity | raw client ceiling | ratio | limit set by | measured |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      ({ r, f }) =>
        `| ${r.suite} | ${f.metric.replace(/^max sustained e2e rate,? ?(through )?/, '').replace(' (find-max)', '')} | ${fmt(f.value)} ${f.unit} | ${f.baseline ? fmt(f.baseline.value) : ''} | ${f.ratio ?? ''} | ${f.limitedBy} | ${r.measuredAt} (load ${r.machine.replace(/.*load ([\d./]+).*/, '$1')}) |`,
    ),
  ]
}

function renderReport(results: SuiteResult[]): string {
  const lines = [
    '# Benchmarks',
    '',
    'Recorded by `npm run bench` (all suites) or `npm run bench -- <suite>`; machine-readable copy in',
    '`bench/results.json`. This machine is shared and noisy, so every comparison is a ratio against a',
    'baseline measured in the same run, on the same broker. Targets are checked here, never in tests.',
    '',
    '| suite | metric | value | baseline | ratio | target | measured |',
    '|---|---|---|---|---|---|---|',
  ]
  for (const r of results) {
    if (r.skipped || r.error) {
      lines.push(
        `| ${r.suite} | ${r.skipped ? `skipped: ${r.skipped}` : `error: ${r.error}`} | | | | | ${r.measuredAt} |`,
      )
      continue
    }
    for (const f of r.figures) {
      const baseline = f.baseline ? `${fmt(f.baseline.value)} ${f.unit} (${f.baseline.name})` : ''
      const target = f.target ? `${f.target} ${f.met === undefined ? '' : f.met ? '✅' : '❌'}` : ''
      lines.push(
        `| ${r.suite} | ${f.metric}${f.limitedBy ? ` — limit: **${f.limitedBy}**` : ''} | ${fmt(f.value)} ${f.unit} | ${baseline} | ${f.ratio === undefined ? '' : Number(f.ratio.toFixed(3))} | ${target} | ${r.measuredAt} |`,
      )
    }
  }
  lines.push(...capacitySection(results))
  lines.push(...scalingSection(results))
  lines.push('', '## Notes and conditions', '')
  for (const r of results) {
    lines.push(
      `### ${r.suite}`,
      '',
      `- command: \`${r.command}\``,
      `- machine: ${r.machine}`,
      `- measured: ${r.measuredAt}`,
    )
    for (const f of r.figures) if (f.notes) lines.push(`- ${f.metric}: ${f.notes}`)
    lines.push('')
  }
  return `${lines.join('\n')}\n`
}

async function main(): Promise<void> {
  const names = process.argv.slice(2)
  // `npm run bench -- --report`: BENCHMARKS.md again from bench/results.json, nothing measured.
  if (names.includes('--report')) {
    const all = JSON.parse(await readFile(RESULTS, 'utf8')) as SuiteResult[]
    await writeFile(REPORT, renderReport(all.sort((a, b) => a.suite.localeCompare(b.suite))))
    process.exit(0)
  }
  const suites = await loadSuites(names)
  if (suites.length === 0) throw new Error(`no suite named ${names.join(', ')} in bench/suites`)
  let previous: SuiteResult[] = []
  try {
    previous = JSON.parse(await readFile(RESULTS, 'utf8')) as SuiteResult[]
  } catch {}
  const byName = new Map(previous.map((r) => [r.suite, r]))
  for (const suite of suites) {
    const result: SuiteResult = {
      suite: suite.name,
      measuredAt: new Date().toISOString().slice(0, 16).replace('T', ' '),
      machine: machine(),
      command: `npm run bench -- ${suite.name}`,
      figures: [],
    }
    const missing: string[] = []
    for (const r of suite.requires ?? [])
      if (!(await isPortOpen(r.host, r.port, 2000))) missing.push(`${r.name} (${r.host}:${r.port})`)
    if (missing.length > 0) {
      result.skipped = `${missing.join(', ')} not reachable`
      process.stderr.write(`bench ${suite.name}: SKIPPED, ${result.skipped}\n`)
    } else {
      process.stderr.write(`bench ${suite.name}: running…\n`)
      const ticks = await cpuTicks()
      try {
        result.figures = await suite.run()
      } catch (err) {
        result.error = (err as Error).message
        process.stderr.write(`bench ${suite.name}: FAILED ${(err as Error).stack}\n`)
      }
      result.machine += stealShare(ticks, await cpuTicks())
    }
    // Re-read before writing: another `npm run bench <suite>` may have finished meanwhile.
    try {
      for (const r of JSON.parse(await readFile(RESULTS, 'utf8')) as SuiteResult[])
        if (r.suite !== suite.name) byName.set(r.suite, r)
    } catch {}
    byName.set(suite.name, result)
    for (const f of result.figures) {
      process.stdout.write(
        `${suite.name.padEnd(8)} ${f.metric}${f.limitedBy ? ` [limit: ${f.limitedBy}]` : ''}: ${fmt(f.value)} ${f.unit}${f.baseline ? ` vs ${fmt(f.baseline.value)} (${f.baseline.name})` : ''}${f.ratio !== undefined ? ` ratio ${Number(f.ratio.toFixed(3))}` : ''}${f.target ? ` target ${f.target} ${f.met ? 'met' : 'NOT met'}` : ''}\n`,
      )
    }
    const all = [...byName.values()].sort((a, b) => a.suite.localeCompare(b.suite))
    await writeFile(RESULTS, `${JSON.stringify(all, null, 2)}\n`)
    await writeFile(REPORT, renderReport(all))
  }
  process.exit(0)
}

await main()
