import type { BrokerConnection, ConnectionRole, Subscription } from '@iotload/sdk'
import { createTestContext, requireService, waitFor } from '@iotload/sdk/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { kafkaConfigSchema } from './config.ts'
import { kafkaPlugin } from './plugin.ts'

const up = await requireService('Kafka', '127.0.0.1', 9092)
const run = `bl${process.pid}x${Date.now().toString(36)}`

describe.skipIf(!up)('broker-kafka backlog: the consumer group lag', () => {
  const opened: BrokerConnection[] = []
  afterAll(async () => {
    await Promise.all(opened.map((c) => c.close()))
  })
  const open = async (role: ConnectionRole) => {
    const config = kafkaConfigSchema.parse({ url: 'kafka://127.0.0.1:9092', partitions: 3 })
    const conn = await kafkaPlugin.connect(config, createTestContext({ role, clientId: `${run}-${role}` }))
    opened.push(conn)
    return conn
  }

  it('counts records past the group position, exactly while paused, and 0 once consumed', async () => {
    const topic = `${run}.telemetry`
    const consumer = await open('consumer')
    const producer = await open('producer')
    let received = 0
    const sub = (await consumer.subscribe(topic, () => received++)) as Subscription & {
      pause(): void
      resume(): void
    }
    expect(await sub.backlog?.()).toBe(0)
    sub.pause()
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        producer.publish(topic, { payload: Buffer.from(String(i)), key: String(i % 6), qos: 1 }),
      ),
    )
    // Nothing was handed over while paused: the whole batch is lag (and no commit can hide it).
    expect(received).toBe(0)
    expect(await sub.backlog?.()).toBe(60)
    sub.resume()
    await waitFor(
      () => received === 60,
      30_000,
      () => `60 records, have ${received}`,
    )
    expect(await sub.backlog?.()).toBe(0)
  })
})
