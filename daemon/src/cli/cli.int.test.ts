import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import mqtt from 'mqtt'
import { requireService } from '@iotload/sdk/testing'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'

const BIN = fileURLToPath(new URL('../../bin/iotload.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'iotload-cli-'))
const mosquitto = await requireService('Mosquitto', '127.0.0.1', 1883)
const rabbitmq = await requireService('RabbitMQ', '127.0.0.1', 5672)

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  onStderr?: (chunk: string) => void,
  cwd?: string,
): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(cwd ? { cwd } : {}),
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
      onStderr?.(String(d))
    })
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

function scenarioFile(s: unknown): string {
  const path = join(dir, `${randomUUID()}.yaml`)
  writeFileSync(path, stringify(s))
  return path
}

describe('iotload plugins', () => {
  it('lists the installed broker plugins from any working directory', async () => {
    const r = await cli(['plugins'], {}, undefined, tmpdir())
    expect(r.code).toBe(0)
    for (const name of ['mqtt', 'amqp', 'nats', 'kafka', 'pulsar', 'zeromq'])
      expect(r.stdout).toMatch(new RegExp(`^${name}\\s+@iotload/broker-${name}@`, 'm'))
  })
})

describe('iotload CLI exit codes', () => {
  it('exits 2 on a bad scenario, names the field, and starts nothing', async () => {
    const db = join(dir, 'bad.db')
    const file = scenarioFile({
      broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883' },
      producer: { devices: 1, rate: '1/s', duration: '1s', colour: 'red' },
    })
    const r = await cli(['run', file, '--db', db])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/producer\.colour: unknown key/)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    // Nothing started: no database was even created.
    expect(() => readFileSync(db)).toThrow()
  })

  it('exits 2 on an unknown plugin', async () => {
    const file = scenarioFile({
      broker: { plugin: 'smoke-signals' },
      producer: { devices: 1, rate: '1/s', duration: '1s' },
    })
    const r = await cli(['run', file, '--db', join(dir, 'x.db')])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/unknown broker plugin 'smoke-signals'/)
  })

  it('exits 3 with the broker named and no stack trace when the broker cannot be reached', async () => {
    const file = scenarioFile({
      broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1', connectTimeout: '2s' },
      producer: { devices: 2, rate: '1/s', duration: '1s' },
    })
    const r = await cli(['run', file, '--db', join(dir, 'unreachable.db'), '-q'])
    expect(r.code).toBe(3)
    expect(r.stdout + r.stderr).toMatch(/cannot reach mqtt:\/\/127\.0\.0\.1:1/)
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /)
  })
})

describe.skipIf(!rabbitmq)('iotload run against RabbitMQ with a wrong password', () => {
  it('exits 3 naming the broker and the cause, with no stack trace and no password', async () => {
    const file = scenarioFile({
      broker: {
        plugin: 'amqp',
        url: 'amqp://127.0.0.1:5672',
        auth: { username: 'guest', password: '${env:CLI_TEST_AMQP_PW}' },
      },
      producer: { devices: 2, rate: '1/s', duration: '1s', topic: 'cli/wrongpw/{device}' },
    })
    const r = await cli(['run', file, '--db', join(dir, 'wrongpw.db'), '-q'], {
      CLI_TEST_AMQP_PW: 'not-the-guest-password',
    })
    expect(r.code).toBe(3)
    expect(r.stdout + r.stderr).toMatch(
      /\[broker-amqp\] amqp:\/\/127\.0\.0\.1:5672 refused the credentials.*ACCESS.REFUSED/,
    )
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /)
    expect(r.stdout + r.stderr).not.toContain('not-the-guest-password')
  })
})

describe.skipIf(!mosquitto)('iotload run against Mosquitto', () => {
  it('finishes a run through a plugin’s stray rejection and throw, keeps the results, and warns', async () => {
    const prefix = `cli-${randomUUID().slice(0, 8)}`
    const json = join(dir, 'stray.json')
    const plugin = fileURLToPath(new URL('../api/fixtures/stray-error-plugin.ts', import.meta.url))
    const file = scenarioFile({
      name: 'stray-errors',
      broker: { plugin, url: 'mqtt://127.0.0.1:1883' },
      producer: { devices: 5, rate: '10/s', duration: '2s', topic: `${prefix}/{device}`, qos: 1 },
    })
    const r = await cli(['run', file, '--db', join(dir, 'stray.db'), '--json', json])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/unhandled promise rejection; iotload keeps running/)
    expect(r.stderr).toMatch(/uncaught exception; iotload keeps running/)
    expect(r.stdout).toMatch(/warning: 2 error\(s\) nothing caught were logged during the run/)
    const summary = JSON.parse(readFileSync(json, 'utf8'))
    expect(summary.streams.e2e).toMatchObject({ sent: 100, received: 100, lost: 0 })
  })

  it('counts a non-JSON message and a JSON message without metadata as invalid, and completes', async () => {
    const prefix = `cli-${randomUUID().slice(0, 8)}`
    const json = join(dir, 'invalid.json')
    const db = join(dir, 'invalid.db')
    const file = scenarioFile({
      name: 'invalid-metadata',
      broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883' },
      producer: { devices: 5, rate: '10/s', duration: '4s', topic: `${prefix}/{device}/telemetry`, qos: 1 },
    })
    let injected = false
    const inject = async () => {
      injected = true
      const client = await mqtt.connectAsync('mqtt://127.0.0.1:1883')
      await client.publishAsync(`${prefix}/foreign/telemetry`, 'this is not json', { qos: 1 })
      await client.publishAsync(`${prefix}/foreign/telemetry`, JSON.stringify({ temperature: 21 }), {
        qos: 1,
      })
      await client.publishAsync(
        `${prefix}/foreign/telemetry`,
        JSON.stringify({ iotload: { run: 'x', dev: 'a' } }),
        { qos: 1 },
      )
      await client.endAsync()
    }
    const r = await cli(['run', file, '--db', db, '--json', json], {}, (chunk) => {
      if (!injected && chunk.includes('[   1s]')) void inject()
    })
    expect(r.code).toBe(0)
    expect(injected).toBe(true)
    const summary = JSON.parse(readFileSync(json, 'utf8'))
    expect(summary.run.status).toBe('completed')
    expect(summary.streams.e2e.invalid).toBe(3)
    expect(summary.invalid).toEqual({ 'not-json': 1, 'no-metadata': 1, 'bad-metadata': 1 })
    expect(summary.streams.e2e.sent).toBe(200)
    expect(summary.streams.e2e.received).toBe(200)
    expect(summary.streams.e2e.lost).toBe(0)
    expect(summary.streams.e2e.latency.raw.count).toBe(200)
    expect(summary.streams.e2e.latency.raw.p50).toBeGreaterThan(0)
    expect(r.stdout).toMatch(/e2e raw/)
    expect(r.stdout).toMatch(/e2e co/)

    const sqlite = new Database(db, { readonly: true })
    const run = sqlite.prepare('select status, summary from runs where id = ?').get(summary.run.id) as {
      status: string
      summary: string
    }
    expect(run.status).toBe('completed')
    const rows = sqlite
      .prepare(
        "select sum(received) as received, sum(invalid) as invalid from series where run_id = ? and stream = 'e2e'",
      )
      .get(summary.run.id) as {
      received: number
      invalid: number
    }
    expect(rows.received).toBe(200)
    expect(rows.invalid).toBe(3)
    sqlite.close()
  })

  it('quickstart exits 0 with p50, p99 and lost = 0, without external services', async () => {
    const r = await cli(['quickstart', '--db', join(dir, 'quick.db')])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/e2e raw\s+[\d,]+\s+\S+\s+\S+\s+\S+/)
    expect(r.stdout).toMatch(/loss\s+≤ 0\s+0\s+PASS/)
  }, 60_000)
})
