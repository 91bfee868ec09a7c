import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, requireService } from '@iotload/sdk/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ClusterKeys,
  cleanupRun,
  Redis,
  spawnDaemon,
  stopDaemons,
  type TestDaemon,
  type TestRun,
} from './cluster-test-helpers.ts'

/** Registered by chaos.int.test.ts, so the heavy cluster tests run one after another. */
export async function adoptionLimitSuite(): Promise<void> {
  // IOTLOAD_CLUSTER_MAX_ADOPTIONS=0: the first adoption already ends the run, `failed`, with what
  // reached Redis merged and stored and the reason said.
  const redisUp = await requireService('Redis', '127.0.0.1', 6379)
  const mqttUp = await requireService('Mosquitto', '127.0.0.1', 1883)
  const dir = mkdtempSync(join(tmpdir(), 'iotload-adoption-limit-'))
  const prefix = `iotload-adoption-limit-${process.pid}-${Date.now()}`
  const keys = new ClusterKeys(prefix)
  const LEASE_MS = 2000

  describe.skipIf(!redisUp || !mqttUp)('cluster: adoption past the limit', () => {
    const redis = new Redis('redis://127.0.0.1:6379')
    const daemons: TestDaemon[] = []
    let runId = ''

    beforeAll(async () => {
      const layout: Array<[string, string]> = [
        ['127.0.0.10', 'producer'],
        ['127.0.0.11', 'consumer'],
        ['127.0.0.12', 'bridge'],
        ['127.0.0.13', 'bridge'],
      ]
      for (const [i, [host, roles]] of layout.entries()) {
        const port = await freePort()
        daemons.push(
          await spawnDaemon(
            host,
            port,
            {
              IOTLOAD_CLUSTER_PREFIX: prefix,
              IOTLOAD_CLUSTER_LEASE_MS: String(LEASE_MS),
              IOTLOAD_CLUSTER_MAX_ADOPTIONS: '0',
              IOTLOAD_ROLES: roles,
            },
            [
              '--cluster',
              'redis://127.0.0.1:6379',
              '--host',
              host,
              '--port',
              String(port),
              '--db',
              join(dir, `a${i}.db`),
            ],
          ),
        )
      }
    }, 60_000)

    afterAll(async () => {
      await stopDaemons(daemons)
      const members = await redis.smembers(keys.members)
      if (runId) await cleanupRun(redis, keys, runId, members)
      await redis.del(keys.members, keys.coordinatedRuns, ...members.map((m) => keys.member(m)))
      redis.disconnect()
      rmSync(dir, { recursive: true, force: true })
    })

    it('ends the run failed with the reason, everything in Redis merged and stored once', async () => {
      const coordinator = daemons[2]!
      const res = await fetch(`${coordinator.url}/v1/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'adoption-limit',
          broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883' },
          producer: {
            devices: 50,
            rate: '5/s',
            duration: '20s',
            warmup: '1s',
            topic: `${prefix}/{run}/{device}`,
            qos: 1,
          },
          run: { drain: '3s' },
        }),
      })
      expect(res.status, await res.clone().text()).toBe(201)
      runId = ((await res.json()) as { id: string }).id
      const t0 = Date.now()
      for (;;) {
        const run = (await (await fetch(`${coordinator.url}/v1/runs/${runId}`)).json()) as TestRun
        if (run.status === 'running' && (run.live?.sent ?? 0) > 500) break
        if (Date.now() - t0 > 40_000) throw new Error(`never sent: ${JSON.stringify(run)}`)
        await new Promise((r) => setTimeout(r, 200))
      }
      coordinator.proc.kill('SIGKILL')
      const killedAt = Date.now()
      const survivors = daemons.filter((d) => d !== coordinator)
      let stored: TestRun | undefined
      while (!stored) {
        for (const d of survivors) {
          const r = await fetch(`${d.url}/v1/runs/${runId}`)
          if (r.status !== 200) continue
          const run = (await r.json()) as TestRun
          if (run.status === 'failed' && run.summary) stored = run
        }
        // Well before the 20 s schedule would have ended: the adopter stops the run at once.
        if (Date.now() - killedAt > 30_000) throw new Error('the run did not end')
        if (!stored) await new Promise((r) => setTimeout(r, 300))
      }
      expect(stored.error).toMatch(/adopted 1 times, the limit is 0 .*127\.0\.0\.12:.*\(go\)/)
      const s = stored.summary
      expect(s.cluster.adoptions).toHaveLength(1)
      // Everything the consumer wrote is merged: the summary equals the records in Redis.
      const topicCount = (await redis.hkeys(keys.topics(runId))).length
      expect(topicCount).toBe(50)
      let received = 0
      for (const t of await redis.hkeys(keys.topics(runId)))
        for (const v of await redis.hvals(keys.results(runId, t))) received += JSON.parse(v).received
      expect(received).toBeGreaterThan(0)
      expect(s.streams.e2e.received).toBe(received)
      expect(await redis.get(keys.state(runId))).toBe('done')
      expect(await redis.sismember(keys.coordinatedRuns, runId)).toBe(0)
      console.log(JSON.stringify({ endedMs: Date.now() - killedAt, received, error: stored.error }))
    }, 120_000)
  })
}
