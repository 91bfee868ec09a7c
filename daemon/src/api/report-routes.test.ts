import { afterAll, describe, expect, it } from 'vitest'
import { createLogger } from '../log/logger.ts'
import { RunManager } from '../service/run-manager.ts'
import { SqliteStore } from '../store/sqlite-store.ts'
import { createApp } from './app.ts'

// Runs on the in-process memory broker: the routes, not a broker, are under test.
const store = new SqliteStore(':memory:')
const manager = new RunManager({ store, logger: createLogger({ level: 'error' }), env: {} })
const app = createApp({ manager, logger: createLogger({ level: 'error' }) })
afterAll(async () => {
  await manager.shutdown()
  store.close()
})

const scenario = (bus: string, rate: string) => ({
  name: `report ${rate}`,
  broker: { plugin: 'memory', bus },
  producer: { devices: 5, totalRate: rate, duration: '2s', warmup: '1s', topic: 'r/{device}', qos: 1 },
  run: { drain: '500ms' },
})

async function start(body: unknown): Promise<string> {
  const res = await app.request('/v1/runs', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  expect(res.status).toBe(201)
  return ((await res.json()) as { id: string }).id
}

/** The events of an SSE body: [event, parsed data]. */
function events(text: string): Array<[string, Record<string, unknown>]> {
  return text
    .split('\n\n')
    .filter((b) => b.includes('event:'))
    .map((b) => {
      const event = /^event: (.*)$/m.exec(b)![1]!
      return [event, JSON.parse(/^data: (.*)$/m.exec(b)![1]!) as Record<string, unknown>]
    })
}

describe('report, compare, series csv, events and stop routes', () => {
  const ids: string[] = []

  it('streams each second as an event while the run executes, then `end`, and lets go of the listener', async () => {
    const id = await start(scenario(`sse-${Date.now()}`, '100/s'))
    ids.push(id)
    const res = await app.request(`/v1/runs/${id}/events`)
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const got = events(await res.text())
    const seconds = got.filter(([e]) => e === 'second').map(([, d]) => d)
    expect(got[0]![0]).toBe('live')
    expect(seconds.length).toBeGreaterThanOrEqual(3)
    expect(seconds.some((d) => typeof d.p99Us === 'number')).toBe(true)
    // Warm-up and measured arrivals: the 300 messages of 1 s + 2 s at 100/s.
    expect(seconds.reduce((n, d) => n + (d.received as number), 0)).toBe(300)
    expect(got.at(-1)).toEqual(['end', { status: 'completed' }])
    expect(manager.events.count(id)).toBe(0)
    // A run that ended: `end` at once.
    expect(events(await (await app.request(`/v1/runs/${id}/events`)).text())).toEqual([
      ['end', { status: 'completed' }],
    ])
  }, 20_000)

  it('live carries elapsed/remaining, the target rate and the last second; stop answers `stopping`', async () => {
    const id = await start({
      ...scenario(`stop-${Date.now()}`, '200/s'),
      producer: { ...scenario('', '200/s').producer, duration: '30s' },
    })
    ids.push(id)
    let live: Record<string, unknown> | null = null
    for (let i = 0; i < 60 && !(live?.lastSecond as { second?: number } | null)?.second; i++) {
      await new Promise((r) => setTimeout(r, 100))
      live = ((await (await app.request(`/v1/runs/${id}`)).json()) as { live: Record<string, unknown> }).live
    }
    expect(live).toMatchObject({
      targetRate: 200,
      stopping: false,
      connect: { target: 5, opened: 5, done: true },
    })
    expect(live!.elapsedS as number).toBeGreaterThan(1)
    expect(live!.remainingS as number).toBeLessThan(31)
    expect(Math.abs((live!.lastSecond as { sent: number }).sent - 200)).toBeLessThanOrEqual(10)
    // A client that goes away: its listener (and queue) go with it.
    const abort = new AbortController()
    const res = await app.request(`/v1/runs/${id}/events`, { signal: abort.signal })
    const reader = res.body!.getReader()
    await reader.read()
    expect(manager.events.count(id)).toBe(1)
    abort.abort()
    await reader.cancel().catch(() => {})
    for (let i = 0; i < 50 && manager.events.count(id) > 0; i++) await new Promise((r) => setTimeout(r, 20))
    expect(manager.events.count(id)).toBe(0)
    const stop = await app.request(`/v1/runs/${id}/stop`, { method: 'POST' })
    expect(stop.status).toBe(202)
    expect(await stop.json()).toEqual({ id, status: 'stopping' })
    await manager.settled(id)
    expect(store.getRun(id)?.status).toBe('stopped')
  }, 20_000)

  it('serves a run report and a comparison (HTML and JSON), and the series as CSV', async () => {
    const report = await app.request(`/v1/runs/${ids[0]}/report`)
    expect(report.status).toBe(200)
    expect(report.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await report.text()
    expect(html).toContain("default-src 'none'")
    expect(html).toContain('id="chart-spectrum-0"')
    const cmp = await app.request(`/v1/compare?ids=${ids.join(',')}&format=json`)
    const body = (await cmp.json()) as {
      baseline: string
      runs: Array<{ id: string; ratioToFirst: Record<string, number> }>
    }
    expect(body.baseline).toBe(ids[0])
    expect(body.runs.map((r) => r.id)).toEqual(ids)
    expect(body.runs[0]!.ratioToFirst.e2eRawP99).toBe(1)
    const page = await (await app.request(`/v1/compare?ids=${ids.join(',')}`)).text()
    for (const id of ids) expect(page).toContain(id)
    const csv = await app.request(`/v1/runs/${ids[0]}/series?format=csv&stream=e2e`)
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/)
    const lines = (await csv.text()).trim().split('\r\n')
    expect(lines[0]).toMatch(/^stream,second,warmup,sent,received,.*raw_p99_us/)
    expect(lines.length).toBeGreaterThanOrEqual(4)
  })

  it('refuses unknown ids, parameters and values, naming them', async () => {
    const miss = await app.request(`/v1/compare?ids=${ids[0]},nosuchrun`)
    expect(miss.status).toBe(404)
    expect(JSON.stringify(await miss.json())).toContain('nosuchrun')
    for (const [url, name] of [
      [`/v1/runs/${ids[0]}/report?theme=dark`, 'theme'],
      [`/v1/runs/${ids[0]}/events?since=3`, 'since'],
      [`/v1/compare?ids=${ids[0]}&format=pdf`, 'format'],
      [`/v1/runs/${ids[0]}/series?format=xml`, 'format'],
      ['/v1/compare?ids=a,b/c', 'ids'],
    ] as const) {
      const res = await app.request(url)
      expect(res.status, url).toBe(400)
      expect(JSON.stringify(await res.json()), url).toContain(name)
    }
  })
})
