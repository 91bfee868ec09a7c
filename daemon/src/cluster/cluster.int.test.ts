import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requireService } from '@iotload/sdk/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ClusterKeys,
  cleanupRun,
  mergeByHand,
  Redis,
  readTopicSeconds,
  spawnDaemon,
  stopDaemons,
  type TestDaemon,
  waitForRun,
} from './cluster-test-helpers.ts'

const redisUp = await requireService('Redis', '127.0.0.1', 6379)
const mqttUp = await requireService('Mosquitto', '127.0.0.1', 1883)
const dir = mkdtempSync(join(tmpdir(), 'iotload-cluster-'))
const prefix = `iotload-test-${process.pid}-${Date.now()}`
const keys = new ClusterKeys(prefix)
const basePort = 20000 + (process.pid % 20000)

function scenario(name: string, duration = '6s') {
  return {
    name,
    broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883' },
    producer: {
      devices: 400,
      rate: '2/s',
      duration,
      warmup: '1s',
      topic: `${prefix}/{run}/{device}`,
      connections: 20,
      qos: 1,
    },
    run: { drain: '5s' },
  }
}

describe.skipIf(!redisUp || !mqttUp)('cluster: 2 producer daemons, 2 consumer daemons', () => {
  const redis = new Redis('redis://127.0.0.1:6379')
  const daemons: TestDaemon[] = []
  const runs: string[] = []

  afterAll(async () => {
    await stopDaemons(daemons)
    const members = await redis.smembers(keys.members)
    for (const r of runs) await cleanupRun(redis, keys, r, members)
    await redis.del(keys.members, ...members.map((m) => keys.member(m)))
    redis.disconnect()
    rmSync(dir, { recursive: true, force: true })
  })

  const submit = async (body: unknown): Promise<string> => {
    const res = await fetch(`${daemons[0]!.url}/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    expect(res.status, await res.clone().text()).toBe(201)
    const { id } = (await res.json()) as { id: string }
    runs.push(id)
    return id
  }

  beforeAll(async () => {
    const common = { IOTLOAD_CLUSTER_PREFIX: prefix, IOTLOAD_CLUSTER_LEASE_MS: '4000' }
    const layout: Array<[string, string]> = [
      ['127.0.0.2', 'producer'],
      ['127.0.0.3', 'producer'],
      ['127.0.0.4', 'consumer'],
      ['127.0.0.5', 'consumer'],
    ]
    const started = await Promise.all(
      layout.map(([host, roles], i) =>
        spawnDaemon(
          host,
          basePort + i,
          { ...common, IOTLOAD_ROLES: roles },
          [
            'daemon',
            '--cluster',
            'redis://127.0.0.1:6379',
            '--host',
            host,
            '--port',
            String(basePort + i),
            '--db',
            join(dir, `d${i}.db`),
          ].slice(1),
        ),
      ),
    )
    daemons.push(...started)
  }, 60_000)

  it('refuses a bridged scenario when no daemon has the bridge role', async () => {
    const res = await fetch(`${daemons[0]!.url}/v1/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ...scenario('no-bridge'),
        bridge: { from: `${prefix}/{device}`, to: `${prefix}/o/{device}` },
      }),
    })
    expect(res.status).toBe(503)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NO_BRIDGES')
  })

  it('claims every topic exactly once and merges exactly', async () => {
    const started = daemons
    const id = await submit(scenario('cluster-basic'))
    const run = await waitForRun(started[0]!.url, id, 50_000)
    expect(run.status, JSON.stringify(run.error)).toBe('completed')
    const s = run.summary
    const cl = s.cluster
    // Two producers with 200 devices each.
    expect(cl.producers.map((p: { devices: number }) => p.devices)).toEqual([200, 200])
    expect(cl.topics.advertised).toBe(400)
    // Every topic claimed exactly once, split across both consumers.
    const owners = (await redis.lrange(keys.owners(id), 0, -1)).map((e) => JSON.parse(e))
    const perTopic = new Map<string, string[]>()
    for (const e of owners) perTopic.set(e.topic, [...(perTopic.get(e.topic) ?? []), e.member])
    expect(perTopic.size).toBe(400)
    expect([...perTopic.values()].every((m) => m.length === 1)).toBe(true)
    expect(new Set(owners.map((e) => e.member)).size).toBe(2)
    // Counts: everything sent was received.
    expect(s.streams.e2e.sent).toBeGreaterThan(0)
    expect(s.streams.e2e.received).toBe(s.streams.e2e.sent)
    // The producer daemons' own health, connections and (QoS 1) publish acks are in the summary.
    expect(s.connections).toMatchObject({ devices: 400, failed: 0 })
    expect(s.generator.targetRate).toBe(s.target.totalRate)
    // Sum of the producers' measured rates (each over its own send window), near the target.
    expect(Math.abs(s.streams.e2e.sendRate / s.target.totalRate - 1)).toBeLessThan(0.05)
    // First arrivals over the consumers' arrival window: nothing lost, nothing late, so near it too.
    expect(Math.abs(s.streams.e2e.rate / s.target.totalRate - 1)).toBeLessThan(0.1)
    expect(s.generator.limited).toBe(s.generatorLimited)
    expect(s.streams['publish-ack'].latency.raw.count).toBe(s.streams.e2e.sent)
    // Merged p50/p99 equal a merge by hand of the per-daemon histograms.
    const records = await readTopicSeconds(redis, keys, id, [...perTopic.keys()])
    const byHand = mergeByHand(records)
    expect(byHand.count).toBe(s.streams.e2e.latency.raw.count)
    expect(s.streams.e2e.latency.raw.p50).toBe(byHand.p50)
    expect(s.streams.e2e.latency.raw.p99).toBe(byHand.p99)
    // The series is served by the API.
    const series = (await (await fetch(`${started[0]!.url}/v1/runs/${id}/series`)).json()) as {
      rows: Array<{ received: number }>
    }
    expect(series.rows.reduce((a, r) => a + (r.received ?? 0), 0)).toBe(s.streams.e2e.received)
    const spectrum = (await (
      await fetch(`${started[0]!.url}/v1/runs/${id}/percentiles?stream=e2e`)
    ).json()) as {
      count: number
      source: string
    }
    expect(spectrum.count).toBe(byHand.count)
    // Clock offsets are reported per daemon.
    expect(cl.clocks.length).toBeGreaterThanOrEqual(4)
    expect(cl.clockUncertaintyUs).toBeGreaterThan(0)
    expect(cl.gaps, JSON.stringify({ gaps: cl.gaps.slice(0, 3), clocks: cl.clocks })).toEqual([])
    console.log(JSON.stringify({ e2e: s.streams.e2e, clocks: cl.clocks }))
  }, 60_000)

  it('shards each producer daemon across worker threads (run.workers: 2), every send counted once', async () => {
    const id = await submit({ ...scenario('cluster-workers'), run: { drain: '5s', workers: 2 } })
    const run = await waitForRun(daemons[0]!.url, id, 50_000)
    expect(run.status, JSON.stringify(run.error)).toBe('completed')
    const s = run.summary
    expect(s.cluster.producers.map((p: { workers?: unknown }) => p.workers)).toEqual([
      expect.objectContaining({ producers: 2 }),
      expect.objectContaining({ producers: 2 }),
    ])
    // The sends per topic that each producer's workers counted (warm-up included): the merge
    // compares every topic's arrivals with them.
    const perTopic = Object.values(await redis.hgetall(keys.sent(id))).map(Number)
    expect(perTopic).toHaveLength(400)
    expect(new Set(perTopic)).toEqual(new Set([2 * 7]))
    expect(s.streams.e2e.sent).toBe(400 * 2 * 6)
    expect(s.streams.e2e.received).toBe(s.streams.e2e.sent)
    expect(s.streams.e2e.lost).toBe(0)
    expect(s.streams.e2e.undelivered ?? 0).toBe(0)
  }, 60_000)

  it("reclaims a SIGKILLed consumer daemon's topics within lease + 2 s and keeps what it recorded", async () => {
    const victim = daemons[2]!
    const victimHost = '127.0.0.4:'
    const id = await submit(scenario('cluster-kill', '14s'))
    // Let the victim record a few seconds.
    const until = Date.now() + 40_000
    let victimTopics: string[] = []
    let before = new Map<string, Record<string, string>>()
    for (;;) {
      const owners = (await redis.lrange(keys.owners(id), 0, -1)).map((e) => JSON.parse(e))
      victimTopics = owners.filter((e) => e.member.startsWith(victimHost)).map((e) => e.topic)
      if (victimTopics.length > 0) {
        const sample = await redis.hgetall(keys.results(id, victimTopics[0]!))
        const seconds = Object.values(sample).filter((v) => JSON.parse(v).received > 0).length
        if (seconds >= 3) break
      }
      if (Date.now() > until) throw new Error('the victim never recorded 3 seconds')
      await new Promise((r) => setTimeout(r, 300))
    }
    const lease = 4000
    victim.proc.kill('SIGKILL')
    const killedAt = Date.now()
    before = new Map()
    for (const t of victimTopics) before.set(t, await redis.hgetall(keys.results(id, t)))
    const preKillReceived = [...before.values()]
      .flatMap((h) => Object.values(h))
      .reduce((a, v) => a + JSON.parse(v).received, 0)
    expect(preKillReceived).toBeGreaterThan(0)
    // Every victim topic is claimed again by the surviving consumer within lease + 2 s.
    let reclaimedAt = 0
    for (;;) {
      const owners = (await redis.lrange(keys.owners(id), 0, -1)).map((e) => JSON.parse(e))
      const retaken = new Set(
        owners
          .filter((e) => !e.member.startsWith(victimHost) && victimTopics.includes(e.topic))
          .map((e) => e.topic),
      )
      if (retaken.size === victimTopics.length) {
        reclaimedAt = Math.max(
          ...owners
            .filter((e) => retaken.has(e.topic) && !e.member.startsWith(victimHost))
            .map((e) => e.atMs),
        )
        break
      }
      if (Date.now() - killedAt > lease + 10_000)
        throw new Error(`only ${retaken.size}/${victimTopics.length} reclaimed`)
      await new Promise((r) => setTimeout(r, 200))
    }
    const reclaimMs = reclaimedAt - killedAt
    // While it runs, the coordinator serves live counters.
    const mid = (await (await fetch(`${daemons[0]!.url}/v1/runs/${id}`)).json()) as {
      status: string
      live: { sent: number } | null
    }
    expect(mid.status).toBe('running')
    expect(mid.live?.sent).toBeGreaterThan(0)
    expect(reclaimMs).toBeLessThanOrEqual(lease + 2000)
    const run = await waitForRun(daemons[0]!.url, id, 50_000)
    expect(run.status, JSON.stringify(run.error)).toBe('completed')
    const cl = run.summary.cluster
    // The gap is reported per topic, from the victim to its successor.
    const gapTopics = new Set(
      cl.gaps
        .filter((g: { from: string }) => g.from?.startsWith(victimHost))
        .map((g: { topic: string }) => g.topic),
    )
    expect(gapTopics.size).toBe(victimTopics.length)
    expect(cl.topics.reclaimed).toBe(victimTopics.length)
    // Every second the victim recorded before the kill is still there, unchanged, and merged.
    for (const [t, h] of before) {
      const after = await redis.hgetall(keys.results(id, t))
      for (const [field, v] of Object.entries(h)) expect(after[field]).toBe(v)
    }
    const all = await readTopicSeconds(redis, keys, id, victimTopics)
    expect(all.filter((r) => r.m.startsWith(victimHost)).reduce((a, r) => a + r.received, 0)).toBe(
      preKillReceived,
    )
    expect(run.summary.streams.e2e.received).toBeGreaterThanOrEqual(preKillReceived)
    console.log(
      JSON.stringify({
        reclaimMs,
        victimTopics: victimTopics.length,
        lost: run.summary.streams.e2e.lost,
        gap: cl.gaps[0],
      }),
    )
  }, 90_000)
})
