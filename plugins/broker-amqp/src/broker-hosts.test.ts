import { describe, expect, it } from 'vitest'
import { amqpPlugin as plugin } from './plugin.ts'

describe('amqp brokerHosts: where run.workers auto looks for the broker', () => {
  it('names the hosts the config reaches', () => {
    expect(plugin.brokerHosts?.(plugin.configSchema.parse({ url: 'amqp://127.0.0.1:5672/iot' }))).toEqual([
      '127.0.0.1',
    ])
  })
})
