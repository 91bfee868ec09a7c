import { randomUUID } from 'node:crypto'
import { requireService } from '@iotload/sdk/testing'
import { describe, expect, it } from 'vitest'
import { loadScenarioFile } from '../scenario/load-scenario.ts'
import { example, expectLegs, overrides } from './cross-broker-fixtures.ts'
import { startRun } from './run.ts'

// Its own file, so a missing Kafka never takes the MQTT → NATS test down with it.
const mosquitto = await requireService('Mosquitto', '127.0.0.1', 1883)
const kafka = await requireService('Kafka', '127.0.0.1', 9092)

describe('cross-broker bridge paths (Kafka)', () => {
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
