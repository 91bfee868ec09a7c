import { randomUUID } from 'node:crypto'
import { requireService } from '@iotload/sdk/testing'
import { describe, expect, it } from 'vitest'
import { loadScenarioFile } from '../scenario/load-scenario.ts'
import { example, expectLegs, overrides } from './cross-broker-fixtures.ts'
import { startRun } from './run.ts'

const mosquitto = await requireService('Mosquitto', '127.0.0.1', 1883)
const nats = await requireService('NATS', '127.0.0.1', 4222)

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
})
