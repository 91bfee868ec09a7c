import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requireService } from '@iotload/sdk/testing'
import Database from 'better-sqlite3'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { mqttScenario } from './test-fixtures.ts'
import { killStartedDaemons, postRun, spawnDaemon, startDaemon, until } from './testing/daemon-process.ts'

const up = await requireService('Mosquitto', '127.0.0.1', 1883)
const topic = `iotload-daemon-${process.pid}-${Date.now()}`
const dir = mkdtempSync(join(tmpdir(), 'iotload-daemon-'))

interface RunBody {
  status: string
  live: { second: number } | null
  summary: unknown
  error: string | null
}

const longRun = (name: string) =>
  mqttScenario(`${topic}/${name}`, {
    name,
    producer: { devices: 10, rate: '10/s', duration: '60s', topic: `${topic}/${name}/{device}` },
  })

async function runningFor(url: string, id: string, seconds: number): Promise<void> {
  await until(`run ${id} second ${seconds}`, async () => {
    const run = (await (await fetch(`${url}/v1/runs/${id}`)).json()) as RunBody
    if (run.status === 'failed') throw new Error(`run failed: ${run.error}`)
    return run.live && run.live.second >= seconds ? true : undefined
  })
}

afterEach(killStartedDaemons)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('iotload daemon: binding and auth', () => {
  it('refuses to bind 0.0.0.0 without a token, with a clear message', async () => {
    const d = spawnDaemon(['--host', '0.0.0.0', '--port', '0', '--db', join(dir, 'refuse.db')])
    expect(await d.exit).toBe(2)
    expect(d.stderr()).toMatch(
      /refusing to listen on 0\.0\.0\.0 without a token.*IOTLOAD_TOKEN or --token-file/,
    )
    const empty = spawnDaemon(['--host', '::', '--port', '0', '--db', join(dir, 'refuse.db')], {
      IOTLOAD_TOKEN: '',
    })
    expect(await empty.exit).toBe(2)
    expect(empty.stderr()).toMatch(/refusing to listen on :: without a token/)
  }, 90_000)

  it('refuses a token too short to guard anything', async () => {
    const d = spawnDaemon(['--port', '0', '--db', join(dir, 'short.db')], { IOTLOAD_TOKEN: 'abc' })
    expect(await d.exit).toBe(2)
    expect(d.stderr()).toMatch(/at least 16 characters/)
  }, 90_000)

  it('with a token file, a request without the token gets 401 and /healthz stays open', async () => {
    const token = 'file-token-4f9a0c2b7e1d5a3c'
    const file = join(dir, 'token')
    writeFileSync(file, `${token}\n`)
    const d = await startDaemon(join(dir, 'auth.db'), ['--token-file', file])
    expect(d.stderr()).toContain('auth=bearer')
    expect((await fetch(`${d.url}/healthz`)).status).toBe(200)
    const res = await fetch(`${d.url}/v1/runs`)
    expect(res.status).toBe(401)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED')
    expect(
      (await fetch(`${d.url}/v1/runs`, { headers: { authorization: 'Bearer wrong-token-000000000' } }))
        .status,
    ).toBe(401)
    expect((await fetch(`${d.url}/v1/runs`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      200,
    )
    d.proc.kill('SIGTERM')
    expect(await d.exit).toBe(0)
    expect(d.stderr()).not.toContain(token)
  }, 90_000)
})

describe.skipIf(!up)('iotload daemon: durability against Mosquitto', () => {
  it('SIGKILL mid-run, restart: the run shows interrupted with its per-second rows kept', async () => {
    const db = join(dir, 'kill.db')
    const d1 = await startDaemon(db)
    const res = await postRun(d1.url, longRun('killed'))
    expect(res.status).toBe(201)
    const { id } = (await res.json()) as { id: string }
    await runningFor(d1.url, id, 3)
    d1.proc.kill('SIGKILL')
    await d1.exit

    const d2 = await startDaemon(db)
    expect(d2.stderr()).toMatch(new RegExp(`marked interrupted runs=${id}`))
    const run = (await (await fetch(`${d2.url}/v1/runs/${id}`)).json()) as RunBody
    expect(run.status).toBe('interrupted')
    expect(run.live).toBeNull()
    // It says why, and it ended with its last recorded second, not at the restart.
    expect(run.error).toMatch(/the daemon stopped \(killed or crashed\)/)
    const series = (await (await fetch(`${d2.url}/v1/runs/${id}/series?stream=e2e`)).json()) as {
      rows: Array<{ second: number; sent: number }>
    }
    // Seconds 0..2 had completed before the kill (live.second counts completed seconds).
    expect(series.rows.map((r) => r.second).slice(0, 3)).toEqual([0, 1, 2])
    expect(series.rows[0]!.sent).toBeGreaterThan(0)
    const spectrum = (await (await fetch(`${d2.url}/v1/runs/${id}/percentiles`)).json()) as {
      source: string
      count: number
    }
    expect(spectrum).toMatchObject({ source: 'series' })
    expect(spectrum.count).toBeGreaterThan(0)
    // An interrupted run is not running: stop is a conflict, delete works.
    expect((await fetch(`${d2.url}/v1/runs/${id}/stop`, { method: 'POST' })).status).toBe(409)
    d2.proc.kill('SIGTERM')
    expect(await d2.exit).toBe(0)
  }, 180_000)

  it('SIGTERM mid-run: the run is stopped cleanly, kept with its summary, and the exit code is 0', async () => {
    const db = join(dir, 'term.db')
    const d = await startDaemon(db)
    const { id } = (await (await postRun(d.url, longRun('termed'))).json()) as { id: string }
    await runningFor(d.url, id, 2)
    d.proc.kill('SIGTERM')
    expect(await d.exit).toBe(0)
    expect(d.stderr()).toMatch(/daemon stopped/)
    const sqlite = new Database(db, { readonly: true })
    try {
      const run = sqlite.prepare('SELECT status, summary FROM runs WHERE id = ?').get(id) as {
        status: string
        summary: string
      }
      expect(run.status).toBe('stopped')
      const summary = JSON.parse(run.summary) as { streams: { e2e: { sent: number; received: number } } }
      expect(summary.streams.e2e.received).toBeGreaterThan(0)
      const rows = sqlite
        .prepare("SELECT COUNT(*) AS n FROM series WHERE run_id = ? AND stream = 'e2e'")
        .get(id) as { n: number }
      expect(rows.n).toBeGreaterThanOrEqual(2)
    } finally {
      sqlite.close()
    }
  }, 180_000)

  it('secrets given in a scenario appear in no API response, log line or database row', async () => {
    const s = {
      literal: 'pw-Secret-9f3a1e',
      env: 'env-Secret-77b2d4',
      url: 'url-Secret-c0de55',
      apiKey: 'apikey-Secret-5150',
      yaml: 'yaml-Secret-31337',
      invalid: 'invalid-Secret-4242',
    }
    const db = join(dir, 'secrets.db')
    const d = await startDaemon(db, ['--verbose', '--secret-env', 'SECRET_ENV_PW'], { SECRET_ENV_PW: s.env })
    const bodies: string[] = []
    const call = async (path: string, init?: RequestInit) => {
      const res = await fetch(`${d.url}${path}`, init)
      const text = await res.text()
      bodies.push(`${res.status} ${path} ${[...res.headers].join(' ')} ${text}`)
      return { status: res.status, text }
    }
    const json = (body: unknown): RequestInit => ({
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    const good = mqttScenario(`${topic}/sec`, {
      name: 'secrets',
      broker: {
        plugin: 'mqtt',
        url: 'mqtt://127.0.0.1:1883',
        auth: { username: 'dev-{device}', password: s.literal },
      },
      producer: {
        devices: 10,
        rate: '10/s',
        duration: '2s',
        topic: `${topic}/sec/{device}`,
        payload: { v: '{float:0:1:2}', apiKey: s.apiKey },
      },
    })
    const fromEnv = mqttScenario(`${topic}/sec2`, {
      name: 'secrets-env',
      broker: {
        plugin: 'mqtt',
        url: 'mqtt://127.0.0.1:1883',
        auth: { username: 'u', password: '${env:SECRET_ENV_PW}' },
      },
    })
    const refused = {
      ...mqttScenario(`${topic}/sec3`),
      broker: { plugin: 'mqtt', url: `mqtt://user:${s.url}@127.0.0.1:1` },
    }
    const ids: string[] = []
    for (const scenario of [good, fromEnv, refused]) {
      const r = await call('/v1/runs', json(scenario))
      expect(r.status, r.text).toBe(201)
      ids.push((JSON.parse(r.text) as { id: string }).id)
    }
    // Rejected input that carries secrets: a validation error and a YAML syntax error.
    const bad = await call(
      '/v1/runs',
      json({ ...good, producer: { devices: s.invalid }, broker: { plugin: 'mqtt', password: s.invalid } }),
    )
    expect(bad.status).toBe(400)
    const badYaml = await call('/v1/runs', {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: `broker: {plugin: mqtt, auth: {password: ${s.yaml}\nproducer: [`,
    })
    expect(badYaml.status).toBe(400)
    for (const id of ids) {
      await until(`run ${id} to end`, async () => {
        const r = JSON.parse((await call(`/v1/runs/${id}`)).text) as RunBody
        return ['completed', 'failed', 'stopped'].includes(r.status) ? r : undefined
      })
      await call(`/v1/runs/${id}/series?histograms=true`)
      await call(`/v1/runs/${id}/percentiles`)
      await call(`/v1/runs/${id}/percentiles?kind=co`)
    }
    const first = JSON.parse((await call(`/v1/runs/${ids[0]}`)).text) as RunBody & {
      scenario: { broker: { auth: { password: string } } }
    }
    expect(first.status).toBe('completed')
    expect(first.scenario.broker.auth.password).toBe('[redacted]')
    const second = JSON.parse((await call(`/v1/runs/${ids[1]}`)).text) as {
      status: string
      scenario: { broker: { auth: { password: string } } }
    }
    expect(second.status).toBe('completed')
    expect(second.scenario.broker.auth.password).toBe('${env:SECRET_ENV_PW}')
    const third = JSON.parse((await call(`/v1/runs/${ids[2]}`)).text) as RunBody
    expect(third.status).toBe('failed')
    for (const path of ['/v1/runs', '/openapi.json', '/v1/plugins', '/healthz']) await call(path)
    // /metrics: the OpenTelemetry per-run series and the daemon's own gauges, in one scrape.
    const metrics = (await call('/metrics')).text
    expect(metrics).toMatch(
      new RegExp(`^iotload_messages_received_total\\{run="${ids[0]}"[^}]*\\} [1-9]`, 'm'),
    )
    expect(metrics).toMatch(/^iotload_runs\{status="completed"\} 2$/m)
    expect(metrics).toMatch(/^iotload_active_runs 0$/m)
    d.proc.kill('SIGTERM')
    expect(await d.exit).toBe(0)

    const sqlite = new Database(db, { readonly: true })
    const tables = (
      sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>
    ).map((t) => t.name)
    expect(tables).toEqual(expect.arrayContaining(['runs', 'series', 'summaries']))
    const dump = tables
      .map((t) => `${t}: ${JSON.stringify(sqlite.prepare(`SELECT * FROM "${t}"`).all())}`)
      .join('\n')
    sqlite.close()
    const rawFile = readFileSync(db).toString('latin1')
    const log = d.stderr()
    // The evidence is real: every run and both refusals were logged, responses and rows exist.
    expect(log).toMatch(/run started/)
    expect(log).toMatch(/POST/)
    expect(dump).toContain('[redacted]')
    expect(bodies.length).toBeGreaterThan(15)
    for (const [name, secret] of Object.entries(s)) {
      expect(
        bodies.filter((b) => b.includes(secret)),
        `${name} in an API response`,
      ).toEqual([])
      expect(log.includes(secret), `${name} in the daemon log`).toBe(false)
      expect(dump.includes(secret), `${name} in a database row`).toBe(false)
      expect(rawFile.includes(secret), `${name} in the database file`).toBe(false)
    }
  }, 240_000)

  it('shards a REST run with run.workers: 2, its Prometheus histograms counting every message once', async () => {
    const d = await startDaemon(join(dir, 'workers.db'))
    const scenario = mqttScenario(`${topic}/workers`, {
      producer: {
        devices: 4,
        rate: '25/s',
        duration: '2s',
        warmup: '1s',
        topic: `${topic}/workers/{device}`,
      },
      run: { drain: '2s', workers: 2 },
    })
    const { id } = (await (await postRun(d.url, scenario)).json()) as { id: string }
    const run = await until(`run ${id} finished`, async () => {
      const r = (await (await fetch(`${d.url}/v1/runs/${id}`)).json()) as RunBody
      return ['completed', 'failed', 'stopped'].includes(r.status) ? r : undefined
    })
    expect(run.status, JSON.stringify(run.error)).toBe('completed')
    const summary = run.summary as {
      workers?: { producers: number }
      streams: { e2e: { received: number } }
    }
    // The daemon always has per-message metrics; they used to keep every REST run on one thread.
    expect(summary.workers).toMatchObject({ producers: 2 })
    expect(summary.streams.e2e.received).toBe(4 * 25 * 2)
    const metrics = await (await fetch(`${d.url}/metrics`)).text()
    const count = new RegExp(
      `^iotload_e2e_latency_milliseconds_count\\{run="${id}",[^\\n]* (\\d+)$`,
      'm',
    ).exec(metrics)
    expect(Number(count?.[1])).toBe(4 * 25 * 2)
    expect(d.stderr()).not.toMatch(/running on one thread/)
  }, 120_000)

  it('survives a plugin’s unhandled rejection and uncaught throw: logs, counts, finishes the run, takes the next', async () => {
    const plugin = join(import.meta.dirname, 'fixtures', 'stray-error-plugin.ts')
    const d = await startDaemon(join(dir, 'stray.db'), ['--plugin-allow', plugin])
    const finished = async (id: string) =>
      until(`run ${id} finished`, async () => {
        const run = (await (await fetch(`${d.url}/v1/runs/${id}`)).json()) as RunBody
        return ['completed', 'failed', 'stopped'].includes(run.status) ? run : undefined
      })
    const stray = mqttScenario(`${topic}/stray`, {
      broker: { plugin, url: 'mqtt://127.0.0.1:1883' },
      producer: { devices: 5, rate: '10/s', duration: '2s', topic: `${topic}/stray/{device}` },
    })
    const first = (await (await postRun(d.url, stray)).json()) as { id: string }
    const run = await finished(first.id)
    expect(run.status, JSON.stringify(run.error)).toBe('completed')
    expect(d.proc.exitCode).toBeNull()
    expect(d.stderr()).toMatch(
      /unhandled promise rejection; iotload keeps running.*stray rejection from a plugin/,
    )
    expect(d.stderr()).toMatch(/uncaught exception; iotload keeps running.*stray throw from a plugin timer/)
    expect(await (await fetch(`${d.url}/metrics`)).text()).toMatch(/^iotload_daemon_stray_errors_total 2$/m)
    // The daemon still takes and completes work.
    const next = (await (await postRun(d.url, mqttScenario(`${topic}/after-stray`))).json()) as { id: string }
    expect((await finished(next.id)).status).toBe('completed')
    expect((await fetch(`${d.url}/healthz`)).status).toBe(200)
  }, 120_000)
})
