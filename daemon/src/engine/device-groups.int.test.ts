import { randomUUID } from 'node:crypto'
import { type PrivateMosquitto, requireBinary, startMosquitto } from '@iotload/sdk/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../log/logger.ts'
import { resolveScenario } from '../scenario/load-scenario.ts'
import type { SecondReport } from './recorder.ts'
import { startRun } from './run.ts'

// A mixed fleet against a private Mosquitto that checks every device's own credentials.
const hasMosquitto = requireBinary('mosquitto', 'apt-get install mosquitto')
const quiet = createLogger({ level: 'error' })
let broker: PrivateMosquitto

const users: Record<string, string> = { consumer: 'consumer-pw' }
for (let d = 0; d < 3; d++) users[`meters-${d}`] = `m-${d}`
for (let d = 3; d < 5; d++) users[`trackers-${d}`] = `t-${d}`

beforeAll(async () => {
  if (hasMosquitto) broker = await startMosquitto({ users })
}, 30_000)
afterAll(async () => {
  await broker?.stop()
})

function scenario(trackerPassword: string) {
  const tag = `groups-${randomUUID().slice(0, 8)}`
  return {
    name: 'mixed fleet',
    broker: {
      plugin: 'mqtt',
      url: broker.url,
      version: '5',
      auth: { username: 'consumer', password: 'consumer-pw' },
    },
    producers: [
      {
        name: 'meters',
        devices: 3,
        rate: '5/s',
        duration: '3s',
        qos: 1,
        topic: `${tag}/{group}/{device}`,
        auth: { username: '{group}-{device}', password: 'm-{device}' },
      },
      {
        name: 'trackers',
        devices: 2,
        rate: '20/s',
        duration: '3s',
        qos: 1,
        topic: `${tag}/{group}/{device}/pos`,
        payload: { kind: '{group}', speed: '{int:0:120}' },
        auth: { username: '{group}-{device}', password: trackerPassword },
      },
    ],
    run: { drain: '3s' },
  }
}

describe.skipIf(!hasMosquitto)('device groups through Mosquitto', () => {
  it('each group connects with its own credentials and is accounted on its own', async () => {
    const resolved = await resolveScenario(scenario('t-{device}'), { env: {} })
    // Two topic shapes: the consumer subscribes to one filter per group.
    expect(resolved.consumerFilters).toHaveLength(2)
    const seconds: SecondReport[] = []
    const summary = await startRun(resolved, { logger: quiet, onSecond: (r) => seconds.push(r) }).result
    expect(summary.run.status).toBe('completed')
    expect(summary.connections).toMatchObject({ devices: 5, connections: 5, failed: 0 })
    expect(summary.streams.e2e).toMatchObject({ sent: 165, received: 165, lost: 0, duplicates: 0 })
    const groups = summary.groups ?? []
    expect(groups.map((g) => [g.group, g.firstDevice, g.sent, g.received, g.lost, g.duplicates])).toEqual([
      ['meters', 0, 45, 45, 0, 0],
      ['trackers', 3, 120, 120, 0, 0],
    ])
    for (const g of groups) {
      expect(g.latency.raw.count).toBe(g.received)
      expect(g.latency.raw.p50).toBeGreaterThan(0)
    }
    const received = (name: string) =>
      seconds.reduce((n, r) => n + (r.groups?.find((g) => g.group === name)?.received ?? 0), 0)
    expect([received('meters'), received('trackers')]).toEqual([45, 120])
  }, 30_000)

  it('a group with wrong credentials fails the run, its failures counted as auth', async () => {
    const resolved = await resolveScenario(scenario('wrong'), { env: {} })
    const summary = await startRun(resolved, { logger: quiet }).result
    expect(summary.run.status).toBe('failed')
    expect(summary.run.measured).toBe(false)
    expect(summary.connections).toMatchObject({ devices: 5, failed: 2, failuresByCause: { auth: 2 } })
    expect(summary.error).toMatch(/2 of 2 device connections failed/)
  }, 30_000)
})
