import { requireService } from '@iotload/sdk/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { createLogger } from '../log/logger.ts'
import { RunManager } from '../service/run-manager.ts'
import { SqliteStore } from '../store/sqlite-store.ts'
import { createApp } from './app.ts'
import { mqttScenario } from './test-fixtures.ts'

const up = await requireService('Mosquitto', '127.0.0.1', 1883)
const topic = `iotload-api-${process.pid}-${Date.now()}`

const post = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    const v = await probe()
    if (v !== undefined) return v
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

interface RunBody {
  status: string
  live: { second: number; sent: number; received: number } | null
  summary: { streams: { e2e: { sent: number; received: number } } } | null
}

describe.skipIf(!up)('runs over the API against Mosquitto', () => {
  const store = new SqliteStore(':memory:')
  const manager = new RunManager({ store, logger: createLogger({ write: () => {} }), maxRuns: 1 })
  const app = createApp({ manager, logger: createLogger({ write: () => {} }) })
  afterAll(async () => {
    await manager.shutdown()
    store.close()
  })
  const get = async (path: string) => (await app.request(path)).json()

  it('starts, shows live counters, refuses delete and a second run, stops and keeps the results', async () => {
    const scenario = mqttScenario(`${topic}/a`, {
      producer: { devices: 10, rate: '10/s', duration: '30s', topic: `${topic}/a/{device}` },
    })
    const res = await app.request('/v1/runs', post(scenario))
    expect(res.status).toBe(201)
    const { id, status } = (await res.json()) as { id: string; status: string }
    expect(res.headers.get('location')).toBe(`/v1/runs/${id}`)
    expect(['pending', 'connecting', 'running']).toContain(status)

    const live = await until('live counters', async () => {
      const run = (await get(`/v1/runs/${id}`)) as RunBody
      return run.status === 'running' && run.live && run.live.second >= 1 && run.live.received > 0
        ? run
        : undefined
    })
    expect(live.live!.sent).toBeGreaterThan(0)
    expect(live.summary).toBeNull()

    const del = await app.request(`/v1/runs/${id}`, { method: 'DELETE' })
    expect(del.status).toBe(409)
    expect(((await del.json()) as { error: { code: string } }).error.code).toBe('RUN_ACTIVE')

    const second = await app.request('/v1/runs', post(mqttScenario(`${topic}/b`)))
    expect(second.status).toBe(429)
    expect(((await second.json()) as { error: { message: string } }).error.message).toMatch(/limit is 1/)

    const midPercentiles = (await get(`/v1/runs/${id}/percentiles`)) as { source: string; count: number }
    expect(midPercentiles.source).toBe('series')
    expect(midPercentiles.count).toBeGreaterThan(0)

    const stop = await app.request(`/v1/runs/${id}/stop`, { method: 'POST' })
    expect(stop.status).toBe(202)
    await manager.settled(id)

    const done = (await get(`/v1/runs/${id}`)) as RunBody
    expect(done.status).toBe('stopped')
    expect(done.live).toBeNull()
    expect(done.summary!.streams.e2e.received).toBeGreaterThan(0)
    const series = (await get(`/v1/runs/${id}/series?stream=e2e`)) as {
      rows: Array<{ second: number; sent: number }>
    }
    expect(series.rows.length).toBeGreaterThanOrEqual(1)
    expect(series.rows.reduce((n, r) => n + (r.sent ?? 0), 0)).toBe(done.summary!.streams.e2e.sent)
    const spectrum = (await get(`/v1/runs/${id}/percentiles`)) as { source: string; count: number }
    expect(spectrum.source).toBe('summary')
    expect(spectrum.count).toBe(done.summary!.streams.e2e.received)
    expect((await app.request(`/v1/runs/${id}/stop`, { method: 'POST' })).status).toBe(409)
    expect((await app.request(`/v1/runs/${id}`, { method: 'DELETE' })).status).toBe(204)
  }, 120_000)

  it('runs a YAML scenario to completion with every message accounted for', async () => {
    const yaml = [
      'name: api-yaml',
      'broker: {plugin: mqtt, url: "mqtt://127.0.0.1:1883"}',
      `producer: {devices: 10, rate: 10/s, duration: 2s, topic: "${topic}/y/{device}", qos: 1}`,
      'run: {drain: 2s}',
    ].join('\n')
    const res = await app.request('/v1/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: yaml,
    })
    expect(res.status).toBe(201)
    const { id } = (await res.json()) as { id: string }
    await manager.settled(id)
    const run = (await get(`/v1/runs/${id}`)) as RunBody
    expect(run.status).toBe('completed')
    expect(run.summary!.streams.e2e.sent).toBeGreaterThan(0)
    expect(run.summary!.streams.e2e.received).toBe(run.summary!.streams.e2e.sent)
    const list = (await get('/v1/runs')) as { runs: Array<{ id: string }> }
    expect(list.runs[0]!.id).toBe(id)
  }, 120_000)

  it('admits exactly the limit when requests race', async () => {
    const results = await Promise.all(
      [1, 2, 3].map((i) => app.request('/v1/runs', post(mqttScenario(`${topic}/race${i}`)))),
    )
    const statuses = results.map((r) => r.status).sort()
    expect(statuses).toEqual([201, 429, 429])
    const winner = results.find((r) => r.status === 201)!
    const { id } = (await winner.json()) as { id: string }
    manager.stop(id)
    await manager.settled(id)
    expect(((await get(`/v1/runs/${id}`)) as RunBody).status).toMatch(/stopped|failed/)
  }, 120_000)

  it('a broker that refuses connections makes the run fail, not the request', async () => {
    const res = await app.request(
      '/v1/runs',
      post({ ...mqttScenario(`${topic}/f`), broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1' } }),
    )
    expect(res.status).toBe(201)
    const { id } = (await res.json()) as { id: string }
    await manager.settled(id)
    const run = (await get(`/v1/runs/${id}`)) as RunBody & { error: string }
    expect(run.status).toBe('failed')
    expect(run.error).toMatch(/127\.0\.0\.1:1/)
  }, 120_000)
})
