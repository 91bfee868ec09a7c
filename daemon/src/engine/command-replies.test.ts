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
    const meta = { dev: 1 } as DecodedMeta
    reply(conn, { topic: 'up/1', payload, responseTopic: 'elsewhere/1' }, meta)
    reply(conn, { topic: 'up/1', payload }, meta)
    expect(sent.map(([t]) => t)).toEqual(['elsewhere/1', 'cmd/1/down'])
    // The payload goes back as it came (the device finds its send stamps in it), at the producer's QoS.
    expect(sent[1]![1]).toEqual({ payload, qos: 1 })
  })

  it("answers each device on its own group's reply topic and QoS, and a group without one not at all", async () => {
    const group = { rate: '1/s', duration: '1s', topic: 'up/{device}' }
    const { resolved } = await memoryScenario({
      producers: [
        { ...group, name: 'meters', devices: 2, qos: 0, replyTopic: 'meters/{device}/cmd' },
        { ...group, name: 'silent', devices: 1 },
        { ...group, name: 'valves', devices: 2, qos: 1, replyTopic: 'valves/{device}/cmd' },
      ],
    })
    const sent: Array<[string, number]> = []
    const conn = {
      publish: async (topic: string, msg: OutboundMessage) => {
        sent.push([topic, msg.qos ?? 0])
      },
    } as unknown as BrokerConnection
    const reply = consumerReplier(resolved, 'run1')!
    const payload = new Uint8Array([1])
    for (const dev of [0, 1, 2, 3, 4, 5]) reply(conn, { topic: `up/${dev}`, payload }, { dev } as DecodedMeta)
    // Device 2 is the silent group's; 5 is no device of the run.
    expect(sent).toEqual([
      ['meters/0/cmd', 0],
      ['meters/1/cmd', 0],
      ['valves/3/cmd', 1],
      ['valves/4/cmd', 1],
    ])
  })

  it('is absent without producer.replyTopic', async () => {
    const { resolved } = await memoryScenario({ producer: { devices: 1, rate: '1/s', duration: '1s' } })
    expect(consumerReplier(resolved, 'run1')).toBeUndefined()
  })
})
