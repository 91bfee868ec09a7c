import { randomUUID } from 'node:crypto'
import { requireService } from '@iotload/sdk/testing'
import { describe, expect, it } from 'vitest'
import { resolveScenario } from '../scenario/load-scenario.ts'
import { secrets } from '../scenario/secrets.ts'
import { startRun } from './run.ts'

const mosquitto = await requireService('Mosquitto', '127.0.0.1', 1883)

describe('per-device passwords', () => {
  it.skipIf(!mosquitto)('are scrubbed while their run lasts and forgotten after it', async () => {
    const run = `pw${randomUUID().slice(0, 8)}`
    const resolved = await resolveScenario(
      {
        name: run,
        broker: {
          plugin: 'mqtt',
          url: 'mqtt://127.0.0.1:1883',
          auth: { username: 'dev-{device}', password: 'pass-{device}-${env:PW_SUFFIX}' },
        },
        producer: { devices: 5, rate: '5/s', duration: '1s', topic: `${run}/{device}` },
        consumer: { topic: `${run}/+` },
      },
      { env: { PW_SUFFIX: 'zq81' } },
    )
    const before = secrets.size
    const scrubbedDuring: string[] = []
    const summary = await startRun(resolved, {
      onSecond: () => {
        scrubbedDuring.push(secrets.scrub('device 3 used pass-3-zq81'))
      },
    }).result
    expect(summary.run.status).toBe('completed')
    expect(scrubbedDuring.length).toBeGreaterThan(0)
    for (const line of scrubbedDuring) expect(line).toBe('device 3 used [redacted]')
    // Everything the run registered (five per-device passwords and the env-resolved suffix, all
    // in the run's scope) is forgotten with it: a long-lived daemon does not accumulate secrets.
    expect(secrets.size).toBe(before)
    expect(secrets.scrub('pass-3-zq81')).toBe('pass-3-zq81')
  })
})
