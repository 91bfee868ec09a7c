import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requireService } from '@iotload/sdk/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  bridgedScenario,
  type ChaosCluster,
  type DaemonName,
  type PrivateServer,
  privateMosquitto,
  runViews,
  startChaosCluster,
  waitForStoredRun,
} from './chaos-harness.ts'
import { expectAccounting } from './chaos-checks.ts'
import { adoptionLimitSuite } from './adoption-limit-suite.ts'
import { redisRestartSuite } from './chaos-redis-suite.ts'
import type { TestDaemon, TestRun } from './cluster-test-helpers.ts'

// Jepsen-style faults on the five-daemon layout (two producers, two consumers, a bridge),
// one after another on one cluster. Bounds on time are generous (a loaded 2-core machine); counts
// are exact. The shared Redis is used under a private prefix; Mosquitto is private (see harness).
const redisUp = await requireService('Redis', '127.0.0.1', 6379)
const haveMosquitto = await new Promise<boolean>((r) =>
  spawn('mosquitto', ['-h'])
    .once('error', () => r(false))
    .once('exit', () => r(true)),
)
const LEASE_MS = 3000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined> | T | undefined,
) {
  const until = Date.now() + timeoutMs
  for (;;) {
    const v = await probe()
    if (v !== undefined && v !== false) return v
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

describe.skipIf(!redisUp || !haveMosquitto)('cluster chaos: five daemons under load and faults', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iotload-chaos-'))
  let mqtt: PrivateServer
  let c: ChaosCluster
  const busy: ChildProcess[] = []

  beforeAll(async () => {
    mqtt = await privateMosquitto(dir)
    c = await startChaosCluster({
      name: 'chaos',
      redisUrl: 'redis://127.0.0.1:6379',
      mqttUrl: `mqtt://127.0.0.1:${mqtt.port}`,
      leaseMs: LEASE_MS,
      dir,
    })
  }, 120_000)

  afterAll(async () => {
    for (const b of busy) b.kill('SIGKILL')
    for (const d of Object.values(c?.d ?? {})) if (d.proc.signalCode === 'SIGSTOP') d.proc.kill('SIGCONT')
    await c?.close()
    await mqtt?.stop()
    rmSync(dir, { recursive: true, force: true })
  }, 60_000)

  const logOf = (name: DaemonName) => c.d[name].logs()

  it('1,000 msg/s (200 devices × 5/s): completes on the coordinator with every message accounted for', async () => {
    const t0 = Date.now()
    const id = await c.submit(
      'p1',
      bridgedScenario(c, { name: 'chaos-1k', devices: 200, rate: '5/s', duration: '15s' }),
    )
    const stored = await waitForStoredRun(c, id, 120_000)
    expect(stored.name).toBe('p1')
    expect(stored.run.status, stored.run.error).toBe('completed')
    expect(stored.run.summary.cluster.adoptions).toEqual([])
    await expectAccounting(c, id, stored, true)
    console.log(JSON.stringify({ test: '1k', ms: Date.now() - t0, e2e: stored.run.summary.streams.e2e }))
  }, 150_000)

  it("the machine's capacity (500 devices × 10/s): ends in bounded time with one stored result", async () => {
    const t0 = Date.now()
    const id = await c.submit(
      'p1',
      bridgedScenario(c, { name: 'chaos-5k', devices: 500, rate: '10/s', duration: '8s' }),
    )
    const stored = await waitForStoredRun(c, id, 150_000)
    expect(stored.run.status, stored.run.error).toBe('completed')
    expect(stored.run.summary.cluster.adoptions).toEqual([])
    await expectAccounting(c, id, stored, false)
    const e2e = stored.run.summary.streams.e2e
    console.log(
      JSON.stringify({
        test: '5k',
        ms: Date.now() - t0,
        sent: e2e.sent,
        received: e2e.received,
        lost: e2e.lost,
      }),
    )
  }, 180_000)

  it('a coordinator paused (SIGSTOP) for two leases: one daemon finishes the run, the paused one stops quietly', async () => {
    const id = await c.submit(
      'p1',
      bridgedScenario(c, { name: 'chaos-pause-coord', devices: 200, rate: '5/s', duration: '20s' }),
    )
    await waitFor('the run to send', 60_000, async () => {
      const r = (await (await fetch(`${c.d.p1.url}/v1/runs/${id}`)).json()) as TestRun
      return r.status === 'running' && (r.live?.sent ?? 0) > 2000
    })
    c.d.p1.proc.kill('SIGSTOP')
    // At least two leases, and until another daemon adopted the run (a loaded machine may be slower).
    await sleep(2 * LEASE_MS)
    const adopting = new RegExp(`adopting a cluster run whose coordinator is gone run=${id}`)
    await waitFor('an adopter', 60_000, () =>
      (['p2', 'c1', 'c2', 'b1'] as const).some((n) => adopting.test(logOf(n))),
    )
    c.d.p1.proc.kill('SIGCONT')
    const stored = await waitForStoredRun(c, id, 120_000)
    expect(stored.name).not.toBe('p1')
    expect(stored.run.status, stored.run.error).toBe('completed')
    const adoptions = stored.run.summary.cluster.adoptions
    expect(adoptions.length).toBe(1)
    expect(adoptions[0].from).toMatch(/^127\.0\.0\.2:/)
    const { views } = await expectAccounting(c, id, stored, false)
    // The paused coordinator knows where its run went and stored nothing of it.
    await waitFor('the paused coordinator to stop', 30_000, async () => {
      const r = (await runViews(c, id)).get('p1')
      return r?.status === 'interrupted' ? r : undefined
    })
    expect((await runViews(c, id)).get('p1')?.error).toMatch(/coordinated by 127\.0\.0\.\d:/)
    expect(logOf('p1')).toMatch(/stalled past its coordinator lease/)
    expect(logOf('p1')).not.toMatch(new RegExp(`cluster run (ended|failed) run=${id}`))
    console.log(JSON.stringify({ test: 'pause-coordinator', by: stored.name, views: views.size }))
  }, 180_000)

  it('a consumer paused (SIGSTOP) for two leases: its topics are reclaimed and the gap reported per topic', async () => {
    const id = await c.submit(
      'p2',
      bridgedScenario(c, { name: 'chaos-pause-consumer', devices: 200, rate: '5/s', duration: '20s' }),
    )
    const c1Topics = await waitFor('c1 to record', 60_000, async () => {
      const owners = (await c.redis.lrange(c.keys.owners(id), 0, -1)).map((e) => JSON.parse(e))
      const mine = owners.filter((e) => e.role === 'consumer' && e.member.startsWith('127.0.0.4:'))
      if (mine.length === 0) return undefined
      const seconds = await c.redis.hlen(c.keys.results(id, mine[0].topic))
      return seconds >= 4 ? (mine.map((e) => e.topic) as string[]) : undefined
    })
    c.d.c1.proc.kill('SIGSTOP')
    // At least two leases, and until c2 claimed every topic of c1 (a loaded machine may be slower).
    await sleep(2 * LEASE_MS)
    await waitFor('c2 to reclaim', 60_000, async () => {
      const owners = (await c.redis.lrange(c.keys.owners(id), 0, -1)).map((e) => JSON.parse(e))
      const taken = new Set(
        owners.filter((e) => e.role === 'consumer' && e.member.startsWith('127.0.0.5:')).map((e) => e.topic),
      )
      return c1Topics.every((t) => taken.has(t))
    })
    c.d.c1.proc.kill('SIGCONT')
    const stored = await waitForStoredRun(c, id, 120_000)
    expect(stored.name).toBe('p2')
    expect(stored.run.status, stored.run.error).toBe('completed')
    const cl = stored.run.summary.cluster
    const gapTopics = new Set(
      cl.gaps
        .filter(
          (g: { from: string; to: string }) =>
            g.from?.startsWith('127.0.0.4:') && g.to?.startsWith('127.0.0.5:'),
        )
        .map((g: { topic: string }) => g.topic),
    )
    expect([...gapTopics].sort()).toEqual([...c1Topics].sort())
    expect(cl.topics.reclaimed).toBe(c1Topics.length)
    const { topics } = await expectAccounting(c, id, stored, false)
    const lost = topics.filter((t) => gapTopics.has(t.topic)).reduce((a, t) => a + t.sent - t.received, 0)
    console.log(JSON.stringify({ test: 'pause-consumer', reclaimed: c1Topics.length, lostOnThem: lost }))
  }, 180_000)

  it('a coordinator starved of CPU by busy processes keeps its run and completes it', async () => {
    // Every thread of p1 shares CPU 0 with three busy loops: its main thread gets ~1/4 of a core.
    const pin = (pid: number) => spawn('taskset', ['-a', '-p', '1', String(pid)], { stdio: 'ignore' })
    pin(c.d.p1.proc.pid!)
    for (let i = 0; i < 3; i++)
      busy.push(spawn('taskset', ['1', process.execPath, '-e', 'for(;;){}'], { stdio: 'ignore' }))
    try {
      const id = await c.submit(
        'p1',
        bridgedScenario(c, { name: 'chaos-starved', devices: 200, rate: '5/s', duration: '15s' }),
      )
      const stored = await waitForStoredRun(c, id, 150_000)
      expect(stored.name).toBe('p1')
      expect(stored.run.status, stored.run.error).toBe('completed')
      expect(stored.run.summary.cluster.adoptions).toEqual([])
      await expectAccounting(c, id, stored, false)
      console.log(JSON.stringify({ test: 'starved', e2e: stored.run.summary.streams.e2e.lost }))
    } finally {
      for (const b of busy.splice(0)) b.kill('SIGKILL')
      spawn('taskset', ['-a', '-p', '3', String(c.d.p1.proc.pid!)], { stdio: 'ignore' })
    }
  }, 180_000)

  it('a coordinator killed during the merge: adopted and stored; its adopter shut down mid-merge hands over at once', async () => {
    const id = await c.submit(
      'p2',
      bridgedScenario(c, { name: 'chaos-kill-merge', devices: 500, rate: '2/s', duration: '15s' }),
    )
    await waitFor('the merge', 120_000, () => new RegExp(`cluster run merging run=${id}`).test(logOf('p2')))
    c.d.p2.proc.kill('SIGKILL')
    const adopting = new RegExp(`adopting a cluster run whose coordinator is gone run=${id}`)
    const adopter = await waitFor('an adopter', 60_000, () =>
      (['p1', 'c1', 'c2', 'b1'] as const).find((n) => adopting.test(logOf(n))),
    )
    // Once the adopter merges in turn, SIGTERM it: it must hand the run over and exit promptly.
    const merging = new RegExp(`cluster run merging run=${id}`)
    await waitFor('the adopter to merge', 60_000, () => merging.test(logOf(adopter)))
    const old: TestDaemon = c.d[adopter]
    const t0 = Date.now()
    old.proc.kill('SIGTERM')
    await old.exit
    const exitMs = Date.now() - t0
    // Restarted at once at the same address: the port is free.
    await c.restart(adopter)
    const stored = await waitForStoredRun(c, id, 150_000)
    expect(stored.run.status, stored.run.error).toBe('completed')
    const adoptions = stored.run.summary.cluster.adoptions
    expect(adoptions[0]).toMatchObject({ state: 'stop', handover: false })
    expect(adoptions[0].from).toMatch(/^127\.0\.0\.3:/)
    expect(adoptions[1]).toMatchObject({ handover: true })
    expect(adoptions.length).toBe(2)
    expect(old.logs()).toMatch(/handed the cluster run over/)
    expect(exitMs).toBeLessThan(10_000)
    await expectAccounting(c, id, stored, true)
    await c.restart('p2')
    console.log(JSON.stringify({ test: 'kill-merge', adopter, exitMs, by: stored.name }))
  }, 240_000)
})

// In this file too, so that only one cluster of daemons runs at a time on a 2-core machine.
await redisRestartSuite()
await adoptionLimitSuite()
