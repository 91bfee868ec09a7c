import { randomUUID } from 'node:crypto'
import type { BrokerConnection } from '@iotload/sdk'
import { createTestContext, Inbox, sleep } from '@iotload/sdk/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { memoryConfigSchema } from './config.ts'
import { memoryBus } from './memory-bus.ts'
import type { PausableSubscription } from './memory-subscription.ts'
import { memoryPlugin } from './plugin.ts'

const open: BrokerConnection[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()))
})

/** A connection on a bus of its own unless `bus` is given. */
async function connect(raw: Record<string, unknown> = {}, ctx = createTestContext()) {
  const conn = await memoryPlugin.connect(memoryConfigSchema.parse({ bus: randomUUID(), ...raw }), ctx)
  open.push(conn)
  return conn
}

const enc = (s: string) => new TextEncoder().encode(s)

describe('memory plugin: delivery', () => {
  it('config: defaults, durations, and unknown keys rejected', () => {
    expect(memoryConfigSchema.parse({})).toEqual({ bus: 'default', latency: 0, loss: 0, maxQueued: 100_000 })
    expect(memoryConfigSchema.parse({ latency: '1.5ms' }).latency).toBe(1.5)
    expect(memoryConfigSchema.safeParse({ url: 'x' }).success).toBe(false)
    expect(memoryConfigSchema.safeParse({ loss: 2 }).success).toBe(false)
  })

  it('only connections on the same bus meet', async () => {
    const bus = randomUUID()
    const a = await connect({ bus })
    const b = await connect({ bus })
    const stranger = await connect()
    const inbox = new Inbox()
    const elsewhere = new Inbox()
    await a.subscribe('t', inbox.push)
    await stranger.subscribe('t', elsewhere.push)
    await b.publish('t', { payload: enc('hi'), qos: 1 })
    expect(inbox.texts()).toEqual(['hi'])
    expect(elsewhere.length).toBe(0)
    expect(memoryBus(bus).connections).toBe(2)
  })

  it('QoS 0 resolves before delivery, QoS 1 once routed; never inside publish itself', async () => {
    const bus = randomUUID()
    const conn = await connect({ bus })
    const got: string[] = []
    await conn.subscribe('q', (m) => got.push(new TextDecoder().decode(m.payload)))
    const zero = conn.publish('q', { payload: enc('0') })
    expect(got).toEqual([])
    await zero
    expect(got).toEqual([])
    await conn.publish('q', { payload: enc('1'), qos: 1 })
    expect(got).toEqual(['0', '1'])
  })

  it('copies payload and headers, and gives each receiver its own copy', async () => {
    const conn = await connect()
    const seen: Uint8Array[] = []
    const headers: Array<Record<string, string> | undefined> = []
    for (let i = 0; i < 2; i++)
      await conn.subscribe('c', (m) => {
        seen.push(m.payload)
        headers.push(m.headers)
      })
    const payload = enc('abc')
    const h = { traceparent: 'tp' }
    const sent = conn.publish('c', { payload, headers: h, qos: 1 })
    payload[0] = 0
    h.traceparent = 'changed'
    await sent
    expect(seen.map((p) => new TextDecoder().decode(p))).toEqual(['abc', 'abc'])
    expect(seen[0]).not.toBe(seen[1])
    expect(headers).toEqual([{ traceparent: 'tp' }, { traceparent: 'tp' }])
  })

  it('keeps each connection’s order across 2000 pipelined publishes', async () => {
    const conn = await connect()
    const inbox = new Inbox()
    await conn.subscribe('o/+', inbox.push)
    await Promise.all(
      Array.from({ length: 2000 }, (_, i) => conn.publish(`o/${i % 3}`, { payload: enc(String(i)), qos: 1 })),
    )
    expect(inbox.texts()).toEqual(Array.from({ length: 2000 }, (_, i) => String(i)))
  })

  it('a group shares the messages round robin; plain subscribers still get all', async () => {
    const conn = await connect()
    const [a, b, all] = [new Inbox(), new Inbox(), new Inbox()]
    await conn.subscribe('g/+', a.push, { group: 'g1' })
    await conn.subscribe('g/+', b.push, { group: 'g1' })
    await conn.subscribe('g/#', all.push)
    for (let i = 0; i < 10; i++) await conn.publish(`g/${i}`, { payload: enc(String(i)), qos: 1 })
    expect(a.texts()).toEqual(['0', '2', '4', '6', '8'])
    expect(b.texts()).toEqual(['1', '3', '5', '7', '9'])
    expect(all.length).toBe(10)
  })

  it('pause holds messages back, resume delivers them in order before new ones', async () => {
    const conn = await connect()
    const inbox = new Inbox()
    const sub = (await conn.subscribe('p', inbox.push, { qos: 1 })) as PausableSubscription
    await conn.publish('p', { payload: enc('0'), qos: 1 })
    sub.pause()
    sub.pause()
    for (let i = 1; i <= 5; i++) await conn.publish('p', { payload: enc(String(i)), qos: 1 })
    await sleep(20)
    expect(inbox.texts()).toEqual(['0'])
    sub.resume()
    const late = conn.publish('p', { payload: enc('6'), qos: 1 })
    await late
    await inbox.waitForCount(7, 1000)
    expect(inbox.texts()).toEqual(['0', '1', '2', '3', '4', '5', '6'])
  })

  it('a pause from inside the callback stops delivery after the message in hand', async () => {
    const conn = await connect()
    const got: string[] = []
    let sub: PausableSubscription | undefined
    sub = (await conn.subscribe('p', (m) => {
      got.push(new TextDecoder().decode(m.payload))
      if (got.length === 2) sub?.pause()
    })) as PausableSubscription
    await Promise.all(
      Array.from({ length: 5 }, (_, i) => conn.publish('p', { payload: enc(String(i)), qos: 1 })),
    )
    expect(got).toEqual(['0', '1'])
    sub.resume()
    await sleep(10)
    expect(got).toEqual(['0', '1', '2', '3', '4'])
  })

  it('a paused group member is passed over while another can take the message', async () => {
    const conn = await connect()
    const [a, b] = [new Inbox(), new Inbox()]
    const subA = (await conn.subscribe('pg', a.push, { group: 'g' })) as PausableSubscription
    await conn.subscribe('pg', b.push, { group: 'g' })
    subA.pause()
    for (let i = 0; i < 4; i++) await conn.publish('pg', { payload: enc(String(i)), qos: 1 })
    expect(a.length).toBe(0)
    expect(b.texts()).toEqual(['0', '1', '2', '3'])
  })

  it('a full backlog drops and counts what it cannot hold', async () => {
    const bus = randomUUID()
    const conn = await connect({ bus, maxQueued: 3 })
    const inbox = new Inbox()
    const sub = (await conn.subscribe('f', inbox.push)) as PausableSubscription
    sub.pause()
    for (let i = 0; i < 5; i++) await conn.publish('f', { payload: enc(String(i)), qos: 1 })
    expect(memoryBus(bus).stats).toEqual({ published: 5, delivered: 5, dropped: 2 })
    sub.resume()
    await inbox.waitForCount(3, 1000)
    expect(inbox.texts()).toEqual(['0', '1', '2'])
  })

  it('unsubscribe stops delivery and is idempotent; a throwing callback is logged once', async () => {
    const ctx = createTestContext()
    const conn = await connect({}, ctx)
    const inbox = new Inbox()
    const sub = await conn.subscribe('u', inbox.push)
    await conn.subscribe('u', () => {
      throw new Error('consumer bug')
    })
    await conn.publish('u', { payload: enc('1'), qos: 1 })
    await conn.publish('u', { payload: enc('2'), qos: 1 })
    await sub.unsubscribe()
    await sub.unsubscribe()
    await conn.publish('u', { payload: enc('3'), qos: 1 })
    expect(inbox.texts()).toEqual(['1', '2'])
    expect(ctx.lines.filter((l) => l.includes('consumer bug'))).toHaveLength(1)
  })

  it('rejects wildcard topics on publish and malformed filters on subscribe', async () => {
    const conn = await connect()
    await expect(conn.publish('a/+', { payload: enc('x') })).rejects.toMatchObject({ name: 'PublishError' })
    await expect(conn.subscribe('a/#/b', () => undefined)).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringContaining('[broker-memory]'),
    })
  })
})
