import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { requireBinary } from '@iotload/sdk/testing'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, describe, expect, it } from 'vitest'
import { startRun } from '../engine/run.ts'
import { memoryScenario } from '../engine/testing/memory-scenario.ts'
import { createLogger } from '../log/logger.ts'
import { SqliteStore } from '../store/sqlite-store.ts'
import { renderReport } from './html/render.ts'
import { reportRunFromStore } from './report-model.ts'

// A run with a fault and an outage, opened in headless Chromium: both are marked on every chart
// over time, and listed with their recovery figures.
const installed = requireBinary('chromium', 'Debian package chromium')
const dir = mkdtempSync(join(tmpdir(), 'iotload-report-faults-'))
let browser: Browser | undefined
afterAll(async () => {
  await browser?.close()
  rmSync(dir, { recursive: true, force: true })
})

describe.skipIf(!installed)('faults in the HTML report', () => {
  it('marks the fault and the outage on every time chart and lists them', async () => {
    const store = new SqliteStore(join(dir, 'runs.db'))
    const { resolved, bus } = await memoryScenario({
      name: 'faulty',
      producer: { devices: 4, rate: '20/s', duration: '6s', warmup: '1s', topic: 'f/{device}', qos: 1 },
      run: { drain: '1s', generator: { maxEventLoopDelay: '10s' } },
      faults: [{ name: 'a harmless command', at: '2s', exec: 'true' }],
    })
    const summary = await startRun(resolved, {
      store,
      logger: createLogger({ level: 'error' }),
      onSecond: (r) => {
        if (r.second === 4) bus.disconnect()
        if (r.second === 5) bus.reconnect()
      },
    }).result
    expect(summary.faults?.faults).toHaveLength(1)
    expect(summary.faults?.outages).toHaveLength(1)
    const html = renderReport([reportRunFromStore(store, summary.run.id)!])
    store.close()
    const file = join(dir, 'report.html')
    writeFileSync(file, html)
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    })
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
    const problems: string[] = []
    page.on('pageerror', (e) => problems.push(e.message))
    await page.goto(pathToFileURL(file).href)
    await page.waitForSelector('body[data-charts="done"]', { timeout: 15_000 })
    expect(problems).toEqual([])
    const marks = await page.$$eval('figure.chart', (figs) =>
      figs.map((f) => {
        const data = (f as unknown as { dataset: Record<string, string | undefined> }).dataset
        return [f.id, data.faults ?? null, data.empty ?? null]
      }),
    )
    const timeCharts = marks.filter(([id, , empty]) => id !== 'chart-spectrum-0' && empty !== 'true')
    expect(timeCharts.length).toBeGreaterThanOrEqual(5)
    for (const [id, faults] of timeCharts) expect(faults, id!).toBe('2')
    const table = await page.textContent('body')
    expect(table).toContain('Faults and outages')
    expect(table).toContain('a harmless command')
    expect(table).toContain('outage (not caused by iotload)')
  }, 60_000)
})
