import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { resolveScenario } from './load-scenario.ts'

const base = {
  broker: { plugin: 'memory', bus: 'workers-check' },
  producer: { devices: 4, rate: '1/s', duration: '10s', warmup: '0s', topic: 'w/{device}' },
  run: { workers: 2 },
}

describe('run.workers beyond 1 refuses what runs on one thread only', () => {
  const group = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    devices: 2,
    rate: '1/s',
    duration: '10s',
    warmup: '0s',
    topic: `${name}/{device}`,
    ...extra,
  })
  it.each([
    [
      'device groups with maxConnectFailures',
      { producer: undefined, producers: [group('a'), group('b', { maxConnectFailures: 1 })] },
      /device groups with maxConnectFailures/,
    ],
  ])('%s: a clear error naming run.workers', async (_, extra, what) => {
    const scenario = { ...base, ...extra } as Record<string, unknown>
    if (scenario.producer === undefined) delete scenario.producer
    await expect(resolveScenario(scenario)).rejects.toThrow(/run\.workers/)
    await expect(resolveScenario(scenario)).rejects.toThrow(what)
  })

  it('identities shard with a connection per device, not with a shared pool', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotload-ids-'))
    try {
      const file = join(dir, 'ids.csv')
      writeFileSync(file, 'id,username\nd0,u0\nd1,u1\nd2,u2\nd3,u3\n')
      const producer = { ...base.producer, identities: file }
      const perDevice = await resolveScenario({ ...base, producer })
      expect(perDevice.scenario.run.workers).toBe(2)
      await expect(resolveScenario({ ...base, producer: { ...producer, connections: 2 } })).rejects.toThrow(
        /producer\.identities with a shared connection pool.*run\.workers: 1/,
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('workers: 1 takes them all, and workers: 2 a plain fleet, faults and setup included', async () => {
    await expect(
      resolveScenario({ ...base, run: { workers: 1 }, consumer: { mode: 'fanout', connections: 2 } }),
    ).resolves.toBeDefined()
    const r = await resolveScenario(base)
    expect(r.scenario.run.workers).toBe(2)
    const fanout = await resolveScenario({ ...base, consumer: { mode: 'fanout', connections: 2 } })
    expect(fanout.scenario.run.workers).toBe(2)
    const groups = await resolveScenario({
      ...base,
      producer: undefined,
      producers: [group('a'), group('b')],
    })
    expect(groups.scenario.run.workers).toBe(2)
    const faulted = await resolveScenario({
      ...base,
      faults: [{ at: '1s', exec: 'true' }],
      setup: [{ exec: 'true' }],
      teardown: [{ exec: 'true' }],
    })
    expect(faulted.scenario.run.workers).toBe(2)
  })
})
