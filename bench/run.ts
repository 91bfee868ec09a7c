/**
 * `npm run bench [suite…]`: runs bench/suites/*.ts (all, or the named ones), prints a table, and
 * records the figures in bench/results.json and BENCHMARKS.md. Suites not run this time keep
 * their previous figures, marked with the date they were measured.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isPortOpen } from '@iotload/sdk/testing'
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
  return `${cpus().length} cores, load ${one?.toFixed(1)}/${five?.toFixed(1)} (1/5 min), node ${process.version}`
}

function fmt(n: number): string {
  return Number.isInteger(n)
    ? n.toLocaleString('en-US')
    : n.toLocaleString('en-US', { maximumFractionDigits: 3 })
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
      try {
        result.figures = await suite.run()
      } catch (err) {
        result.error = (err as Error).message
        process.stderr.write(`bench ${suite.name}: FAILED ${(err as Error).stack}\n`)
      }
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
