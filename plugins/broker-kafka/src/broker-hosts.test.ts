import { describe, expect, it } from 'vitest'
import { kafkaPlugin as plugin } from './plugin.ts'

describe('kafka brokerHosts: where run.workers auto looks for the broker', () => {
  it('names the hosts the config reaches', () => {
    expect(plugin.brokerHosts?.(plugin.configSchema.parse({ url: 'kafka://k0:9092,k1:9092' }))).toEqual(['k0', 'k1'])
  })
})
