import { describe, expect, it } from 'vitest'
import { refuseFaultsInCluster } from './faults-schema.ts'
import { resolveScenario } from './load-scenario.ts'
import { localPolicy, remotePolicy } from './trust-policy.ts'

const base = {
  broker: { plugin: 'memory', bus: 'faults-schema' },
  producer: { devices: 2, rate: '1/s', duration: '30s', warmup: '5s' },
}

describe('faults, setup and teardown in a scenario', () => {
  it('parse with defaults: timeout 30s, outage detection on', async () => {
    const r = await resolveScenario({ ...base, faults: [{ at: '20s', exec: 'true' }] })
    expect(r.scenario.faults).toEqual([{ at: 20_000, exec: 'true', timeout: 30_000 }])
    expect(r.scenario.outages).toEqual({ receivedBelow: 0.5, disconnects: 1, enabled: true })
  })

  it('a fault after the schedule is refused, naming the field', async () => {
    await expect(resolveScenario({ ...base, faults: [{ at: '35s', exec: 'true' }] })).rejects.toThrow(
      /faults\[0\]\.at: must fall within the schedule \(35s long\)/,
    )
  })

  it('an unknown key in a fault is refused', async () => {
    await expect(
      resolveScenario({ ...base, faults: [{ at: '1s', exec: 'true', shell: 'bash' }] }),
    ).rejects.toThrow(/faults\[0\]\.shell: unknown key/)
  })

  it('a cluster run refuses them (every producer daemon would run them)', async () => {
    const r = await resolveScenario({ ...base, teardown: [{ exec: 'true' }] })
    expect(() => refuseFaultsInCluster(r.scenario)).toThrow(/^teardown: not supported in cluster runs yet/)
    const plain = (await resolveScenario(base)).scenario
    expect(() => refuseFaultsInCluster(plain)).not.toThrow()
  })

  it('the CLI (local policy) may run commands', async () => {
    const r = await resolveScenario({ ...base, setup: [{ exec: 'true' }] }, { policy: localPolicy() })
    expect(r.scenario.setup).toHaveLength(1)
  })

  it.each(['faults', 'setup', 'teardown'])(
    'a REST scenario with %s exec is refused unless the daemon allows exec',
    async (key) => {
      const step = key === 'faults' ? { at: '1s', exec: 'touch /tmp/x' } : { exec: 'touch /tmp/x' }
      await expect(resolveScenario({ ...base, [key]: [step] }, { policy: remotePolicy() })).rejects.toThrow(
        new RegExp(`${key}\\[0\\]\\.exec: running commands is refused .*--allow-exec`),
      )
      const allowed = await resolveScenario(
        { ...base, [key]: [step] },
        { policy: remotePolicy({ allowExec: true }) },
      )
      expect((allowed.scenario as Record<string, unknown>)[key]).toHaveLength(1)
    },
  )
})
