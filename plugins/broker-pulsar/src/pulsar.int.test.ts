import type { BrokerConnection, ConnectionRole, InboundMessage } from '@iotload/sdk'
import { createTestContext, requireService, sleep, startTcpProxy, waitFor } from '@iotload/sdk/testing'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { pulsarConfigSchema } from './config.ts'
import { pulsarPlugin } from './plugin.ts'
import type { PausableSubscription } from './pulsar-connection.ts'

const up =
  (await requireService('Pulsar', '127.0.0.1', 8080)) &&
  (await requireService('Pulsar (binary protocol)', '127.0.0.1', 6650))
const run = `it-${process.pid}-${Date.now().toString(36)}`
const open: BrokerConnection[] = []
let seq = 0

/** The transport under test: its base config (the URL) is merged under each test's own. */
let base: Record<string, unknown> = {}

async function connect(raw: Record<string, unknown> = {}, role: ConnectionRole = 'producer') {
  const conn = await pulsarPlugin.connect(
    pulsarConfigSchema.parse({ ...base, ...raw }),
    createTestContext({ role, clientId: `${run}-${++seq}` }),
  )
  open.push(conn)
  return conn
}

function text(m: InboundMessage): string {
  return Buffer.from(m.payload).toString()
}

const enc = (s: string) => new TextEncoder().encode(s)

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()))
})

const transports = [
  { transport: 'WebSocket API', url: 'ws://127.0.0.1:8080', closed: 'ws://127.0.0.1:1' },
  { transport: 'binary protocol', url: 'pulsar://127.0.0.1:6650', closed: 'pulsar://127.0.0.1:1' },
]

describe.skipIf(!up).each(transports)(
  'broker-pulsar against Pulsar standalone ($transport)',
  ({ url, closed }) => {
    beforeAll(() => {
      base = { url }
    })

    it('round-trips payload bytes, properties and the iotload topic with a slash', async () => {
      const topic = `devices/${run}/telemetry`
      const sub = await connect({}, 'consumer')
      const pub = await connect()
      const got: InboundMessage[] = []
      await sub.subscribe(topic, (m) => got.push({ ...m, payload: Uint8Array.from(m.payload) }), { qos: 1 })
      const payload = new Uint8Array(256).map((_, i) => i)
      await pub.publish(topic, {
        payload,
        headers: { traceparent: '00-abc-def-01', 'x-n': '1' },
        key: 'dev-1',
        qos: 1,
      })
      await waitFor(() => got.length === 1, 15_000, 'one message')
      expect(got[0]?.topic).toBe(topic)
      expect(got[0]?.payload).toEqual(payload)
      expect(got[0]?.headers).toEqual({ traceparent: '00-abc-def-01', 'x-n': '1' })
    })

    it('resolves publishes on the broker ack and keeps the order of one producer', async () => {
      const topic = `order-${run}`
      const sub = await connect({}, 'consumer')
      const pub = await connect()
      const got: string[] = []
      await sub.subscribe(topic, (m) => got.push(text(m)))
      const n = 500
      await Promise.all(
        Array.from({ length: n }, (_, i) => pub.publish(topic, { payload: enc(String(i)), qos: 1 })),
      )
      await waitFor(() => got.length === n, 15_000, `${n} messages`)
      expect(got).toEqual(Array.from({ length: n }, (_, i) => String(i)))
    })

    it('rejects publishes with PublishError when the producer cannot be created', async () => {
      const pub = await connect()
      const err = await pub
        .publish(`persistent://no-such-tenant-${run}/ns/x`, { payload: enc('x'), qos: 1 })
        .catch((e: unknown) => e)
      expect(err).toMatchObject({ name: 'PublishError', code: 'PUBLISH_FAILED' })
      expect(String((err as Error).message)).toContain('no-such-tenant')
    })

    it('Exclusive subscriptions admit one consumer; Shared groups split the stream', async () => {
      const topic = `excl-${run}`
      const a = await connect({ subscription: `excl-sub-${run}` }, 'consumer')
      const b = await connect({ subscription: `excl-sub-${run}` }, 'consumer')
      await a.subscribe(topic, () => undefined)
      const err = await b.subscribe(topic, () => undefined).catch((e: unknown) => e)
      expect(err).toMatchObject({ name: 'ConnectionError', kind: 'protocol' })
      expect(String((err as Error).message)).toMatch(/busy/)

      const shared = `shared-${run}`
      const c1 = await connect({ groupSubscriptionType: 'Shared', receiverQueueSize: 10 }, 'consumer')
      const c2 = await connect({ groupSubscriptionType: 'Shared', receiverQueueSize: 10 }, 'consumer')
      const got1: string[] = []
      const got2: string[] = []
      await c1.subscribe(shared, (m) => got1.push(text(m)), { group: `g-${run}` })
      await c2.subscribe(shared, (m) => got2.push(text(m)), { group: `g-${run}` })
      const pub = await connect()
      const n = 200
      await Promise.all(
        Array.from({ length: n }, (_, i) => pub.publish(shared, { payload: enc(String(i)), qos: 1 })),
      )
      await waitFor(() => got1.length + got2.length === n, 15_000, `${n} messages across the group`)
      expect(got1.length).toBeGreaterThan(0)
      expect(got2.length).toBeGreaterThan(0)
      expect(new Set([...got1, ...got2]).size).toBe(n)
    })

    it('Key_Shared groups keep every key on one consumer and in order', async () => {
      const topic = `keyed-${run}`
      const group = `kg-${run}`
      const seen = new Map<string, { consumer: number; seqs: number[] }>()
      const conflicts: string[] = []
      const handler = (consumer: number) => (m: InboundMessage) => {
        const [key, s] = text(m).split(':') as [string, string]
        const entry = seen.get(key) ?? { consumer, seqs: [] }
        if (entry.consumer !== consumer) conflicts.push(key)
        entry.seqs.push(Number(s))
        seen.set(key, entry)
      }
      for (const i of [1, 2]) {
        const c = await connect({}, 'consumer')
        await c.subscribe(topic, handler(i), { group })
      }
      const pub = await connect()
      const keys = Array.from({ length: 20 }, (_, i) => `dev-${i}`)
      const perKey = 30
      const pending: Promise<void>[] = []
      for (let s = 0; s < perKey; s++)
        for (const key of keys) pending.push(pub.publish(topic, { payload: enc(`${key}:${s}`), key, qos: 1 }))
      await Promise.all(pending)
      await waitFor(
        () => [...seen.values()].reduce((n, e) => n + e.seqs.length, 0) === keys.length * perKey,
        15_000,
        'all keyed messages',
      )
      expect(conflicts).toEqual([])
      for (const e of seen.values()) expect(e.seqs).toEqual(Array.from({ length: perKey }, (_, i) => i))
      expect(new Set([...seen.values()].map((e) => e.consumer)).size).toBe(2)
    })

    it('acks: a durable subscription does not redeliver acked messages, and redelivers a nacked one', async () => {
      const topic = `ack-${run}`
      const subscription = `durable-${run}`
      const cfg = { subscription, receiverQueueSize: 5 }
      const first = await connect(cfg, 'consumer')
      const got: string[] = []
      let failOnce = true
      const s1 = await first.subscribe(topic, (m) => {
        const t = text(m)
        if (t === '7' && failOnce) {
          failOnce = false
          throw new Error('handler refuses once')
        }
        got.push(t)
      })
      const pub = await connect()
      // More than receiverQueueSize: only flows if every message is acked.
      const n = 40
      await Promise.all(
        Array.from({ length: n }, (_, i) => pub.publish(topic, { payload: enc(String(i)), qos: 1 })),
      )
      await waitFor(() => new Set(got).size === n, 30_000, 'all messages, 7 redelivered after its nack')
      expect(failOnce).toBe(false)
      await s1.unsubscribe()
      await sleep(500)

      // A backlog waiting at subscribe time: the first message rides in the handshake's packet.
      const away = Array.from({ length: 10 }, (_, i) => `after-${i}`)
      for (const t of away) await pub.publish(topic, { payload: enc(t), qos: 1 })
      const again: string[] = []
      const second = await connect(cfg, 'consumer')
      await second.subscribe(topic, (m) => again.push(text(m)))
      await waitFor(() => again.length >= away.length, 15_000, 'the messages published while away')
      await sleep(500)
      expect(again).toEqual(away)
    })

    it('pause withholds acks (WebSocket) or permits (binary), so delivery stops after receiverQueueSize; resume delivers the rest', async () => {
      const topic = `pause-${run}`
      const sub = await connect({ receiverQueueSize: 10 }, 'consumer')
      const got: string[] = []
      const subscription = (await sub.subscribe(topic, (m) => got.push(text(m)))) as PausableSubscription
      subscription.pause()
      const pub = await connect()
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => pub.publish(topic, { payload: enc(String(i)), qos: 1 })),
      )
      await sleep(1000)
      expect(got.length).toBeGreaterThan(0)
      expect(got.length).toBeLessThanOrEqual(10)
      subscription.resume()
      await waitFor(() => got.length === 50, 15_000, 'the rest after resume')
      expect(got).toEqual(Array.from({ length: 50 }, (_, i) => String(i)))
    })

    it('QoS 0 publishes resolve without waiting and still arrive', async () => {
      const topic = `q0-${run}`
      const sub = await connect({ persistent: false }, 'consumer')
      const pub = await connect({ persistent: false })
      const got: string[] = []
      await sub.subscribe(topic, (m) => got.push(text(m)))
      for (let i = 0; i < 50; i++) await pub.publish(topic, { payload: enc(String(i)), qos: 0 })
      await waitFor(() => got.length === 50, 15_000, '50 non-persistent messages')
    })

    it('connect fails with kind unreachable for a closed port, naming the URL', async () => {
      const refused = await connect({ url: closed }).catch((e: unknown) => e)
      expect(refused).toMatchObject({ name: 'ConnectionError', kind: 'unreachable' })
      expect(String((refused as Error).message)).toContain(closed)
    })

    it('close is idempotent and later calls fail with ClosedError', async () => {
      const conn = await connect()
      await conn.publish(`close-${run}`, { payload: enc('x'), qos: 1 })
      await conn.close()
      await conn.close()
      await expect(conn.publish(`close-${run}`, { payload: enc('y') })).rejects.toMatchObject({
        name: 'ClosedError',
      })
      await expect(conn.subscribe(`close-${run}`, () => undefined)).rejects.toMatchObject({
        name: 'ClosedError',
      })
    })
  },
)

describe.skipIf(!up)('broker-pulsar binary protocol: what only it meets', () => {
  beforeAll(() => {
    base = {}
  })

  it('splits batches from a batching producer (the WebSocket service with batching: true), keeping order and properties', async () => {
    const topic = `batched-${run}`
    const sub = await connect({ url: 'pulsar://127.0.0.1:6650' }, 'consumer')
    const got: InboundMessage[] = []
    await sub.subscribe(topic, (m) => got.push({ ...m, payload: Uint8Array.from(m.payload) }))
    const pub = await connect({ url: 'ws://127.0.0.1:8080', batching: true })
    const n = 200
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        pub.publish(topic, { payload: enc(String(i)), headers: { i: String(i) }, qos: 1 }),
      ),
    )
    await waitFor(() => got.length === n, 15_000, `${n} batched messages`)
    expect(got.map(text)).toEqual(Array.from({ length: n }, (_, i) => String(i)))
    expect(got.every((m, i) => m.headers?.i === String(i))).toBe(true)
    // The broker stored fewer entries than messages: they really came batched.
    const res = await fetch(`http://127.0.0.1:8080/admin/v2/persistent/public/default/${topic}/internalStats`)
    const stats = (await res.json()) as { entriesAddedCounter: number }
    expect(stats.entriesAddedCounter).toBeLessThan(n)
  })

  it('a publish the broker never answers fails after sendTimeout instead of waiting for ever', async () => {
    const proxy = await startTcpProxy('127.0.0.1', 6650)
    try {
      const pub = await connect({
        url: `pulsar://127.0.0.1:${proxy.port}`,
        connectVia: 'url',
        sendTimeout: '2s',
      })
      const topic = `silent-${run}`
      await pub.publish(topic, { payload: enc('before'), qos: 1 })
      proxy.freeze()
      const t0 = Date.now()
      const err = await pub.publish(topic, { payload: enc('into the void'), qos: 1 }).catch((e: unknown) => e)
      const waited = Date.now() - t0
      expect(err).toMatchObject({ name: 'PublishError' })
      expect(String((err as Error).message)).toMatch(/no receipt from the broker within 2000 ms/)
      expect(waited).toBeGreaterThanOrEqual(1900)
      expect(waited).toBeLessThan(4500)
    } finally {
      await proxy.close()
    }
  })

  it('a port that does not speak Pulsar fails connect with kind protocol, not a hang', async () => {
    const err = await connect({ url: 'pulsar://127.0.0.1:8080', connectTimeout: '5s' }).catch(
      (e: unknown) => e,
    )
    expect(err).toMatchObject({ name: 'ConnectionError', kind: 'protocol' })
  })
})
