import { mkdtempSync } from 'node:fs'
import type { Server } from 'node:http'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { serve } from '@hono/node-server'
import { afterAll, describe, expect, it } from 'vitest'
import { createLogger } from '../log/logger.ts'
import { PluginInstaller } from '../service/plugin-installer.ts'
import { RunManager } from '../service/run-manager.ts'
import { SqliteStore } from '../store/sqlite-store.ts'
import { createApp } from './app.ts'
import { mqttScenario, seedRun } from './test-fixtures.ts'
import { prng, randomRequest, TOKEN } from './testing/fuzz-requests.ts'

describe('fuzzing every route', () => {
  const quiet = createLogger({ write: () => {} })
  const store = new SqliteStore(':memory:')
  // maxRuns 0: a body that happens to be a valid scenario is validated in full, then refused with 429.
  const manager = new RunManager({ store, logger: quiet, maxRuns: 0 })
  const installer = new PluginInstaller({
    prefix: mkdtempSync(join(tmpdir(), 'iotload-plugins-')),
    npm: async () => ({
      code: 1,
      stdout: '',
      stderr: 'npm error code E404\nnpm error 404 Not Found',
      timedOut: false,
    }),
  })
  const open = createApp({ manager, logger: quiet, installer, allowPluginInstall: true })
  const guarded = createApp({ manager, logger: quiet, installer, token: TOKEN, allowPluginInstall: true })
  seedRun(store, 'seed01', { createdAt: 1 })
  seedRun(store, 'seed02', { createdAt: 2, finished: false })
  afterAll(() => store.close())

  it('answers ≥ 1000 random and malformed requests without a single 5xx, then still serves /healthz', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? 20261126)
    const count = Number(process.env.FUZZ_COUNT ?? 2000)
    const r = prng(seed)
    const byStatus = new Map<number, number>()
    const failures: string[] = []
    const t0 = performance.now()
    for (let i = 0; i < count; i++) {
      const { url, init, authed } = randomRequest(r, i)
      const app = authed || r.next() < 0.85 ? open : guarded
      let status: number
      let text = ''
      try {
        const res = await app.request(url, init)
        status = res.status
        text = await res.text()
      } catch (err) {
        status = 599
        text = String(err)
      }
      byStatus.set(status, (byStatus.get(status) ?? 0) + 1)
      if (status >= 500)
        failures.push(
          `#${i} ${init.method} ${url} ${JSON.stringify(init.headers)} → ${status} ${text.slice(0, 200)}`,
        )
      else if (status >= 400 && init.method !== 'HEAD') {
        const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }
        if (typeof body.error?.code !== 'string' || typeof body.error?.message !== 'string')
          failures.push(`#${i} ${url} → ${status} without {error:{code,message}}: ${text.slice(0, 200)}`)
      }
    }
    const ms = performance.now() - t0
    const summary = [...byStatus.entries()]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}:${n}`)
      .join(' ')
    process.stderr.write(
      `fuzz seed=${seed}: ${count} requests in ${Math.round(ms)} ms; statuses ${summary}\n`,
    )
    expect(failures.slice(0, 10)).toEqual([])
    expect((byStatus.get(400) ?? 0) + (byStatus.get(429) ?? 0)).toBeGreaterThan(count / 10)
    expect(byStatus.get(429) ?? 0).toBeGreaterThan(0)
    const health = await open.request('/healthz')
    expect(health.status).toBe(200)
    expect((await open.request('/v1/runs')).status).toBe(200)
  }, 60_000)

  it('survives malformed HTTP on a real socket (bad request lines, framing, encodings) and still serves /healthz', async () => {
    const server = serve({ fetch: open.fetch, hostname: '127.0.0.1', port: 0 })
    await new Promise((r) => server.once('listening', r))
    const { port } = server.address() as AddressInfo
    const r = prng(7)
    const scenario = JSON.stringify(mqttScenario('sock'))
    const raw = (): Buffer => {
      const path = r.pick([
        '/v1/runs',
        '/v1/runs/seed01',
        '/healthz',
        '/v1/plugins',
        '/%',
        '*',
        'http://x/v1/runs',
        '',
      ])
      const method = r.pick(['GET', 'POST', 'DELETE', 'BREW', 'G\x00ET', ''])
      const body = r.pick([scenario, scenario.slice(0, 40), '{', ''])
      const len = r.pick([body.length, body.length + 50, 0, -1, 'abc', '1, 2'])
      switch (r.int(6)) {
        case 0:
          return Buffer.from(Array.from({ length: r.int(400) }, () => r.int(256)))
        case 1:
          return Buffer.from(
            `${method} ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${len}\r\n\r\n${body}`,
            'latin1',
          )
        case 2:
          return Buffer.from(
            `POST /v1/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${r.pick(['zz', '5', 'ffffffffff', '3\r\nabc'])}\r\n${body}\r\n0\r\n\r\n`,
            'latin1',
          )
        case 3:
          return Buffer.from(
            `GET /v1/runs HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(r.int(40_000))}\r\n\r\n`,
            'latin1',
          )
        case 4:
          return Buffer.from(
            `POST /v1/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nContent-Length: 3\r\n\r\n${body}`,
            'latin1',
          )
        default:
          return Buffer.from(
            `${method} ${path} HTTP/${r.pick(['1.1', '1.0', '2.0', '9'])}\r\n${r.pick(['Host x', 'Host: x', ': y', 'a\x01b: c'])}\r\n\r\n`,
            'latin1',
          )
      }
    }
    const statuses: number[] = []
    const one = (payload: Buffer) =>
      new Promise<void>((resolve) => {
        const sock = connect(port, '127.0.0.1')
        let got = ''
        sock.setTimeout(1000, () => sock.destroy())
        sock.on('data', (d) => {
          got += d.toString('latin1')
        })
        sock.on('error', () => {})
        sock.on('close', () => {
          for (const m of got.matchAll(/HTTP\/1\.[01] (\d{3})/g)) statuses.push(Number(m[1]))
          resolve()
        })
        sock.end(payload)
      })
    try {
      const total = 300
      for (let i = 0; i < total; i += 20) await Promise.all(Array.from({ length: 20 }, () => one(raw())))
      const fives = statuses.filter((s) => s >= 500)
      process.stderr.write(
        `socket fuzz: ${total} connections, ${statuses.length} responses, ${fives.length} 5xx\n`,
      )
      expect(fives).toEqual([])
      expect(statuses.length).toBeGreaterThan(50)
      const health = await fetch(`http://127.0.0.1:${port}/healthz`)
      expect(health.status).toBe(200)
    } finally {
      ;(server as Server).closeAllConnections()
      await new Promise((res) => server.close(res))
    }
  }, 60_000)
})
