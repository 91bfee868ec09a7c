import { describe, expect, it } from 'vitest'
import plugin from './plugin.ts'

describe('nats brokerHosts: where run.workers auto looks for the broker', () => {
  it('names the hosts the config reaches', () => {
    expect(
      plugin.brokerHosts?.(plugin.configSchema.parse({ servers: ['nats://n1:4222', 'tls://[::1]:4223'] })),
    ).toEqual(['n1', '::1'])
  })
})
