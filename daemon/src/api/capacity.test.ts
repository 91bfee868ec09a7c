import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger } from '../log/logger.ts'
import { remotePolicy } from '../scenario/trust-policy.ts'
import { RunManager } from '../service/run-manager.ts'
import { SqliteStore } from '../store/sqlite-store.ts'
import { createApp } from './app.ts'

// POST /v1/capacity in process, against the memory broker in real time: probes are tiny, and the
// ceiling keeps the search to three of them.
const quiet = createLogger({ level: 'error' })
const closers: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c()
})

function setup(maxRuns = 2, policy = remotePolicy()) {
  const store = new SqliteStore(':memory:')
  const manager = new RunManager({ store, logger: quiet, maxRuns, env: {}, policy })
  const app = createApp({ manager, logger: quiet })
  closers.push(
    () => store.close(),
    () => manager.shutdown(),
  )
  return { app, manager, store }
}

const scenario = (extra: Record<string, unknown> = {}) => ({
  name: 'rest-knee',
  broker: { plugin: 'memory', bus: `rest-${randomUUID()}` },
  producer: { devices: 2, totalRate: '100/s', duration: '300ms', warmup: '100ms', topic: 'cap/{device}' },
  run: { drain: '300ms', generator: { maxEventLoopDelay: '10s', maxLag: '1s' } },
  ...extra,
})

/** What the tests read of GET /v1/capacity/{id}. */
interface View {
  status: string
  current: { rate: number; runId: string } | null
  probes: Array<{ rate: number; runId: string }>
  options: Record<string, unknown>
  result: { status: string } & Record<string, unknown>
}

const post = (body: unknown, type = 'application/json') => ({
  method: 'POST',
  headers: { 'content-type': type },
  body: typeof body === 'string' ? body : JSON.stringify(body),
})

async function until<T>(fn: () => Promise<T>, done: (v: T) => boolean, ms = 30_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (done(v) || Date.now() > end) return v
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('POST /v1/capacity', () => {
  it('starts a search, answers its id, and GET shows the probes (stored runs), then the result', async () => {
    const { app } = setup()
    const res = await app.request(
      '/v1/capacity',
      post({ scenario: scenario(), to: '400/s', slo: { loss: 0 } }),
    )
    expect(res.status).toBe(202)
    const { id } = (await res.json()) as { id: string }
    expect(res.headers.get('location')).toBe(`/v1/capacity/${id}`)
    const get = async () => (await (await app.request(`/v1/capacity/${id}`)).json()) as View
    const view = await until(get, (v) => v.status !== 'running')
    expect(view.status).toBe('completed')
    expect(view.result).toMatchObject({
      status: 'ceiling',
      sustainedRate: 400,
      limitedBy: 'ceiling',
      lowerBound: true,
    })
    expect(view.probes.map((p: { rate: number }) => p.rate)).toEqual([100, 200, 400])
    expect(view.options).toMatchObject({ floor: 100, ceiling: 400, precision: 0.05, maxProbes: 20 })
    for (const p of view.probes) {
      const run = (await (await app.request(`/v1/runs/${p.runId}`)).json()) as {
        name: string
        status: string
      }
      expect(run).toMatchObject({ status: 'completed', name: expect.stringContaining(`(find-max ${id})`) })
    }
    const list = (await (await app.request('/v1/capacity')).json()) as { searches: Array<{ id: string }> }
    expect(list.searches.map((s) => s.id)).toEqual([id])
    const doc = (await (await app.request('/openapi.json')).json()) as { paths: Record<string, unknown> }
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/capacity', '/v1/capacity/{id}']))
  })

  it.each([
    [
      'stages',
      { scenario: scenario({ producer: { devices: 2, stages: [{ duration: '1s', target: '10/s' }] } }) },
      'producer.stages',
      /find-max sets the rate/,
    ],
    [
      'a precision of 80%',
      { scenario: scenario(), precision: '80%' },
      'precision',
      /precision from 0\.1% to 50%/,
    ],
    ['500 probes', { scenario: scenario(), maxProbes: 500 }, 'maxProbes', /50/],
    [
      'a search longer than --max-run-time',
      { scenario: scenario(), maxTime: '10000h' },
      'maxTime',
      /--max-run-time/,
    ],
    ['a ceiling above --max-rate', { scenario: scenario(), to: '9000000/s' }, 'to', /--max-rate/],
    [
      'a floor above the ceiling',
      { scenario: scenario(), from: '500/s', to: '100/s' },
      'from',
      /above the ceiling/,
    ],
    ['a bad SLO', { scenario: scenario(), slo: { 'e2e.p99': 'soon' } }, 'slo.e2e.p99', /duration/],
    ['an unknown option', { scenario: scenario(), flavour: 'x' }, 'flavour', /unknown key/],
    [
      'no consumer',
      { scenario: scenario({ consumer: { enabled: false } }) },
      'consumer.enabled',
      /needs the consumer/,
    ],
    [
      'a file outside --secrets-dir',
      { scenario: scenario({ broker: { plugin: 'memory', auth: { password: '${file:/etc/passwd}' } } }) },
      'broker.auth.password',
      /secrets-dir/,
    ],
    ['a scenario that is no mapping', { scenario: 'not a scenario' }, 'scenario', /record|object/i],
  ])('refuses %s with 400 naming the field', async (_label, body, path, message) => {
    const { app } = setup()
    const res = await app.request('/v1/capacity', post(body))
    expect(res.status).toBe(400)
    const { error } = (await res.json()) as { error: { path: string; message: string } }
    expect(error.path).toBe(path)
    expect(error.message).toMatch(message)
  })

  it('takes YAML, refuses other types', async () => {
    const { app } = setup(0)
    expect((await app.request('/v1/capacity', post('scenario: {}', 'text/plain'))).status).toBe(415)
    const yaml = await app.request('/v1/capacity', post('scenario: []\n', 'application/yaml'))
    expect(yaml.status).toBe(400)
  })

  it('a search holds one --max-runs slot: runs and other searches wait; stop ends it and frees the slot', async () => {
    const { app, manager } = setup(1)
    const slow = scenario({
      producer: { devices: 2, totalRate: '100/s', duration: '20s', topic: 'slow/{device}' },
    })
    const res = await app.request('/v1/capacity', post({ scenario: slow, maxTime: '10m' }))
    expect(res.status).toBe(202)
    const { id } = (await res.json()) as { id: string }
    expect((await app.request('/v1/capacity', post({ scenario: scenario() }))).status).toBe(429)
    expect((await app.request('/v1/runs', post(scenario()))).status).toBe(429)
    const running = await until(
      async () => (await (await app.request(`/v1/capacity/${id}`)).json()) as View,
      (v) => v.current !== null,
    )
    expect(running.current).toMatchObject({ rate: 100 })
    expect((await app.request(`/v1/capacity/${id}/stop`, { method: 'POST' })).status).toBe(202)
    const stopped = await until(
      async () => (await (await app.request(`/v1/capacity/${id}`)).json()) as View,
      (v) => v.status !== 'running',
    )
    expect(stopped.status).toBe('stopped')
    expect(stopped.result.status).toBe('stopped')
    expect((await app.request(`/v1/capacity/${id}/stop`, { method: 'POST' })).status).toBe(409)
    expect((await app.request('/v1/capacity/nope', { method: 'GET' })).status).toBe(404)
    expect(manager.activeCount).toBe(0)
    expect((await app.request('/v1/runs', post(scenario()))).status).toBe(201)
  })

  it('shutting the daemon down stops a running search', async () => {
    const { app, manager, store } = setup(1)
    const slow = scenario({
      producer: { devices: 2, totalRate: '100/s', duration: '20s', topic: 'sd/{device}' },
    })
    const { id } = (await (await app.request('/v1/capacity', post({ scenario: slow }))).json()) as {
      id: string
    }
    await until(
      async () => (await (await app.request(`/v1/capacity/${id}`)).json()) as View,
      (v) => v.current !== null,
    )
    await manager.shutdown()
    const stored = (await (await app.request(`/v1/capacity/${id}`)).json()) as View
    expect(stored.status).toBe('stopped')
    expect(store.listRuns()[0]?.status, JSON.stringify(store.listRuns()[0])).toBe('stopped')
  })
})
