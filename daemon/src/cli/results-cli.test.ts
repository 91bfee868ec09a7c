import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { spectrumOfEncoded } from '../report/report-model.ts'
import { main } from './main.ts'

const dir = mkdtempSync(join(tmpdir(), 'iotload-results-'))
const db = join(dir, 'results.db')

/** Runs the CLI in-process, capturing what it writes to stdout. */
async function cli(...args: string[]): Promise<{ code: number; out: string }> {
  let out = ''
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk)
    return true
  })
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
  try {
    return { code: await main(args), out }
  } finally {
    spy.mockRestore()
    err.mockRestore()
  }
}
afterEach(() => vi.restoreAllMocks())

/** `value percentile …` lines of an .hgrm file, as percentile (%) → value. */
function parseHgrm(text: string): Map<number, number> {
  const points = new Map<number, number>()
  for (const line of text.split('\n')) {
    const m = /^\s*([\d.]+)\s+([\d.]+)\s+\d+/.exec(line)
    if (m) points.set(Math.round(Number(m[2]) * 100 * 1e6) / 1e6, Number(m[1]))
  }
  return points
}

describe('results on the command line: runs, show, export, report, --version', () => {
  it('lists, shows, exports (json, csv, hgrm) and reports a stored run without a daemon', async () => {
    const scenario = join(dir, 'memory.yaml')
    writeFileSync(
      scenario,
      `name: cli results\nbroker: { plugin: memory, bus: cli-results }\nproducer: { devices: 4, totalRate: 200/s, duration: 2s, warmup: 0s, topic: "c/{device}", qos: 1 }\nrun: { drain: 300ms }\nslo: { loss: 0 }\n`,
    )
    const json = join(dir, 'out.json')
    expect((await cli('run', scenario, '--db', db, '--json', json, '--quiet')).code).toBe(0)
    const doc = JSON.parse(readFileSync(json, 'utf8'))
    // --json: the summary's keys as before, plus schema version, units, environment, scenario, series.
    expect(doc).toMatchObject({
      schemaVersion: 2,
      scenario: { name: 'cli results' },
      environment: { host: expect.any(String) },
    })
    expect(doc.streams.e2e.latency.raw.p99Us).toBe(doc.streams.e2e.latency.raw.p99)
    expect(doc.streams.e2e.ratePerS).toBe(doc.streams.e2e.rate)
    expect(
      doc.series.some(
        (r: { stream: string; raw: { p99Us: number } }) => r.stream === 'e2e' && r.raw.p99Us > 0,
      ),
    ).toBe(true)
    const id: string = doc.run.id

    const runs = await cli('runs', '--db', db)
    expect(runs.out).toMatch(
      new RegExp(
        `^${id}\\s+cli results\\s+\\S+ \\S+\\s+completed\\s+memory\\s+\\d+\\.\\d\\s+\\S+\\s+0\\s+PASS`,
        'm',
      ),
    )
    expect((await cli('show', id, '--db', db)).out).toContain(`run ${id} "cli results": completed`)

    const csv = (await cli('export', id, '--db', db, '--format', 'csv', '--stream', 'e2e')).out
      .trim()
      .split('\r\n')
    expect(csv[0]!.split(',').slice(0, 3)).toEqual(['stream', 'second', 'warmup'])
    expect(csv.slice(1).reduce((n, l) => n + Number(l.split(',')[3]), 0)).toBe(doc.streams.e2e.sent)

    // The .hgrm parses back to the spectrum of the run's cumulative histogram, point for point.
    const hgrm = parseHgrm((await cli('export', id, '--db', db, '--format', 'hgrm')).out)
    const spectrum = spectrumOfEncoded(doc.histograms.e2e.raw, doc.streams.e2e.latency.raw.max)
    expect(hgrm.size).toBe(spectrum.length)
    for (const p of spectrum) expect(hgrm.get(p.percentile), `p${p.percentile}`).toBeCloseTo(p.value, 3)
    expect(hgrm.get(99)).toBe(doc.streams.e2e.latency.raw.p99)
    expect(Math.max(...hgrm.values())).toBe(doc.streams.e2e.latency.raw.max)

    const html = join(dir, 'cmp.html')
    expect((await cli('report', id, json, '--db', db, '--out', html)).code).toBe(0)
    expect(readFileSync(html, 'utf8')).toContain('iotload comparison')
    const table = JSON.parse((await cli('compare', id, json, '--db', db, '--json', '--out', '-')).out)
    expect(table.runs.map((r: { id: string }) => r.id)).toEqual([id, id])
    expect(table.runs[1].ratioToFirst.e2eRawP99).toBe(1)
    expect((await cli('--version')).out).toMatch(/^iotload \d+\.\d+\.\d+ \((node|bun) /)
  }, 20_000)

  it('refuses unknown runs, formats and a missing database, naming them (exit 2)', async () => {
    expect((await cli('show', 'nosuchrun', '--db', db)).code).toBe(2)
    expect((await cli('export', 'x', '--db', db, '--format', 'xml')).code).toBe(2)
    expect((await cli('runs', '--db', join(dir, 'absent.db'))).code).toBe(2)
    expect((await cli('report', '--db', db)).code).toBe(2)
  })
})
