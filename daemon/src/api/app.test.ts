import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serve } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../log/logger.ts'
import { type NpmRunner, PluginInstaller } from '../service/plugin-installer.ts'
import { RunManager } from '../service/run-manager.ts'
import { SqliteStore } from '../store/sqlite-store.ts'
import { createApp } from './app.ts'
import { isLoopback } from './auth.ts'
import { mqttScenario, seedRun } from './test-fixtures.ts'

const quiet = createLogger({ write: () => {} })
const npmSays =
  (code: number, stderr: string, stdout = 'added 1 package in 1s'): NpmRunner =>
  async (args) => {
    // A successful install leaves the package in the plugin directory, as npm would.
    const prefix = args[args.indexOf('--prefix') + 1]
    const pkg = args.at(-1)
    if (code === 0 && args[0] === 'install' && prefix && pkg) {
      const name = pkg.slice(0, pkg.lastIndexOf('@') > 0 ? pkg.lastIndexOf('@') : undefined)
      mkdirSync(join(prefix, 'node_modules', name), { recursive: true })
      writeFileSync(
        join(prefix, 'node_modules', name, 'package.json'),
        JSON.stringify({ name, version: '1.2.3', iotload: { plugin: 'broker' } }),
      )
    }
    return { code, stdout, stderr, timedOut: false }
  }
/** A fresh plugin directory per installer, so no test touches the real one. */
const pluginDir = () => mkdtempSync(join(tmpdir(), 'iotload-plugins-'))

function setup(
  options: { maxRuns?: number; token?: string; npm?: NpmRunner; allowPluginInstall?: boolean } = {},
) {
  const store = new SqliteStore(':memory:')
  const manager = new RunManager({ store, logger: quiet, maxRuns: options.maxRuns ?? 0 })
  const app = createApp({
    manager,
    logger: quiet,
    installer: new PluginInstaller({
      prefix: pluginDir(),
      npm: options.npm ?? npmSays(1, 'npm error code E404\nnpm error 404 Not Found'),
    }),
    ...(options.token ? { token: options.token } : {}),
    allowPluginInstall: options.allowPluginInstall ?? true,
  })
  return { store, manager, app }
}

const json = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

describe('REST API in process', () => {
  const { store, app } = setup()
  beforeAll(() => {
    seedRun(store, 'aaa111', { createdAt: 1000 })
    seedRun(store, 'bbb222', { createdAt: 2000 })
    seedRun(store, 'ccc333', { createdAt: 3000, finished: false })
  })
  afterAll(() => store.close())

  it('answers /healthz and lists every route in /openapi.json', async () => {
    expect(await (await app.request('/healthz')).json()).toEqual({ status: 'ok', activeRuns: 0 })
    const doc = (await (await app.request('/openapi.json')).json()) as {
      openapi: string
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: { properties: object } }> } }>
      >
    }
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/healthz',
      '/metrics',
      '/v1/capacity',
      '/v1/capacity/{id}',
      '/v1/capacity/{id}/stop',
      '/v1/plugins',
      '/v1/runs',
      '/v1/runs/{id}',
      '/v1/runs/{id}/histogram',
      '/v1/runs/{id}/percentiles',
      '/v1/runs/{id}/series',
      '/v1/runs/{id}/stop',
    ])
    expect(Object.keys(doc.paths['/v1/runs/{id}']!).sort()).toEqual(['delete', 'get'])
    const body = doc.paths['/v1/runs']!.post!.requestBody!.content
    expect(Object.keys(body)).toEqual(['application/json', 'application/yaml'])
    expect(Object.keys(body['application/json']!.schema.properties)).toContain('producer')
  })

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

  it('serves Prometheus text, or the injected provider', async () => {
    const res = await app.request('/metrics')
    expect(res.headers.get('content-type')).toContain('text/plain')
    const text = await res.text()
    expect(text).toMatch(/^iotload_runs\{status="completed"\} 2$/m)
    expect(text).toMatch(/^iotload_active_runs 0$/m)
    const { manager } = setup()
    const injected = createApp({
      manager,
      logger: quiet,
      metrics: async () => ({ contentType: 'text/plain; version=0.0.4', body: 'otel_metric 1\n' }),
    })
    expect(await (await injected.request('/metrics')).text()).toBe('otel_metric 1\n')
  })

  it('lists installed plugins with capabilities and a JSON Schema of their config', async () => {
    const res = (await (await app.request('/v1/plugins')).json()) as {
      plugins: Array<{
        name: string
        version: string
        capabilities: object
        configSchema: { properties: object }
      }>
    }
    const mqtt = res.plugins.find((p) => p.name === 'mqtt')
    expect(mqtt?.version).toMatch(/^\d+\.\d+\.\d+/)
    expect(mqtt?.capabilities).toMatchObject({ publishAck: true })
    expect(Object.keys(mqtt?.configSchema.properties ?? {})).toContain('url')
  })

  it('unknown routes and methods are 404 JSON', async () => {
    const res = await app.request('/v2/nothing')
    expect(res.status).toBe(404)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND')
    expect((await app.request('/healthz', { method: 'PUT' })).status).toBe(404)
  })
})

describe('POST /v1/plugins', () => {
  it('is refused with 403 unless the daemon allows installs, before npm runs', async () => {
    let calls = 0
    const { app } = setup({
      allowPluginInstall: false,
      npm: async () => {
        calls++
        return { code: 0, stdout: '', stderr: '', timedOut: false }
      },
    })
    const res = await app.request('/v1/plugins', json({ name: 'kafka' }))
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('PLUGIN_INSTALL_DISABLED')
    expect(calls).toBe(0)
  })

  it('refuses names outside @iotload/broker-* and the allowlist, before npm runs', async () => {
    let calls = 0
    const { app } = setup({
      npm: async () => {
        calls++
        return { code: 0, stdout: '', stderr: '', timedOut: false }
      },
    })
    for (const name of [
      'left.pad',
      'Lodash',
      '@evil/broker-x',
      '@iotload/broker-x@file:../x',
      '--registry=http://x',
      '../x',
      '@iotload/sdk',
    ]) {
      const res = await app.request('/v1/plugins', json({ name }))
      expect(res.status, name).toBe(400)
      expect(((await res.json()) as { error: { path: string } }).error.path).toBe('name')
    }
    expect((await app.request('/v1/plugins', json({ nom: 'x' }))).status).toBe(400)
    expect(calls).toBe(0)
  })

  it('accepts allowlisted packages', async () => {
    const store = new SqliteStore(':memory:')
    const app = createApp({
      manager: new RunManager({ store, logger: quiet }),
      logger: quiet,
      installer: new PluginInstaller({
        prefix: pluginDir(),
        allow: ['my-broker-plugin'],
        npm: npmSays(0, ''),
      }),
      listPlugins: async () => [],
      allowPluginInstall: true,
    })
    const res = await app.request('/v1/plugins', json({ name: 'my-broker-plugin@1.2.3' }))
    expect(res.status).toBe(201)
    expect(await res.json()).toMatchObject({
      package: 'my-broker-plugin',
      requested: 'my-broker-plugin@1.2.3',
      plugin: null,
    })
    store.close()
  })

  it('installs through npm and reports the package', async () => {
    const seen: string[][] = []
    const { app } = setup({
      npm: async (args) => {
        seen.push(args)
        return npmSays(0, '', 'added 1 package in 1s\n')(args, { cwd: '', timeoutMs: 0 })
      },
    })
    const res = await app.request('/v1/plugins', json({ name: 'mqtt' }))
    expect(res.status).toBe(201)
    const body = (await res.json()) as { package: string; plugin: { name: string } | null }
    expect(body.package).toBe('@iotload/broker-mqtt')
    expect(body.plugin?.name).toBe('mqtt')
    expect(seen[0]?.at(-1)).toBe('@iotload/broker-mqtt')
    expect(seen[0]?.at(-2)).toBe('--')
  })

  it('says which failure npm hit: unknown package 404, registry unreachable 502', async () => {
    const notFound = setup({
      npm: npmSays(
        1,
        'npm error code E404\nnpm error 404 Not Found - GET https://registry.npmjs.org/@iotload%2fbroker-zz',
      ),
    })
    const r1 = await notFound.app.request('/v1/plugins', json({ name: 'zz' }))
    expect(r1.status).toBe(404)
    expect(((await r1.json()) as { error: { code: string } }).error.code).toBe('PACKAGE_NOT_FOUND')
    const offline = setup({
      npm: npmSays(
        1,
        'npm error code ENOTFOUND\nnpm error network request to https://registry.npmjs.org failed',
      ),
    })
    const r2 = await offline.app.request('/v1/plugins', json({ name: 'zz' }))
    expect(r2.status).toBe(502)
    expect(((await r2.json()) as { error: { code: string } }).error.code).toBe('REGISTRY_UNREACHABLE')
  })
})

describe('bearer token', () => {
  const token = 'a-very-long-test-token-0123456789'
  const { app } = setup({ token })

  it('requires the token everywhere but /healthz', async () => {
    expect((await app.request('/healthz')).status).toBe(200)
    for (const path of ['/v1/runs', '/v1/plugins', '/metrics', '/openapi.json', '/v1/runs/x']) {
      const res = await app.request(path)
      expect(res.status, path).toBe(401)
      expect(res.headers.get('www-authenticate')).toContain('Bearer')
    }
    expect((await app.request('/v1/runs', { headers: { authorization: `Bearer ${token}x` } })).status).toBe(
      401,
    )
    expect((await app.request('/v1/runs', { headers: { authorization: `Basic ${token}` } })).status).toBe(401)
    expect((await app.request('/v1/runs', { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      200,
    )
    expect((await app.request('/v1/runs', { headers: { authorization: `bearer ${token}` } })).status).toBe(
      200,
    )
  })

  it('scrubs registered secrets from responses value by value, keeping the JSON valid', async () => {
    const { secrets } = await import('../scenario/secrets.ts')
    const odd = '}]},"x":"zz-odd-secret'
    secrets.add(odd)
    secrets.add('plain-secret-xyz')
    const store = new SqliteStore(':memory:')
    store.createRun({
      id: 'leak1',
      name: 'n plain-secret-xyz',
      scenario: { k: odd, 'plain-secret-xyz': 1 },
      createdAt: 1,
    })
    const app = createApp({ manager: new RunManager({ store, logger: quiet }), logger: quiet })
    const text = await (await app.request('/v1/runs/leak1')).text()
    expect(text).not.toContain('plain-secret-xyz')
    expect(text).not.toContain('zz-odd-secret')
    const run = JSON.parse(text) as { name: string; scenario: Record<string, unknown> }
    expect(run.name).toBe('n [redacted]')
    expect(run.scenario).toEqual({ k: '[redacted]', '[redacted]': 1 })
    store.close()
  })

  it('never echoes the token', async () => {
    const res = await app.request('/v1/runs/x', { headers: { authorization: `Bearer ${token}` } })
    expect(await res.text()).not.toContain(token)
  })
})

describe('bind addresses', () => {
  it('treats only loopback addresses as loopback', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'])
      expect(isLoopback(h), h).toBe(true)
    for (const h of ['0.0.0.0', '::', '192.168.1.5', '10.0.0.1', 'example.com', '', '127.0.0.1.evil.com'])
      expect(isLoopback(h), h).toBe(false)
  })
})

describe('over a real socket', () => {
  it('serves the app through @hono/node-server', async () => {
    const { app, store } = setup()
    seedRun(store, 'sock1', { createdAt: 1 })
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 })
    await new Promise((r) => server.once('listening', r))
    const { port } = server.address() as AddressInfo
    try {
      const health = await fetch(`http://127.0.0.1:${port}/healthz`)
      expect(health.status).toBe(200)
      const run = (await (await fetch(`http://127.0.0.1:${port}/v1/runs/sock1`)).json()) as { id: string }
      expect(run.id).toBe('sock1')
      const bad = await fetch(`http://127.0.0.1:${port}/v1/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{nope',
      })
      expect(bad.status).toBe(400)
    } finally {
      await new Promise((r) => server.close(r))
      store.close()
    }
  })
})
