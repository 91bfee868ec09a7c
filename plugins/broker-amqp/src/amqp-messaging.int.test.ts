import { ConfigError, type InboundMessage, PublishError } from '@iotload/sdk'
import { Inbox, requireService, sleep, waitFor } from '@iotload/sdk/testing'
import amqp from 'amqplib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dec, enc, HOST, PORT, run, topic, URL, useConnections } from './testing/amqp-harness.ts'

const up = await requireService('RabbitMQ', HOST, PORT)

describe.skipIf(!up)('broker-amqp against RabbitMQ: messaging', () => {
  const { connect } = useConnections()
  let raw: amqp.ChannelModel
  beforeAll(async () => {
    raw = await amqp.connect(URL)
  })
  afterAll(async () => {
    await raw?.close()
  })

  it('round-trips payload, headers and the iotload topic, in order, with a wildcard filter', async () => {
    const { conn, ctx } = await connect()
    expect(ctx.statuses).toEqual(['connected'])
    const got = new Inbox()
    await conn.subscribe(topic('rt/+/telemetry'), got.push, { qos: 1 })
    const sends = []
    for (let i = 0; i < 50; i++) {
      sends.push(
        conn.publish(topic(`rt/dev.${i % 2}/telemetry`), {
          payload: enc.encode(String(i)),
          headers: { traceparent: `00-${i}`, seq: String(i) },
          qos: 1,
        }),
      )
    }
    await Promise.all(sends)
    await got.waitForCount(50)
    expect(got.messages.map((m) => dec.decode(m.payload))).toEqual(
      Array.from({ length: 50 }, (_, i) => String(i)),
    )
    expect(got.messages[3]?.topic).toBe(topic('rt/dev.1/telemetry'))
    expect(got.messages[3]?.headers).toEqual({ traceparent: '00-3', seq: '3' })
  })

  it("'#' matches every deeper level and the parent itself; '+' exactly one level", async () => {
    const { conn } = await connect()
    const multi: InboundMessage[] = []
    const single: InboundMessage[] = []
    await conn.subscribe(topic('wc/#'), (m) => multi.push(m))
    await conn.subscribe(topic('wc/+'), (m) => single.push(m))
    for (const t of ['wc', 'wc/a', 'wc/a/b', 'other/a'])
      await conn.publish(topic(t), { payload: enc.encode(t), qos: 1 })
    await waitFor(() => multi.length === 3 && single.length === 1, 5000, 'wildcard deliveries')
    await sleep(200)
    expect(multi.map((m) => m.topic).sort()).toEqual([topic('wc'), topic('wc/a'), topic('wc/a/b')])
    expect(single.map((m) => m.topic)).toEqual([topic('wc/a')])
  })

  it('declares a durable topic exchange and maps qos 0 → transient, qos ≥ 1 → persistent', async () => {
    const { conn } = await connect()
    const ch = await raw.createChannel()
    await ch.checkExchange('iotload')
    const q = await ch.assertQueue('', { exclusive: true })
    await ch.bindQueue(q.queue, 'iotload', `it-${run}.qos.*`)
    const modes: Record<string, number | undefined> = {}
    await ch.consume(q.queue, (m) => {
      if (m) modes[m.fields.routingKey] = m.properties.deliveryMode
    })
    await conn.publish(topic('qos/zero'), { payload: enc.encode('0'), qos: 0 })
    await conn.publish(topic('qos/one'), { payload: enc.encode('1'), qos: 1 })
    await conn.publish(topic('qos/two'), { payload: enc.encode('2'), qos: 2, headers: { a: 'b' } })
    await waitFor(() => Object.keys(modes).length === 3, 5000, 'raw deliveries')
    expect(modes).toEqual({
      [`it-${run}.qos.zero`]: 1,
      [`it-${run}.qos.one`]: 2,
      [`it-${run}.qos.two`]: 2,
    })
    await ch.close()
  })

  it('rejects publish with PublishError when the broker nacks (queue full, reject-publish)', async () => {
    const { conn } = await connect()
    const ch = await raw.createChannel()
    const q = await ch.assertQueue('', {
      exclusive: true,
      arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' },
    })
    await ch.bindQueue(q.queue, 'iotload', `it-${run}.nack`)
    await conn.publish(topic('nack'), { payload: enc.encode('fits'), qos: 1 })
    const err = await conn
      .publish(topic('nack'), { payload: enc.encode('overflows'), qos: 1 })
      .catch((e) => e)
    expect(err).toBeInstanceOf(PublishError)
    expect(err.message).toMatch(/not confirmed/)
    await ch.close()
  })

  it('group subscriptions compete on one shared queue: each message is delivered once', async () => {
    const a = await connect({ queue: { exclusive: true } }, 'ga')
    const b = await connect({}, 'gb')
    const group = `g-${run}`
    const gotA: InboundMessage[] = []
    const gotB: InboundMessage[] = []
    await a.conn.subscribe(topic('grp/+'), (m) => gotA.push(m), { group })
    await b.conn.subscribe(topic('grp/+'), (m) => gotB.push(m), { group })
    const n = 40
    for (let i = 0; i < n; i++)
      await a.conn.publish(topic(`grp/${i}`), { payload: enc.encode(String(i)), qos: 1 })
    await waitFor(() => gotA.length + gotB.length === n, 5000, 'group deliveries')
    await sleep(200)
    expect(gotA.length + gotB.length).toBe(n)
    expect(gotA.length).toBeGreaterThan(0)
    expect(gotB.length).toBeGreaterThan(0)
    const seen = new Set([...gotA, ...gotB].map((m) => dec.decode(m.payload)))
    expect(seen.size).toBe(n)
  })

  it('manual ack mode acks every message after the callback, so nothing is requeued on close', async () => {
    const name = `it-${run}-manual`
    const { conn } = await connect({
      ack: 'manual',
      prefetch: 5,
      queue: { name, durable: false, exclusive: false, autoDelete: false },
    })
    const ch = await raw.createChannel()
    try {
      // With prefetch 5, all 20 messages arrive only if acks flow while consuming.
      const got = new Inbox()
      await conn.subscribe(topic('ack/+'), got.push)
      for (let i = 0; i < 20; i++) {
        await conn.publish(topic(`ack/${i}`), { payload: enc.encode(String(i)), qos: 1 })
      }
      await got.waitForCount(20)
      await conn.close()
      const q = await ch.checkQueue(name)
      expect(q.messageCount).toBe(0)
    } finally {
      await ch.deleteQueue(name)
      await ch.close()
    }
  })

  it('rejects a filter AMQP cannot express with ConfigError', async () => {
    const { conn } = await connect()
    await expect(conn.subscribe(topic('bad/#/x'), () => {})).rejects.toBeInstanceOf(ConfigError)
  })

  it('pause (manual ack) holds delivery at prefetch; resume delivers the rest', async () => {
    const { conn } = await connect({ ack: 'manual', prefetch: 5 })
    const got: InboundMessage[] = []
    const sub = await conn.subscribe(topic('pause/+'), (m) => got.push(m))
    expect(typeof sub.pause).toBe('function')
    sub.pause?.()
    for (let i = 0; i < 20; i++) {
      await conn.publish(topic(`pause/${i}`), { payload: enc.encode(String(i)), qos: 1 })
    }
    await waitFor(() => got.length === 5, 5000, 'prefetch-many deliveries')
    await sleep(300)
    expect(got).toHaveLength(5)
    sub.resume?.()
    await waitFor(() => got.length === 20, 5000, 'the rest after resume')
    expect(got.map((m) => dec.decode(m.payload))).toEqual(Array.from({ length: 20 }, (_, i) => String(i)))
  })

  it('a no-ack subscription offers no pause', async () => {
    const { conn } = await connect({ ack: 'auto' })
    const sub = await conn.subscribe(topic('nopause'), () => {})
    expect(sub.pause).toBeUndefined()
  })

  it('refuses a second subscription on the same fixed queue of one connection', async () => {
    const name = `it-${run}-fixed-{role}`
    const { conn } = await connect({ queue: { name, exclusive: false } })
    await conn.subscribe(topic('fixed/a'), () => {})
    await expect(conn.subscribe(topic('fixed/b'), () => {})).rejects.toBeInstanceOf(ConfigError)
    const ch = await raw.createChannel()
    await ch.checkQueue(`it-${run}-fixed-probe`)
    await ch.close()
  })

  it('unsubscribe stops delivery and is idempotent', async () => {
    const { conn } = await connect()
    const got: InboundMessage[] = []
    const sub = await conn.subscribe(topic('unsub'), (m) => got.push(m))
    await conn.publish(topic('unsub'), { payload: enc.encode('1'), qos: 1 })
    await waitFor(() => got.length === 1, 5000)
    await sub.unsubscribe()
    await sub.unsubscribe()
    await conn.publish(topic('unsub'), { payload: enc.encode('2'), qos: 1 })
    await sleep(300)
    expect(got).toHaveLength(1)
  })

  it('without confirms publish resolves once handed to the client and still delivers', async () => {
    const { conn } = await connect({ confirm: false })
    const got = new Inbox()
    await conn.subscribe(topic('noconfirm'), got.push)
    for (let i = 0; i < 10; i++) await conn.publish(topic('noconfirm'), { payload: enc.encode(String(i)) })
    await got.waitForCount(10)
    expect(got.messages).toHaveLength(10)
  })
})
