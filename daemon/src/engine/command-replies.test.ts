import type { BrokerConnection, DecodedMeta, OutboundMessage } from '@iotload/sdk'
import { describe, expect, it } from 'vitest'
import { consumerReplier } from './command-replies.ts'
import { memoryScenario } from './testing/memory-scenario.ts'

describe('consumerReplier', () => {
  it('answers on the response topic a message carries, else on the reply topic rendered for its device', async () => {
    const { resolved } = await memoryScenario({
      producer: { devices: 2, rate: '1/s', duration: '1s', qos: 1, replyTopic: 'cmd/{device}/down' },
    })
    const sent: Array<[string, OutboundMessage]> = []
    const conn = {
      publish: async (topic: string, msg: OutboundMessage) => {
        sent.push([topic, msg])
      },
    } as unknown as BrokerConnection
    const reply = consumerReplier(resolved, 'run1')!
    const payload = new Uint8Array([1, 2, 3])
    const meta = { dev: 7 } as DecodedMeta
    reply(conn, { topic: 'up/7', payload, responseTopic: 'elsewhere/7' }, meta)
    reply(conn, { topic: 'up/7', payload }, meta)
    expect(sent.map(([t]) => t)).toEqual(['elsewhere/7', 'cmd/7/down'])
    // The payload goes back as it came (the device finds its send stamps in it), at the producer's QoS.
    expect(sent[1]![1]).toEqual({ payload, qos: 1 })
  })

  it('is absent without producer.replyTopic', async () => {
    const { resolved } = await memoryScenario({ producer: { devices: 1, rate: '1/s', duration: '1s' } })
    expect(consumerReplier(resolved, 'run1')).toBeUndefined()
  })
})
