import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  bridgedScenario,
  type ChaosCluster,
  type PrivateServer,
  privateMosquitto,
  privateRedis,
  startChaosCluster,
  waitForStoredRun,
} from './chaos-harness.ts'
import { expectAccounting } from './chaos-checks.ts'
import type { TestRun } from './cluster-test-helpers.ts'

/** Registered by chaos.int.test.ts, so the heavy cluster tests run one after another. */
export async function redisRestartSuite(): Promise<void> {
  // Redis restarted under a running cluster: a PRIVATE redis-server (append-only file, as docs/cluster.md
  // asks of a production Redis) on a spare port; the shared one on 6379 is never touched.
  const have = (cmd: string) =>
    new Promise<boolean>((r) =>
      spawn(cmd, ['--version'])
        .once('error', () => r(false))
        .once('exit', () => r(true)),
    )
  const tools = (await have('redis-server')) && (await have('mosquitto'))
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

  describe.skipIf(!tools)('cluster chaos: Redis restarted during the drain', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotload-chaos-redis-'))
    let mqtt: PrivateServer
    let redis: Awaited<ReturnType<typeof privateRedis>>
    let c: ChaosCluster

    beforeAll(async () => {
      mqtt = await privateMosquitto(dir)
      redis = await privateRedis(dir)
      c = await startChaosCluster({
        name: 'chaos-redis',
        redisUrl: `redis://127.0.0.1:${redis.port}`,
        mqttUrl: `mqtt://127.0.0.1:${mqtt.port}`,
        leaseMs: 3000,
        dir,
      })
    }, 120_000)

    afterAll(async () => {
      await c?.close()
      await redis?.stop()
      await mqtt?.stop()
      rmSync(dir, { recursive: true, force: true })
    }, 60_000)

    it('the run reaches its end, stored once, with every message accounted for', async () => {
      const t0 = Date.now()
      const id = await c.submit(
        'p1',
        bridgedScenario(c, { name: 'chaos-redis', devices: 200, rate: '5/s', duration: '10s' }),
      )
      // Restart as soon as the producers are done (the drain, or the stop right after it).
      for (;;) {
        const r = (await (await fetch(`${c.d.p1.url}/v1/runs/${id}`)).json()) as TestRun
        if (r.status === 'draining' || r.status === 'completed') break
        if (Date.now() - t0 > 90_000) throw new Error(`the run never drained: ${r.status}`)
        await sleep(50)
      }
      const downMs = await redis.restart()
      const stored = await waitForStoredRun(c, id, 120_000)
      expect(stored.run.status, stored.run.error).toBe('completed')
      await expectAccounting(c, id, stored, true)
      console.log(JSON.stringify({ test: 'redis-restart', downMs, ms: Date.now() - t0, by: stored.name }))
    }, 180_000)
  })
}
