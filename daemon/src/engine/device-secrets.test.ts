import { describe, expect, it } from 'vitest'
import { resolveScenario } from '../scenario/load-scenario.ts'
import { secrets } from '../log/secret-registry.ts'
import { startRun } from './run.ts'
import { ManualClock } from './testing/manual-clock.ts'
import { collectingLogger } from './testing/memory-scenario.ts'

describe('per-device passwords', () => {
  it('are scrubbed while their run lasts and forgotten after it', async () => {
    // Each device connects with its own password; the memory broker carries the run.
    const resolved = await resolveScenario(
      {
        name: 'per-device passwords',
        broker: {
          plugin: 'memory',
          bus: 'device-secrets',
          auth: { username: 'dev-{device}', password: 'pass-{device}-${env:PW_SUFFIX}' },
        },
        producer: { devices: 5, rate: '5/s', duration: '1s', topic: 'pw/{device}' },
      },
      { env: { PW_SUFFIX: 'zq81' } },
    )
    const before = secrets.size
    const scrubbedDuring: string[] = []
    const clock = new ManualClock()
    const auto = clock.autoAdvance()
    const summary = await startRun(resolved, {
      clock,
      logger: collectingLogger(),
      onSecond: () => {
        scrubbedDuring.push(secrets.scrub('device 3 used pass-3-zq81'))
      },
    }).result.finally(auto.stop)
    expect(summary.run.status).toBe('completed')
    expect(summary.streams.e2e!.received).toBe(25)
    expect(scrubbedDuring.length).toBeGreaterThan(0)
    for (const line of scrubbedDuring) expect(line).toBe('device 3 used [redacted]')
    // Everything the run registered (five per-device passwords and the env-resolved suffix, all
    // in the run's scope) is forgotten with it: a long-lived daemon does not accumulate secrets.
    expect(secrets.size).toBe(before)
    expect(secrets.scrub('pass-3-zq81')).toBe('pass-3-zq81')
  })
})
