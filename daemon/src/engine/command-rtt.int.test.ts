import { randomUUID } from 'node:crypto'
import { requireService } from '@iotload/sdk/testing'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../log/logger.ts'
import { resolveScenario } from '../scenario/load-scenario.ts'
import { startRun } from './run.ts'

// Command round trip through the shared Mosquitto: the consumer answers every message, each
// device hears its answers and records rtt beside e2e.
const mosquitto = await requireService('Mosquitto', '127.0.0.1', 1883)
const quiet = createLogger({ level: 'error' })

async function roundTrip(version: '5' | '3.1.1', workers: 1 | 2 = 1) {
  const tag = `rtt-${randomUUID().slice(0, 8)}`
  const resolved = await resolveScenario(
    {
      broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883', version },
      producer: {
        devices: 4,
        rate: '5/s',
        duration: '2s',
        warmup: '1s',
        qos: 1,
        topic: `${tag}/{device}/up`,
        replyTopic: `${tag}/{device}/down`,
      },
      run: { drain: '3s', workers },
    },
    { env: {} },
  )
  const summary = await startRun(resolved, { logger: quiet }).result
  expect(summary.error).toBeUndefined()
  expect(summary.workers?.producers ?? 1).toBe(workers)
  expect(summary.streams.e2e).toMatchObject({ sent: 40, received: 40, lost: 0, duplicates: 0 })
  // Every measured message came back to its device: rtt has one value per message, and a round
  // trip is longer than the one-way trip it contains.
  const rtt = summary.streams.rtt?.latency
  expect(rtt?.raw.count).toBe(40)
  expect(rtt?.co?.count).toBe(40)
  expect(rtt!.raw.p50).toBeGreaterThan(summary.streams.e2e!.latency.raw.p50)
}

describe.skipIf(!mosquitto)('command round trip (rtt)', () => {
  it('MQTT 5: answered on the response topic each message carries', async () => {
    await roundTrip('5')
  }, 30_000)

  it('MQTT 3.1.1: answered on the templated reply topic', async () => {
    await roundTrip('3.1.1')
  }, 30_000)

  it.each(['5', '3.1.1'] as const)(
    'sharded (run.workers: 2), MQTT %s: the consumer worker answers, each producer worker records its devices’ rtt',
    async (version) => {
      await roundTrip(version, 2)
    },
    30_000,
  )

  it('refuses a reply topic with a shared connection pool, naming the field', async () => {
    const err = await resolveScenario(
      {
        broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883' },
        producer: { devices: 4, rate: '1/s', duration: '1s', connections: 2, replyTopic: 'r/{device}' },
      },
      { env: {} },
    ).catch((e: unknown) => e)
    expect(err).toMatchObject({ path: 'producer.replyTopic' })
  })
})
