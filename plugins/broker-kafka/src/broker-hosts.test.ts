import { describe, expect, it } from 'vitest'
import { kafkaPlugin as plugin } from './plugin.ts'

describe('kafka brokerHosts: where run.workers auto looks for the broker', () => {
  it('names the hosts the config reaches', () => {
    expect(plugin.brokerHosts?.(plugin.configSchema.parse({ url: 'kafka://k0:9092,k1:9092' }))).toEqual([
      'k0',
      'k1',
    ])
  })

  it('follows addressMap to where the client really dials', () => {
    const config = plugin.configSchema.parse({
      brokers: ['kafka-0:9092'],
      addressMap: { 'kafka-0:9092': '127.0.0.1:19092', 'kafka-1:9092': '127.0.0.1:19093' },
    })
    expect(plugin.brokerHosts?.(config)).toEqual(['127.0.0.1'])
  })
})
