import { describe, expect, it } from 'vitest'
import { mqttPlugin as plugin } from './plugin.ts'

describe('mqtt brokerHosts: where run.workers auto looks for the broker', () => {
  it('names the hosts the config reaches', () => {
    expect(plugin.brokerHosts?.(plugin.configSchema.parse({ url: 'mqtts://Broker.example:8883' }))).toEqual([
      'broker.example',
    ])
  })
})
