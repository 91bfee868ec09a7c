import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, setup } from './testing/app-setup.ts'
import { mqttScenario, seedRun } from './test-fixtures.ts'

// The run routes in process. System routes: app-system.test.ts; plugin installs:
// app-plugin-install.test.ts; the bearer token: app-auth.test.ts.
describe('REST API in process', () => {
  const { store, app } = setup()
  beforeAll(() => {
    seedRun(store, 'aaa111', { createdAt: 1000 })
    seedRun(store, 'bbb222', { createdAt: 2000 })
    seedRun(store, 'ccc333', { createdAt: 3000, finished: false })
  })
  afterAll(() => store.close())

  it('pages runs newest first', async () => {
    const page1 = (await (await app.request('/v1/runs?limit=2')).json()) as {
      runs: Array<{ id: string }>
      nextOffset: number | null
    }
    expect(page1.runs.map((r) => r.id)).toEqual(['ccc333', 'bbb222'])
    expect(page1.nextOffset).toBe(2)
    const page2 = (await (await app.request('/v1/runs?limit=2&offset=2')).json()) as {
      runs: Array<{ id: string }>
      nextOffset: number | null
    }
    expect(page2.runs.map((r) => r.id)).toEqual(['aaa111'])
    expect(page2.nextOffset).toBeNull()
    const bad = await app.request('/v1/runs?limit=0')
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { path: string } }).error.path).toBe('query.limit')
  })

  it('shows a run with its redacted scenario and summary; 404 unknown, 400 malformed id', async () => {
    const res = await app.request('/v1/runs/bbb222')
    expect(res.status).toBe(200)
    const run = (await res.json()) as Record<string, unknown>
    expect(run).toMatchObject({
      id: 'bbb222',
      status: 'completed',
      live: null,
      summary: { run: { id: 'bbb222' } },
    })
    expect(run.scenario).toEqual({ broker: { plugin: 'mqtt', auth: { password: '[redacted]' } } })
    const missing = await app.request('/v1/runs/nope')
    expect(missing.status).toBe(404)
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('RUN_NOT_FOUND')
    expect((await app.request('/v1/runs/..%2F..%2Fetc')).status).toBe(400)
  })

  it('serves per-second rows filtered by stream and second range', async () => {
    const res = (await (await app.request('/v1/runs/aaa111/series?stream=e2e&from=1&to=2')).json()) as {
      rows: Array<{ second: number; raw: { count: number }; rawHist?: string }>
    }
    expect(res.rows.map((r) => r.second)).toEqual([1, 2])
    expect(res.rows[0]!.raw.count).toBe(100)
    expect(res.rows[0]!.rawHist).toBeUndefined()
    const withHist = (await (await app.request('/v1/runs/aaa111/series?histograms=true')).json()) as {
      rows: Array<{ rawHist: string }>
    }
    expect(withHist.rows).toHaveLength(3)
    expect(withHist.rows[0]!.rawHist.length).toBeGreaterThan(10)
    expect((await app.request('/v1/runs/aaa111/series?from=-1')).status).toBe(400)
    expect((await app.request('/v1/runs/aaa111/series?to=abc')).status).toBe(400)
  })

  it('computes the percentile spectrum from the cumulative histogram, or merged rows when unfinished', async () => {
    const done = (await (await app.request('/v1/runs/aaa111/percentiles')).json()) as {
      source: string
      count: number
      points: Array<{ percentile: number; value: number }>
    }
    expect(done.source).toBe('summary')
    expect(done.count).toBe(300)
    expect(done.points[0]!.percentile).toBe(0)
    expect(done.points.at(-1)).toEqual({ percentile: 100, value: expect.any(Number) })
    // Recorded 10..1000, 20..2000, 30..3000 µs: the max is 3000 within HdrHistogram precision.
    expect(done.points.at(-1)!.value).toBeGreaterThanOrEqual(2999)
    expect(done.points.at(-1)!.value).toBeLessThanOrEqual(3002)
    const ps = done.points.map((p) => p.percentile)
    expect(ps).toEqual([...ps].sort((a, b) => a - b))
    expect(ps).toContain(99)
    const co = (await (await app.request('/v1/runs/aaa111/percentiles?kind=co')).json()) as {
      points: Array<{ value: number }>
    }
    expect(co.points.at(-1)!.value).toBeGreaterThan(done.points.at(-1)!.value)
    const partial = (await (await app.request('/v1/runs/ccc333/percentiles')).json()) as {
      source: string
      count: number
    }
    expect(partial).toMatchObject({ source: 'series', count: 300 })
    expect((await app.request('/v1/runs/aaa111/percentiles?kind=p99')).status).toBe(400)
  })

  it('merges a range of seconds exactly, names unknown parameters and values, never reads above max', async () => {
    const range = (await (await app.request('/v1/runs/aaa111/percentiles?from=1&to=1')).json()) as {
      source: string
      count: number
      points: Array<{ percentile: number; value: number }>
    }
    // Second 1 recorded 20, 40 … 2000 µs (seedRun): exactly 100 values with that max.
    expect(range).toMatchObject({ source: 'series', count: 100, from: 1, to: 1 })
    const max = range.points.at(-1)!.value
    expect(max).toBeGreaterThanOrEqual(1999)
    expect(max).toBeLessThanOrEqual(2001)
    for (const p of range.points) expect(p.value).toBeLessThanOrEqual(max)
    const bad = async (query: string, path: string) => {
      const res = await app.request(`/v1/runs/aaa111/percentiles?${query}`)
      expect(res.status, query).toBe(400)
      expect(((await res.json()) as { error: { path: string } }).error.path).toBe(path)
    }
    await bad('stream=e2ee', 'query.stream')
    await bad('stream=publish-ack&kind=co', 'query.kind')
    await bad('format=xml', 'query.format')
    await bad('from=abc', 'query.from')
    await bad('from=2&to=1', 'query.from')
    await bad('bogus=1', 'query.bogus')
    const series = await app.request('/v1/runs/aaa111/series?from=abc')
    expect(((await series.json()) as { error: { message: string } }).error.message).toMatch(
      /whole number of seconds/,
    )
  })

  it('exports the merged histogram as HdrHistogram text that parses back to the same percentiles', async () => {
    const text = await (await app.request('/v1/runs/aaa111/histogram?stream=e2e&format=hgrm')).text()
    expect(text).toMatch(/Value\s+Percentile\s+TotalCount/)
    const spectrum = (await (await app.request('/v1/runs/aaa111/percentiles')).json()) as {
      points: Array<{ percentile: number; value: number }>
    }
    // Each hgrm line is `value percentile totalCount 1/(1-p)`: the same points as the JSON spectrum.
    const lines = [...text.matchAll(/^\s*([\d.]+)\s+([\d.]+)\s+(\d+)/gm)].map((m) => ({
      value: Number(m[1]),
      percentile: Math.round(Number(m[2]) * 100 * 1e6) / 1e6,
    }))
    expect(lines.length).toBeGreaterThan(20)
    expect(lines).toEqual(spectrum.points.map((p) => ({ value: p.value, percentile: p.percentile })))
    const max = spectrum.points.at(-1)!.value
    expect(text).toMatch(new RegExp(`#\\[Max\\s+=\\s+${max}\\.000, Total count\\s+=\\s+300\\]`))
    const b64 = await (await app.request('/v1/runs/aaa111/histogram?format=base64&kind=co')).text()
    expect(b64).toMatch(/^[A-Za-z0-9+/=]+$/)
    expect((await app.request('/v1/runs/aaa111/histogram?stream=bridge')).status).toBe(404)
  })

  it('refuses to stop a run that is not executing (409) and an unknown one (404)', async () => {
    const res = await app.request('/v1/runs/aaa111/stop', { method: 'POST' })
    expect(res.status).toBe(409)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('RUN_NOT_RUNNING')
    expect((await app.request('/v1/runs/zzz/stop', { method: 'POST' })).status).toBe(404)
  })

  it('deletes a finished run with its rows', async () => {
    seedRun(store, 'del1', { createdAt: 500 })
    expect((await app.request('/v1/runs/del1', { method: 'DELETE' })).status).toBe(204)
    expect((await app.request('/v1/runs/del1')).status).toBe(404)
    expect(store.getSeries('del1')).toEqual([])
    expect((await app.request('/v1/runs/del1', { method: 'DELETE' })).status).toBe(404)
  })

  it('rejects bad run bodies with 400/415/413 and a field path', async () => {
    const notJson = await app.request('/v1/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":',
    })
    expect(notJson.status).toBe(400)
    expect(((await notJson.json()) as { error: { code: string } }).error.code).toBe('BODY_INVALID')
    const badYaml = await app.request('/v1/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: 'broker: [\n  password: hunter2-yaml-secret',
    })
    expect(badYaml.status).toBe(400)
    expect(await badYaml.text()).not.toContain('hunter2-yaml-secret')
    expect(
      (
        await app.request('/v1/runs', {
          method: 'POST',
          headers: { 'content-type': 'text/csv' },
          body: 'a,b',
        })
      ).status,
    ).toBe(415)
    const invalid = await app.request(
      '/v1/runs',
      json(mqttScenario('t', { producer: { devices: 0, rate: '1/s', duration: '1s' } })),
    )
    expect(invalid.status).toBe(400)
    expect(((await invalid.json()) as { error: { path: string } }).error.path).toBe('producer.devices')
    const unknownPlugin = await app.request(
      '/v1/runs',
      json(mqttScenario('t', { broker: { plugin: 'nosuchbroker' } })),
    )
    expect(unknownPlugin.status).toBe(400)
    expect(((await unknownPlugin.json()) as { error: { code: string } }).error.code).toBe(
      'PLUGIN_LOAD_FAILED',
    )
    const pathPlugin = await app.request(
      '/v1/runs',
      json(mqttScenario('t', { broker: { plugin: '../../etc/evil.js' } })),
    )
    expect(pathPlugin.status).toBe(400)
    expect(((await pathPlugin.json()) as { error: { path: string } }).error.path).toBe('broker.plugin')
    const big = await app.request('/v1/runs', json({ name: 'x'.repeat(2 * 1024 * 1024) }))
    expect(big.status).toBe(413)
    const deep = await app.request('/v1/runs', {
      ...json(null),
      body: `${'['.repeat(5000)}${']'.repeat(5000)}`,
    })
    expect(deep.status).toBe(400)
    // Deep YAML is refused before yaml composes it (see bounded-yaml.ts), with the same answer.
    for (const body of ['['.repeat(5000), `${'- '.repeat(5000)}x`, `${'['.repeat(65)}1${']'.repeat(65)}`]) {
      const deepYaml = await app.request('/v1/runs', {
        method: 'POST',
        headers: { 'content-type': 'application/yaml' },
        body,
      })
      expect(deepYaml.status).toBe(400)
      expect(((await deepYaml.json()) as { error: { message: string } }).error.message).toBe(
        'the body is nested deeper than 64 levels',
      )
    }
  })

  it('validates YAML scenarios fully, then refuses with 429 at the run limit', async () => {
    const yaml = `name: y\nbroker: {plugin: mqtt, url: "mqtt://127.0.0.1:1883"}\nproducer: {devices: 2, rate: 1/s, duration: 1s}\n`
    const res = await app.request('/v1/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: yaml,
    })
    expect(res.status).toBe(429)
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'TOO_MANY_RUNS',
      message: expect.stringContaining('--max-runs 0'),
    })
  })
})
