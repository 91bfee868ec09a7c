import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requireService } from '@iotload/sdk/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { ClusterKeys, Redis, spawnDaemon, stopDaemons, type TestDaemon } from './cluster-test-helpers.ts'

// Issue #11, row 11: a cluster member reads scenarios from Redis, so whoever can write to Redis
// must get no more than a REST client: no module import, no file or env read into a payload.

const redisUp = await requireService('Redis', '127.0.0.1', 6379)
const prefix = `iotload-untrusted-${process.pid}-${Date.now()}`
const keys = new ClusterKeys(prefix)
const dir = mkdtempSync(join(tmpdir(), 'iotload-untrusted-'))
const marker = join(dir, 'pwned')
const evil = join(dir, 'evil.mjs')
writeFileSync(
  evil,
  `import { writeFileSync } from 'node:fs'\nwriteFileSync(${JSON.stringify(marker)}, 'ran')\nexport default (m) => m\n`,
)

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number }
      s.close(() => resolve(port))
    })
  })
}

describe.skipIf(!redisUp)('a cluster member and a scenario written straight into Redis', () => {
  const redis = new Redis('redis://127.0.0.1:6379')
  const daemons: TestDaemon[] = []
  afterAll(async () => {
    await stopDaemons(daemons)
    const names = await redis.keys(`${prefix}:*`)
    if (names.length > 0) await redis.del(...names)
    redis.disconnect()
    rmSync(dir, { recursive: true, force: true })
  })

  it('refuses a transform module and a ${file:} payload exactly as the REST API does; nothing runs', async () => {
    const port = await freePort()
    const d = await spawnDaemon('127.0.0.11', port, { IOTLOAD_CLUSTER_PREFIX: prefix }, [
      '--cluster',
      'redis://127.0.0.1:6379',
      '--host',
      '127.0.0.11',
      '--port',
      String(port),
      '--db',
      join(dir, 'member.db'),
    ])
    daemons.push(d)
    const [member] = await redis.smembers(keys.members)
    expect(member).toBeDefined()
    const plant = async (id: string, scenario: Record<string, unknown>) => {
      const plan = {
        id,
        coordinator: member,
        scenario,
        producers: [{ member, firstDevice: 0, devices: 1 }],
        consumers: [member],
        bridges: [member],
        leaseMs: 2000,
        epochMs: Date.now(),
        createdAt: Date.now(),
      }
      await redis.set(keys.plan(id), JSON.stringify(plan), 'EX', 600)
      await redis.rpush(keys.inbox(member!), id)
    }
    const base = {
      broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883' },
      producer: { devices: 1, rate: '1/s', duration: '1s', topic: `${prefix}/{device}` },
    }
    await plant('rce', {
      ...base,
      bridge: { from: `${prefix}/{device}`, to: `${prefix}/o/{device}`, transform: { module: evil } },
    })
    await plant('exfil', {
      ...base,
      producer: { ...base.producer, payload: { stolen: '${file:/etc/hostname}', env: '${env:HOME}' } },
    })
    // The producer's share of a run has no bridge (producerScenario drops it), so for the module
    // it is the consumer and bridge parts that must refuse.
    const reports = async (id: string, roles: string[]) => {
      const out: string[] = []
      for (const role of roles) out.push(...Object.values(await redis.hgetall(keys.tasks(id, role))))
      return out
    }
    const until = Date.now() + 60_000
    let rce: string[] = []
    let exfil: string[] = []
    while (Date.now() < until) {
      rce = await reports('rce', ['consumer', 'bridge'])
      exfil = await reports('exfil', ['producer', 'consumer', 'bridge'])
      if (rce.length >= 2 && exfil.length >= 3) break
      await new Promise((r) => setTimeout(r, 200))
    }
    for (const r of rce) expect(r).toMatch(/"status":"failed".*bridge\.transform\.module.*--transform-dir/)
    for (const r of exfil)
      expect(r).toMatch(/"status":"failed".*producer\.payload\.stolen.*credential fields/)
    expect(rce).toHaveLength(2)
    expect(exfil).toHaveLength(3)
    expect(existsSync(marker), 'the module planted through Redis ran').toBe(false)
    expect(d.proc.exitCode).toBeNull()
  }, 120_000)
})
