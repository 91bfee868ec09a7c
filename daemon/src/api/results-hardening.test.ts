import { serve } from '@hono/node-server'
import { freePort } from '@iotload/sdk/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { createLogger } from '../log/logger.ts'
import { RunManager } from '../service/run-manager.ts'
import { SqliteStore } from '../store/sqlite-store.ts'
import { createApp } from './app.ts'
import { seedRun } from './test-fixtures.ts'
import { Counters } from '../engine/counters.ts'
import { LatencyStream } from '../engine/latency-stream.ts'
import { runPercentiles } from '../service/percentiles.ts'
import { MAX_EVENT_STREAMS } from './routes/events.ts'

// An attacker's review of the results routes (events, report, compare, exports): each test is an
// attack that worked before its fix. Runs on the in-process memory broker: the routes are under test.
const store = new SqliteStore(':memory:')
const manager = new RunManager({ store, logger: createLogger({ level: 'error' }), env: {} })
const app = createApp({ manager, logger: createLogger({ level: 'error' }) })
afterAll(async () => {
  await manager.shutdown()
  store.close()
})

async function startRun(duration: string): Promise<string> {
  const res = await app.request('/v1/runs', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'hardening',
      broker: { plugin: 'memory', bus: `hardening-${Date.now()}-${Math.random()}` },
      producer: { devices: 2, totalRate: '20/s', duration, topic: 'h/{device}' },
      run: { drain: '200ms' },
    }),
  })
  expect(res.status, await res.clone().text()).toBe(201)
  return ((await res.json()) as { id: string }).id
}

describe('results routes under attack', () => {
  it('refuses event streams beyond a bound: thousands of subscribers cannot starve a measuring run', async () => {
    const id = await startRun('30s')
    const open: Array<{ abort: AbortController; reader: ReadableStreamDefaultReader<Uint8Array> }> = []
    for (let i = 0; i < MAX_EVENT_STREAMS; i++) {
      const abort = new AbortController()
      const res = await app.request(`/v1/runs/${id}/events`, { signal: abort.signal })
      expect(res.status).toBe(200)
      const reader = res.body!.getReader()
      await reader.read()
      open.push({ abort, reader })
    }
    const refused = await app.request(`/v1/runs/${id}/events`)
    expect(refused.status).toBe(429)
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('TOO_MANY_STREAMS')
    // A client that leaves gives its place back.
    const first = open.shift()!
    first.abort.abort()
    await first.reader.cancel().catch(() => {})
    let again: Response | undefined
    for (let i = 0; i < 50; i++) {
      again = await app.request(`/v1/runs/${id}/events`)
      if (again.status === 200) break
      await new Promise((r) => setTimeout(r, 20))
    }
    expect(again!.status).toBe(200)
    await again!.body?.cancel()
    for (const s of open) {
      s.abort.abort()
      await s.reader.cancel().catch(() => {})
    }
    manager.stop(id)
    await manager.settled(id)
  }, 30_000)

  it('serves reports with a sandboxing CSP header and nosniff: script in a report could not call the API', async () => {
    const id = await startRun('1s')
    await manager.settled(id)
    for (const url of [`/v1/runs/${id}/report`, `/v1/compare?ids=${id}`]) {
      const res = await app.request(url)
      expect(res.status, url).toBe(200)
      const csp = res.headers.get('content-security-policy') ?? ''
      // An opaque origin: whatever ran in the page would send Origin: null, which the API refuses.
      expect(csp, url).toMatch(/(^|;\s*)sandbox allow-scripts(;|$)/)
      expect(csp, url).toMatch(/default-src 'none'/)
      expect(csp, url).toMatch(/script-src 'sha256-[^']+' 'sha256-[^']+';/)
      expect(csp, url).toMatch(/frame-ancestors 'none'/)
      expect(csp, url).not.toMatch(/unsafe-inline'[^;]*script|script-src[^;]*unsafe/)
      // The header allows exactly the scripts the page was written with.
      const html = await res.text()
      for (const hash of csp.match(/'sha256-[^']+'/g) ?? []) expect(html).toContain(hash)
      expect(res.headers.get('x-content-type-options'), url).toBe('nosniff')
    }
    for (const url of [
      `/v1/runs/${id}`,
      `/v1/runs/${id}/series?format=csv`,
      `/v1/runs/${id}/histogram`,
      '/nope',
    ]) {
      const res = await app.request(url)
      expect(res.headers.get('x-content-type-options'), url).toBe('nosniff')
    }
    const refused = await app.request('/v1/runs', { headers: { origin: 'null' } })
    expect(refused.status).toBe(403)
  })

  it('refuses a run listed twice in a comparison: 20 copies of one long run cost 20 reports', async () => {
    const id = await startRun('1s')
    await manager.settled(id)
    const res = await app.request(`/v1/compare?ids=${Array(20).fill(id).join(',')}`)
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { path: string; message: string } }
    expect(body.error.path).toBe('query.ids')
    expect(body.error.message).toContain('twice')
    expect((await app.request(`/v1/compare?ids=${id},${id}&format=json`)).status).toBe(400)
  })

  it('merges a long range a few seconds per turn of the event loop: a read cannot stall a measuring run', async () => {
    // Seconds since the start of a long run, merged exactly: ~0.25 ms each, all on the loop runs measure with.
    seedRun(store, 'longrange', { createdAt: Date.now(), seconds: 1200, finished: false })
    // And one second long after a hole (a store write that failed): still merged, exactly.
    const late = new LatencyStream('e2e', true)
    late.record(5_000_000, 5_000_100)
    store.appendSecond('longrange', {
      second: 2500,
      warmup: false,
      counters: new Counters(),
      gaps: 0,
      streams: [{ stream: 'e2e', snapshot: late.rollSecond() }],
    })
    for (const url of [
      '/v1/runs/longrange/percentiles?from=0&to=1199',
      '/v1/runs/longrange/percentiles?format=hgrm&from=0&to=1199',
      '/v1/runs/longrange/histogram?from=0&to=1199',
      '/v1/runs/longrange/percentiles?from=0',
      '/v1/runs/longrange/percentiles',
    ]) {
      let turns = 0
      let waiting = true
      const turn = () => {
        turns++
        if (waiting) setImmediate(turn)
      }
      setImmediate(turn)
      const res = await app.request(url)
      waiting = false
      expect(res.status, url).toBe(200)
      // Not a speed figure: how often other work (a run's next send) got the loop meanwhile.
      expect(turns, url).toBeGreaterThanOrEqual(10)
      if (!url.includes('hgrm') && !url.includes('histogram')) {
        const body = (await res.json()) as { count: number; points: unknown[] }
        const q = new URL(url, 'http://x').searchParams
        const range = {
          ...(q.has('from') ? { from: Number(q.get('from')) } : {}),
          ...(q.has('to') ? { to: Number(q.get('to')) } : {}),
        }
        const exact = runPercentiles(store, 'longrange', 'e2e', 'raw', range)!
        expect(body.count, url).toBe(exact.count)
        expect(body.points, url).toEqual(exact.points)
        expect(body.count, url).toBe(q.has('to') ? 1200 * 100 : 1200 * 100 + 1)
      }
    }
  }, 60_000)

  it('says nosniff on every response as the daemon serves them (@hono/node-server), errors and streams too', async () => {
    const id = await startRun('1s')
    await manager.settled(id)
    const port = await freePort()
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port })
    try {
      await new Promise((r) => server.once('listening', r))
      const base = `http://127.0.0.1:${port}`
      for (const [path, init] of [
        [`/v1/runs/${id}`, {}],
        ['/v1/runs?limit=0', {}],
        ['/nope', {}],
        [`/v1/runs/${id}/report`, {}],
        [`/v1/runs/${id}/series?format=csv`, {}],
        [`/v1/runs/${id}/events`, {}],
        ['/v1/runs', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }],
      ] as const) {
        const res = await fetch(`${base}${path}`, init)
        expect(res.headers.get('x-content-type-options'), `${path} ${res.status}`).toBe('nosniff')
        if (path.endsWith('/report'))
          expect(res.headers.get('content-security-policy')).toMatch(/sandbox allow-scripts/)
        await res.body?.cancel()
      }
    } finally {
      server.close()
    }
  })
})
