import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from './app.ts'
import { isLoopback } from './auth.ts'
import { quiet, setup } from './testing/app-setup.ts'
import { seedRun } from './test-fixtures.ts'

describe('REST API in process: system routes', () => {
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
      '/v1/compare',
      '/v1/plugins',
      '/v1/runs',
      '/v1/runs/{id}',
      '/v1/runs/{id}/events',
      '/v1/runs/{id}/faults',
      '/v1/runs/{id}/histogram',
      '/v1/runs/{id}/percentiles',
      '/v1/runs/{id}/report',
      '/v1/runs/{id}/series',
      '/v1/runs/{id}/stop',
    ])
    expect(Object.keys(doc.paths['/v1/runs/{id}']!).sort()).toEqual(['delete', 'get'])
    const body = doc.paths['/v1/runs']!.post!.requestBody!.content
    expect(Object.keys(body)).toEqual(['application/json', 'application/yaml'])
    expect(Object.keys(body['application/json']!.schema.properties)).toContain('producer')
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
