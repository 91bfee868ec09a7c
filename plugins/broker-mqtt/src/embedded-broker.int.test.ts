import { createTestContext, Inbox } from '@iotload/sdk/testing'
import { describe, expect, it } from 'vitest'
import { mqttConfigSchema } from './config.ts'
import { startEmbeddedBroker } from './embedded-broker.ts'
import { mqttPlugin } from './plugin.ts'

describe('embedded aedes broker', () => {
  it('serves MQTT 3.1.1 on a free loopback port and closes cleanly', async () => {
    const broker = await startEmbeddedBroker()
    expect(broker.url).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/)
    const config = mqttConfigSchema.parse({ url: broker.url, version: '3.1.1' })
    const sub = await mqttPlugin.connect(config, createTestContext({ clientId: 'emb-sub' }))
    const pub = await mqttPlugin.connect(config, createTestContext({ clientId: 'emb-pub' }))
    const c = new Inbox()
    await sub.subscribe('emb/+', c.push, { qos: 1 })
    for (let i = 0; i < 10; i++) await pub.publish(`emb/${i}`, { payload: Buffer.from([i]), qos: 1 })
    await c.waitForCount(10)
    await Promise.all([sub.close(), pub.close()])
    await broker.close()
    await broker.close()
  })
})
