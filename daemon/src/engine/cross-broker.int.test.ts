import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { requireService } from '@iotload/sdk/testing'
import { describe, expect, it } from 'vitest'
import { loadScenarioFile } from '../scenario/load-scenario.ts'
import { startRun } from './run.ts'

const example = (name: string) => fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url))
const mosquitto = await requireService('Mosquitto', '127.0.0.1', 1883)
const nats = await requireService('NATS', '127.0.0.1', 4222)
const kafka = await requireService('Kafka', '127.0.0.1', 9092)

/** The example, shortened and moved to fresh topics through the documented env overrides. */
function overrides(root: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    IOTLOAD_PRODUCER_DEVICES: '5',
    IOTLOAD_PRODUCER_DURATION: '3s',
    IOTLOAD_PRODUCER_WARMUP: '1s',
    IOTLOAD_PRODUCER_TOPIC: `${root}/devices/{device}/telemetry`,
    IOTLOAD_BRIDGE_FROM: `${root}/devices/{device}/telemetry`,
    ...extra,
  }
}

function expectLegs(summary: Awaited<ReturnType<typeof startRun>['result']>) {
  expect(summary.run.status).toBe('completed')
  const e2e = summary.streams.e2e!
  expect(e2e.sent).toBe(5 * 10 * 3)
  expect(e2e.received).toBe(e2e.sent)
  expect(e2e.lost).toBe(0)
  expect(e2e.invalid).toBe(0)
  for (const leg of ['publish-ack', 'producer-bridge', 'bridge', 'bridge-consumer'])
    expect(summary.streams[leg]!.latency.raw.count, leg).toBe(leg === 'publish-ack' ? e2e.sent : e2e.received)
  expect(summary.bridge).toMatchObject({ publishErrors: 0, transformErrors: 0, overflowDropped: 0 })
}

describe('cross-broker bridge paths', () => {
  it.skipIf(!mosquitto || !nats)('examples/mqtt-to-nats.yaml: MQTT in, NATS out, lost = 0', async () => {
    const root = `xb${randomUUID().slice(0, 8)}`
    const resolved = await loadScenarioFile(example('mqtt-to-nats.yaml'), {
      env: overrides(root, { IOTLOAD_BRIDGE_TO: `${root}.actions.{device}` }),
    })
    expect(resolved.bridgeBroker?.pluginName).toBe('nats')
    expect(resolved.consumerFilter).toBe(`${root}.actions.*`)
    const summary = await startRun(resolved).result
    expectLegs(summary)
  })

  it.skipIf(!mosquitto || !kafka)('examples/mqtt-to-kafka.yaml: MQTT in, Kafka out, lost = 0', async () => {
    const root = `xb${randomUUID().slice(0, 8)}`
    const resolved = await loadScenarioFile(example('mqtt-to-kafka.yaml'), {
      env: overrides(root, {
        IOTLOAD_BRIDGE_TO: `${root}.actions`,
        IOTLOAD_CONSUMER_TOPIC: `${root}.actions`,
      }),
    })
    expect(resolved.bridgeBroker?.pluginName).toBe('kafka')
    const summary = await startRun(resolved).result
    expectLegs(summary)
  })
})
