import { randomUUID } from 'node:crypto'
import type { BrokerConnection } from '@iotload/sdk'
import { createTestContext, requireService, waitFor } from '@iotload/sdk/testing'
import { afterAll, describe, expect, it } from 'vitest'
import type { PausableSubscription } from './amqp-connection.ts'
import { amqpConfigSchema } from './config.ts'
import { amqpPlugin } from './plugin.ts'

const up = await requireService('RabbitMQ', '127.0.0.1', 5672)
const run = randomUUID().slice(0, 8)

describe.skipIf(!up)('broker-amqp backlog: the queue depth RabbitMQ reports', () => {
  const open: BrokerConnection[] = []
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close()))
  })

  it('counts what waits in the queue, undelivered, and 0 once it was consumed', async () => {
    const connect = async (id: string) => {
      const raw = { url: 'amqp://127.0.0.1:5672', ack: 'manual', prefetch: 10, confirm: true }
      const c = await amqpPlugin.connect(
        amqpConfigSchema.parse(raw),
        createTestContext({ clientId: `${id}-${run}` }),
      )
      open.push(c)
      return c
    }
    const consumer = await connect('backlog-c')
    const producer = await connect('backlog-p')
    let received = 0
    const topic = `backlog-${run}/dev`
    const sub = (await consumer.subscribe(topic, () => received++, { qos: 1 })) as PausableSubscription
    expect(await sub.backlog?.()).toBe(0)
    // Paused, the consumer holds its acks: `prefetch` messages arrive, the rest wait in the queue.
    sub.pause?.()
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        producer.publish(topic, { payload: Buffer.from(String(i)), qos: 1 }),
      ),
    )
    await waitFor(
      () => received === 10,
      5000,
      () => `10 deliveries, have ${received}`,
    )
    let depth: number | undefined
    await waitFor(
      async () => {
        depth = await sub.backlog?.()
        return depth === 90
      },
      5000,
      () => `depth 90, have ${depth}`,
      100,
    )
    sub.resume?.()
    await waitFor(
      () => received === 100,
      5000,
      () => `100 deliveries, have ${received}`,
    )
    expect(await sub.backlog?.()).toBe(0)
    await sub.unsubscribe()
    // After unsubscribe there is nothing to ask: no figure, rather than a made-up 0.
    expect(await sub.backlog?.()).toBeUndefined()
  })
})
