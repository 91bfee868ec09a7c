import type { BrokerConnection } from '@iotload/sdk'
import { createTestContext, requireService, waitFor } from '@iotload/sdk/testing'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { afterAll, describe, expect, it } from 'vitest'
import { natsConfigSchema } from './config.ts'
import plugin from './plugin.ts'

const up = await requireService('NATS', '127.0.0.1', 4222)
const run = `b${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
const stream = `BACKLOG_${run}`
const open: BrokerConnection[] = []

async function conn(extra: Record<string, unknown>, id: string): Promise<BrokerConnection> {
  const c = await plugin.connect(
    natsConfigSchema.parse({ url: 'nats://127.0.0.1:4222', ...extra }),
    createTestContext({ role: 'consumer', clientId: `backlog-${run}-${id}` }),
  )
  open.push(c)
  return c
}

afterAll(async () => {
  await Promise.all(open.map((c) => c.close()))
  if (!up) return
  const nc = await connect({ servers: '127.0.0.1:4222' })
  await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined)
  await nc.close()
})

describe.skipIf(!up)('broker-nats backlog', () => {
  it('jetstream: num_pending of the durable while the consumer lags, 0 once it caught up', async () => {
    // Small pulls and few unacked: a slow callback leaves the rest stored, undelivered.
    const js = { mode: 'jetstream', jetstream: { stream, pullBatch: 5, maxAckPending: 5 } }
    const consumer = await conn(js, 'c')
    const producer = await conn(js, 'p')
    const topic = `${run}.dev`
    let received = 0
    const sub = await consumer.subscribe(topic, () => {
      received++
      const until = performance.now() + 5
      while (performance.now() < until) {} // a consumer that cannot keep up
    })
    expect(await sub.backlog?.()).toBe(0)
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        producer.publish(topic, { payload: Buffer.from(String(i)), qos: 1 }),
      ),
    )
    const lagging = await sub.backlog?.()
    expect(lagging).toBeGreaterThan(100)
    expect(lagging).toBeLessThanOrEqual(200)
    await waitFor(
      () => received === 200,
      20_000,
      () => `200 messages, have ${received}`,
    )
    await waitFor(async () => (await sub.backlog?.()) === 0, 5000, 'backlog 0', 100)
  })

  it('core: no backlog to ask for (at-most-once, nothing is stored)', async () => {
    const sub = await (await conn({ mode: 'core' }, 'core')).subscribe(`${run}.core`, () => {})
    expect(sub.backlog).toBeUndefined()
  })
})
