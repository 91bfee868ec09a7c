import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { freePort, requireBinary } from '@iotload/sdk/testing'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startRun } from '../engine/run.ts'
import { memoryScenario } from '../engine/testing/memory-scenario.ts'
import { createLogger } from '../log/logger.ts'
import { resolveScenario } from '../scenario/load-scenario.ts'
import { SqliteStore } from '../store/sqlite-store.ts'
import { renderReport } from './html/render.ts'
import { type ReportRun, reportRunFromStore } from './report-model.ts'

// The report as a user opens it: a file:// URL in a real (headless) Chromium, offline.
const CHROMIUM = '/usr/bin/chromium'
const installed = requireBinary(
  'chromium',
  'Debian package chromium: apt-get install -y chromium (.ci/run does)',
)
const dir = mkdtempSync(join(tmpdir(), 'iotload-report-'))
const logger = createLogger({ level: 'error' })
let browser: Browser | undefined
const runs: ReportRun[] = []

/** Two measured runs through the bridge (legs, warm-up, SLOs) and one that failed to connect. */
async function recordRuns(): Promise<void> {
  const store = new SqliteStore(join(dir, 'runs.db'))
  const measured = await Promise.all(
    ['300/s', '600/s'].map(async (rate) => {
      const { resolved } = await memoryScenario({
        name: `memory ${rate}`,
        producer: { devices: 6, totalRate: rate, duration: '3s', warmup: '1s', topic: 'd/{device}', qos: 1 },
        bridge: { from: 'd/{device}', to: 'a/{device}' },
        slo: { 'e2e.p99': '1s', loss: 0 },
        run: { drain: '500ms' },
      })
      return (await startRun(resolved, { store, logger }).result).run.id
    }),
  )
  const dead = await resolveScenario(
    {
      name: 'broker down',
      broker: { plugin: 'mqtt', url: `mqtt://127.0.0.1:${await freePort()}` },
      producer: { devices: 2, rate: '1/s', duration: '1s', topic: 't/{device}' },
    },
    { env: {} },
  )
  const failed = (await startRun(dead, { store, logger }).result).run.id
  for (const id of [...measured, failed]) runs.push(reportRunFromStore(store, id)!)
  store.close()
}

interface Opened {
  page: Page
  problems: string[]
  requests: string[]
}

async function open(html: string, name: string): Promise<Opened> {
  const file = join(dir, name)
  writeFileSync(file, html)
  const url = pathToFileURL(file).href
  const page = await browser!.newPage({ viewport: { width: 1200, height: 900 } })
  const problems: string[] = []
  const requests: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`)
  })
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  page.on('request', (r) => {
    if (r.url() !== url) requests.push(r.url())
  })
  await page.goto(url)
  await page.waitForSelector('body[data-charts="done"]', { timeout: 15_000 })
  return { page, problems, requests }
}

/** Per chart: points its script drew, and coloured (non-grey) pixels on its canvas. */
function charts(
  page: Page,
): Promise<Array<{ id: string; empty: boolean; points: number; coloured: number }>> {
  return page.$$eval('figure.chart', (figs) =>
    figs.map((f) => {
      // Browser objects, typed loosely: the test's tsconfig has no DOM library.
      const fig = f as unknown as { id: string; dataset: Record<string, string | undefined> }
      const canvas = f.querySelector('canvas') as unknown as {
        width: number
        height: number
        getContext(k: '2d'): {
          getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray }
        }
      } | null
      let coloured = 0
      if (canvas) {
        const px = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data
        for (let i = 0; i < px.length; i += 4) {
          const [r, g, b, a] = [px[i]!, px[i + 1]!, px[i + 2]!, px[i + 3]!]
          if (a > 0 && Math.max(r, g, b) - Math.min(r, g, b) > 40) coloured++
        }
      }
      return {
        id: fig.id,
        empty: fig.dataset.empty === 'true',
        points: Number(fig.dataset.points ?? 0),
        coloured,
      }
    }),
  )
}

describe.skipIf(!installed)('the HTML report in headless Chromium', () => {
  beforeAll(async () => {
    await recordRuns()
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    })
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
  })

  it('a run: no console errors, no requests, every chart drawn with data', async () => {
    const { page, problems, requests } = await open(renderReport([runs[0]!]), 'single.html')
    expect(problems).toEqual([])
    expect(requests).toEqual([])
    const drawn = await charts(page)
    expect(drawn.map((c) => c.id)).toEqual(
      [
        'latency-raw',
        'latency-co',
        'spectrum',
        'throughput',
        'errors',
        'legs',
        'generator',
        'connections',
      ].map((k) => `chart-${k}-0`),
    )
    for (const c of drawn) {
      expect(c.empty, c.id).toBe(false)
      expect(c.points, c.id).toBeGreaterThan(0)
      expect(c.coloured, c.id).toBeGreaterThan(50)
    }
    await page.close()
  })

  it('a comparison: every run in the table (the failed one as failed), overlaid charts drawn', async () => {
    const { page, problems, requests } = await open(renderReport(runs), 'compare.html')
    expect(problems).toEqual([])
    expect(requests).toEqual([])
    const rows = await page.$$eval('table.compare tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''))
    expect(rows).toHaveLength(3)
    runs.forEach((r, i) => {
      expect(rows[i]).toContain(r.id)
      expect(rows[i]).toContain(r.name)
    })
    expect(rows[2]).toContain('failed')
    expect(rows[1]).toMatch(/×\d/)
    const drawn = await charts(page)
    expect(drawn.length).toBe(6)
    for (const c of drawn) {
      expect(c.empty, c.id).toBe(false)
      expect(c.points, c.id).toBeGreaterThan(0)
      expect(c.coloured, c.id).toBeGreaterThan(50)
    }
    await page.close()
  })
})
