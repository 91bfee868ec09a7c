import { describe, expect, it } from 'vitest'
import { pulsarPlugin as plugin } from './plugin.ts'

describe('pulsar brokerHosts: where run.workers auto looks for the broker', () => {
  it('names the hosts the config reaches', () => {
    expect(plugin.brokerHosts?.(plugin.configSchema.parse({ url: 'pulsar://127.0.0.1:6650' }))).toEqual([
      '127.0.0.1',
    ])
  })
})
