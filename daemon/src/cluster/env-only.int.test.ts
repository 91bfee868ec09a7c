import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requireService } from '@iotload/sdk/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ClusterKeys,
  cleanupRun,
  Redis,
  spawnDaemon,
  stopDaemons,
  type TestDaemon,
} from './cluster-test-helpers.ts'

const redisUp = await requireService('Redis', '127.0.0.1', 6379)
const mqttUp = await requireService('Mosquitto', '127.0.0.1', 1883)
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'iotload.js')
const dir = mkdtempSync(join(tmpdir(), 'iotload-cluster-env-'))
const prefix = `iotload-envtest-${process.pid}-${Date.now()}`
const keys = new ClusterKeys(prefix)
const basePort = 20100 + (process.pid % 20000)
const cluster = { IOTLOAD_CLUSTER_URL: 'redis://127.0.0.1:6379', IOTLOAD_CLUSTER_PREFIX: prefix }

/** `iotload run -`: the scenario comes from IOTLOAD_* variables only; no file anywhere. */
function runFromEnv(env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('IOTLOAD_')))
  const proc = spawn(process.execPath, [BIN, 'run', '-', '--db', join(dir, 'cli.db')], {
    env: { ...base, ...cluster, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  proc.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d
  })
  proc.stderr.setEncoding('utf8').on('data', (d: string) => {
    err += d
  })
  return new Promise((r) => proc.once('exit', (code) => r({ code, out, err })))
}

const scenarioEnv = (name: string) => ({
  IOTLOAD_NAME: name,
  IOTLOAD_BROKER_PLUGIN: 'mqtt',
  IOTLOAD_BROKER_URL: 'mqtt://127.0.0.1:1883',
  IOTLOAD_PRODUCER_DEVICES: '20',
  IOTLOAD_PRODUCER_RATE: '2/s',
  IOTLOAD_PRODUCER_DURATION: '4s',
  IOTLOAD_PRODUCER_WARMUP: '1s',
  IOTLOAD_PRODUCER_QOS: '1',
  IOTLOAD_PRODUCER_TOPIC: `${prefix}/in/{device}`,
  IOTLOAD_RUN_DRAIN: '3s',
})

describe.skipIf(!redisUp || !mqttUp)('cluster configured by environment only', () => {
  const redis = new Redis('redis://127.0.0.1:6379')
  const daemons: TestDaemon[] = []

  beforeAll(async () => {
    // No flags and no files: each daemon's whole configuration is its environment.
    const roles = ['producer', 'consumer', 'bridge']
    daemons.push(
      ...(await Promise.all(
        roles.map((role, i) =>
          spawnDaemon(`127.0.0.${i + 2}`, basePort + i, {
            ...cluster,
            IOTLOAD_ROLES: role,
            IOTLOAD_HOST: `127.0.0.${i + 2}`,
            IOTLOAD_PORT: String(basePort + i),
            IOTLOAD_DB: join(dir, `${role}.db`),
            IOTLOAD_CAPACITY: '1000',
            IOTLOAD_CLUSTER_LEASE_MS: '4000',
          }),
        ),
      )),
    )
  }, 60_000)

  afterAll(async () => {
    await stopDaemons(daemons)
    const members = await redis.smembers(keys.members)
    for (const id of runs) await cleanupRun(redis, keys, id, members)
    await redis.del(keys.members, ...members.map((m) => keys.member(m)))
    redis.disconnect()
    rmSync(dir, { recursive: true, force: true })
  })
  const runs: string[] = []

  it('runs producer → bridge → consumer on three daemons from IOTLOAD_* variables', async () => {
    const r = await runFromEnv({
      ...scenarioEnv('env-bridge'),
      IOTLOAD_BRIDGE_FROM: `${prefix}/in/{device}`,
      IOTLOAD_BRIDGE_TO: `${prefix}/out/{device}`,
      IOTLOAD_SLO_LOSS: '0',
    })
    expect(r.code, r.err).toBe(0)
    const s = JSON.parse(r.out)
    runs.push(s.run.id)
    expect(s.run.name).toBe('env-bridge')
    expect(s.slo).toEqual([expect.objectContaining({ key: 'loss', pass: true })])
    expect(s.cluster.producers).toHaveLength(1)
    expect(s.cluster.producers[0].devices).toBe(20)
    expect(s.cluster.consumers).toHaveLength(1)
    expect(s.cluster.bridges).toHaveLength(1)
    expect(s.streams.e2e.sent).toBeGreaterThan(0)
    expect(s.streams.e2e.received).toBe(s.streams.e2e.sent)
    // Every message crossed the bridge daemon: its legs were measured at the consumer.
    expect(s.streams.bridge.latency.raw.count).toBe(s.streams.e2e.received)
    const owners = (await redis.lrange(keys.owners(s.run.id), 0, -1)).map((e) => JSON.parse(e))
    expect(owners.filter((e) => e.role === 'bridge')).toHaveLength(20)
    expect(owners.filter((e) => e.role === 'consumer' && e.topic.startsWith(`${prefix}/out/`))).toHaveLength(
      20,
    )
  }, 60_000)

  it('runs a producer-only scenario (IOTLOAD_CONSUMER_ENABLED=false)', async () => {
    const r = await runFromEnv({
      ...scenarioEnv('env-producer-only'),
      IOTLOAD_CONSUMER_ENABLED: 'false',
      // Nothing is measured without a consumer: an e2e threshold fails, and the exit code says so.
      IOTLOAD_SLO_E2E_P99: '10s',
    })
    expect(r.code, r.err).toBe(1)
    const s = JSON.parse(r.out)
    runs.push(s.run.id)
    expect(s.cluster.consumers).toHaveLength(0)
    expect(s.slo).toEqual([expect.objectContaining({ key: 'e2e.p99', actual: 'no data', pass: false })])
    expect(s.cluster.bridges).toHaveLength(0)
    expect(s.streams.e2e.sent).toBeGreaterThan(0)
    expect(s.streams.e2e.lost).toBe(0)
    expect(await redis.llen(keys.owners(s.run.id))).toBe(0)
  }, 60_000)
})
