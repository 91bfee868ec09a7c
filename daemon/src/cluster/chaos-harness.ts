import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, isPortOpen } from '@iotload/sdk/testing'
import { Redis } from 'ioredis'
import {
  cleanupRun,
  spawnDaemon,
  stopDaemons,
  type TestDaemon,
  type TestRun,
} from './cluster-test-helpers.ts'
import { ClusterKeys } from './keys.ts'
import type { TopicSecond } from './topic-record.ts'

/** The layout: two producers, two consumers, one bridge, on their own loopback addresses. */
export const FIVE_DAEMONS = [
  ['p1', '127.0.0.2', 'producer'],
  ['p2', '127.0.0.3', 'producer'],
  ['c1', '127.0.0.4', 'consumer'],
  ['c2', '127.0.0.5', 'consumer'],
  ['b1', '127.0.0.6', 'bridge'],
] as const

/** Name of a daemon of the layout. */
export type DaemonName = (typeof FIVE_DAEMONS)[number][0]

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A server process a chaos test owns (never a shared service). */
export interface PrivateServer {
  port: number
  proc: ChildProcess
  stop(): Promise<void>
}

async function waitOpen(port: number, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (await isPortOpen('127.0.0.1', port, 200)) return
    await sleep(100)
  }
  throw new Error(`${what} on ${port} did not come up`)
}

function stopper(proc: ChildProcess): () => Promise<void> {
  return async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return
    const exited = new Promise((r) => proc.once('exit', r))
    proc.kill('SIGTERM')
    await Promise.race([exited, sleep(5000)])
    proc.kill('SIGKILL')
  }
}

/**
 * A private Mosquitto without the per-client queue limit (1,000 by default): a consumer that a
 * test pauses must find its messages queued, not dropped by the broker, and the shared broker's
 * load from other tests stays out of the counts.
 */
export async function privateMosquitto(dir: string): Promise<PrivateServer> {
  const port = await freePort()
  const conf = join(dir, 'mosquitto.conf')
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\n`)
  const proc = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' })
  await waitOpen(port, 'mosquitto')
  return { port, proc, stop: stopper(proc) }
}

/** A private redis-server with an append-only file, restartable on the same port and data. */
export async function privateRedis(dir: string): Promise<PrivateServer & { restart(): Promise<number> }> {
  const port = await freePort()
  const start = () =>
    spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', ''],
      { stdio: 'ignore' },
    )
  const server = { port, proc: start() } as PrivateServer & { restart(): Promise<number> }
  server.stop = async () => stopper(server.proc)()
  server.restart = async () => {
    const t0 = Date.now()
    await server.stop()
    server.proc = start()
    await waitOpen(port, 'redis-server')
    return Date.now() - t0
  }
  await waitOpen(port, 'redis-server')
  return server
}

/** Five daemons sharing a Redis under a private prefix, and what a test needs to check a run. */
export interface ChaosCluster {
  d: Record<DaemonName, TestDaemon>
  ports: Record<DaemonName, number>
  prefix: string
  keys: ClusterKeys
  redis: Redis
  mqttUrl: string
  dir: string
  /** Submits a scenario to one daemon; returns the run id. */
  submit(to: DaemonName, scenario: unknown): Promise<string>
  /** Starts a daemon again at its address (after a kill or a shutdown). */
  restart(name: DaemonName): Promise<TestDaemon>
  close(): Promise<void>
}

/** Starts the five-daemon layout. */
export async function startChaosCluster(o: {
  name: string
  redisUrl: string
  mqttUrl: string
  leaseMs: number
  dir?: string
}): Promise<ChaosCluster> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), `iotload-${o.name}-`))
  const prefix = `iotload-${o.name}-${process.pid}-${Date.now()}`
  const keys = new ClusterKeys(prefix)
  const redis = new Redis(o.redisUrl, { maxRetriesPerRequest: null })
  const runs: string[] = []
  const ports = {} as Record<DaemonName, number>
  for (const [name] of FIVE_DAEMONS) ports[name] = await freePort()
  const launch = (name: DaemonName) => {
    const [, host, role] = FIVE_DAEMONS.find(([n]) => n === name)!
    return spawnDaemon(
      host,
      ports[name],
      { IOTLOAD_CLUSTER_PREFIX: prefix, IOTLOAD_CLUSTER_LEASE_MS: String(o.leaseMs), IOTLOAD_ROLES: role },
      [
        '--cluster',
        o.redisUrl,
        '--host',
        host,
        '--port',
        String(ports[name]),
        '--db',
        join(dir, `${name}.db`),
      ],
    )
  }
  const d = {} as Record<DaemonName, TestDaemon>
  for (const [name] of FIVE_DAEMONS) d[name] = await launch(name)
  return {
    d,
    ports,
    prefix,
    keys,
    redis,
    mqttUrl: o.mqttUrl,
    dir,
    async submit(to, scenario) {
      const res = await fetch(`${d[to].url}/v1/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(scenario),
      })
      if (res.status !== 201) throw new Error(`submit: ${res.status} ${await res.text()}`)
      const { id } = (await res.json()) as { id: string }
      runs.push(id)
      return id
    },
    async restart(name) {
      d[name] = await launch(name)
      return d[name]
    },
    async close() {
      await stopDaemons(Object.values(d))
      const members = await redis.smembers(keys.members)
      for (const r of runs) await cleanupRun(redis, keys, r, members)
      await redis.del(keys.members, keys.coordinatedRuns, ...members.map((m) => keys.member(m)))
      redis.disconnect()
      if (!o.dir) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** The scenario (examples/mosquitto.yaml's path: producer → bridge → consumer) at any size. */
export function bridgedScenario(
  c: Pick<ChaosCluster, 'prefix' | 'mqttUrl'>,
  o: { name: string; devices: number; rate: string; duration: string; warmup?: string; drain?: string },
) {
  return {
    name: o.name,
    broker: { plugin: 'mqtt', url: c.mqttUrl, version: '5' },
    producer: {
      devices: o.devices,
      rate: o.rate,
      duration: o.duration,
      warmup: o.warmup ?? '2s',
      topic: `${c.prefix}/devices/{device}/telemetry`,
      payload: { assetId: 'tracker-{device}', temperature: '{float:15:30:1}', valve: '{choice:open|closed}' },
      qos: 1,
    },
    bridge: { from: `${c.prefix}/devices/{device}/telemetry`, to: `${c.prefix}/actions/{device}` },
    run: { drain: o.drain ?? '5s' },
  }
}

/** Every daemon's view of a run: status, or 404 where it was never stored. */
export async function runViews(c: ChaosCluster, id: string): Promise<Map<DaemonName, TestRun | null>> {
  const out = new Map<DaemonName, TestRun | null>()
  for (const [name] of FIVE_DAEMONS) {
    const d = c.d[name]
    if (d.proc.exitCode !== null || d.proc.signalCode !== null) continue
    const r = await fetch(`${d.url}/v1/runs/${id}`, { signal: AbortSignal.timeout(10_000) })
    out.set(name, r.status === 200 ? ((await r.json()) as TestRun) : null)
  }
  return out
}

const TERMINAL = ['completed', 'failed', 'stopped']

/**
 * Waits until one daemon serves the run in a terminal state with a summary (the one that stored
 * it), and returns that daemon with the run.
 */
export async function waitForStoredRun(
  c: ChaosCluster,
  id: string,
  timeoutMs: number,
): Promise<{ name: DaemonName; run: TestRun; ms: number }> {
  const t0 = Date.now()
  for (;;) {
    const views = await runViews(c, id).catch(() => new Map<DaemonName, TestRun | null>())
    for (const [name, run] of views)
      if (run && TERMINAL.includes(run.status) && run.summary) return { name, run, ms: Date.now() - t0 }
    if (Date.now() - t0 > timeoutMs)
      throw new Error(
        `run ${id} not stored after ${timeoutMs} ms: ${JSON.stringify([...views].map(([n, r]) => [n, r?.status, r?.error]))}`,
      )
    await sleep(500)
  }
}

/** Per-topic figures of a run read straight from Redis (warm-up included). */
export interface TopicAccount {
  topic: string
  sent: number
  received: number
  measuredReceived: number
  owners: string[]
}

/**
 * Reads every topic's sends and recorded seconds from Redis: the test's own accounting, to hold
 * the coordinator's summary against.
 */
export async function topicAccounts(c: ChaosCluster, id: string): Promise<TopicAccount[]> {
  const { redis, keys } = c
  const sent = await redis.hgetall(keys.sent(id))
  const out: TopicAccount[] = []
  for (const [producerTopic, n] of Object.entries(sent)) {
    const device = producerTopic.split('/').at(-2)
    const topic = `${c.prefix}/actions/${device}`
    const recs = (await redis.hvals(keys.results(id, topic))).map((v) => JSON.parse(v) as TopicSecond)
    out.push({
      topic,
      sent: Number(n),
      received: recs.reduce((a, r) => a + r.received + r.receivedWarmup, 0),
      measuredReceived: recs.reduce((a, r) => a + r.received, 0),
      owners: [...new Set(recs.map((r) => r.m))],
    })
  }
  return out
}
