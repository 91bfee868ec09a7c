import { randomUUID } from 'node:crypto'
import {
  type BrokerConnection,
  ClosedError,
  ConfigError,
  ConnectionError,
  type InboundMessage,
  PublishError,
} from '@iotload/sdk'
import {
  createTestContext,
  freePort,
  Inbox,
  requireService,
  sleep,
  startTcpProxy,
  waitFor,
} from '@iotload/sdk/testing'
import amqp from 'amqplib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PausableSubscription } from './amqp-connection.ts'
import { amqpConfigSchema } from './config.ts'
import { amqpPlugin } from './plugin.ts'

const HOST = '127.0.0.1'
const PORT = 5672
const URL = `amqp://${HOST}:${PORT}`
const up = await requireService('RabbitMQ', HOST, PORT)
const run = randomUUID().slice(0, 8)
const topic = (suffix: string) => `it-${run}/${suffix}`
const enc = new TextEncoder()
const dec = new TextDecoder()

const config = (raw: Record<string, unknown> = {}) => amqpConfigSchema.parse({ url: URL, ...raw })

describe.skipIf(!up)('broker-amqp against RabbitMQ', () => {
  const open: BrokerConnection[] = []
  let raw: amqp.ChannelModel
  const connect = async (raw: Record<string, unknown> = {}, id = 'it') => {
    const ctx = createTestContext({ clientId: `${id}-${run}` })
    const conn = await amqpPlugin.connect(config(raw), ctx)
    open.push(conn)
    return { conn, ctx }
  }

  beforeAll(async () => {
    raw = await amqp.connect(URL)
  })
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close()))
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
    const sub = (await conn.subscribe(topic('pause/+'), (m) => got.push(m))) as PausableSubscription
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
    const sub = (await conn.subscribe(topic('nopause'), () => {})) as PausableSubscription
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

  it('reopens the publish channel when the broker closes only that channel', async () => {
    const exchange = `it-${run}-x`
    const { conn } = await connect({ exchange: { name: exchange, durable: false } })
    const ch = await raw.createChannel()
    await ch.deleteExchange(exchange)
    // Publishing to a missing exchange makes RabbitMQ close the channel with 404 NOT_FOUND.
    const err = await conn.publish(topic('gone'), { payload: enc.encode('x'), qos: 1 }).catch((e) => e)
    expect(err).toBeInstanceOf(PublishError)
    let ok = false
    for (let i = 0; i < 50 && !ok; i++) {
      await sleep(50)
      ok = await conn.publish(topic('gone'), { payload: enc.encode('y'), qos: 1 }).then(
        () => true,
        () => false,
      )
    }
    expect(ok).toBe(true)
    await ch.checkExchange(exchange)
    await ch.deleteExchange(exchange)
    await ch.close()
  })

  it('a wrong password rejects with ConnectionError kind auth naming the URL, never the password', async () => {
    const password = `wrong-${run}-pw`
    const ctx = createTestContext({ clientId: 'auth', credentials: { username: 'guest', password } })
    const err = await amqpPlugin.connect(config(), ctx).catch((e) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect(err.kind).toBe('auth')
    expect(err.message).toContain(URL)
    expect(err.message).not.toContain(password)
    expect(ctx.lines.join('\n')).not.toContain(password)
    expect(ctx.statuses).toEqual([])
  })

  it('a closed port rejects with kind unreachable', async () => {
    const port = await freePort()
    const err = await amqpPlugin
      .connect(config({ url: `amqp://127.0.0.1:${port}` }), createTestContext({ clientId: 'unreach' }))
      .catch((e) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect(err.kind).toBe('unreachable')
  })

  it('a silent peer rejects with kind timeout after connectTimeout', async () => {
    const net = await import('node:net')
    const sockets: import('node:net').Socket[] = []
    const server = net.createServer((s) => sockets.push(s)).listen(0, HOST)
    await new Promise((r) => server.once('listening', r))
    const port = (server.address() as import('node:net').AddressInfo).port
    const err = await amqpPlugin
      .connect(
        config({ url: `amqp://${HOST}:${port}`, connectTimeout: '300ms' }),
        createTestContext({ clientId: 'silent' }),
      )
      .catch((e) => e)
    for (const s of sockets) s.destroy()
    server.close()
    expect(err).toBeInstanceOf(ConnectionError)
    expect(err.kind).toBe('timeout')
  })

  it('close is idempotent, later calls reject with ClosedError, and no socket stays open', async () => {
    const proxy = await startTcpProxy(HOST, PORT)
    try {
      const ctx = createTestContext({ clientId: 'close' })
      const conn = await amqpPlugin.connect(config({ url: `amqp://${HOST}:${proxy.port}` }), ctx)
      await conn.subscribe(topic('close'), () => {})
      expect(proxy.connections).toBe(1)
      await Promise.all([conn.close(), conn.close()])
      await conn.close()
      await expect(conn.publish(topic('close'), { payload: enc.encode('x') })).rejects.toBeInstanceOf(
        ClosedError,
      )
      await expect(conn.subscribe(topic('close'), () => {})).rejects.toBeInstanceOf(ClosedError)
      await waitFor(() => proxy.connections === 0, 3000, 'the socket to close')
      expect(ctx.statuses).toEqual(['connected'])
    } finally {
      await proxy.close()
    }
  })

  it('recovers from a connection loss: reports status, rejects publish while down, re-consumes after', async () => {
    const proxy = await startTcpProxy(HOST, PORT)
    try {
      const ctx = createTestContext({ clientId: 'reconnect' })
      const conn = await amqpPlugin.connect(
        config({
          url: `amqp://${HOST}:${proxy.port}`,
          reconnect: { initialDelay: '50ms', maxDelay: '200ms' },
        }),
        ctx,
      )
      open.push(conn)
      const got: InboundMessage[] = []
      await conn.subscribe(topic('rc/+'), (m) => got.push(m))
      await conn.publish(topic('rc/before'), { payload: enc.encode('before'), qos: 1 })
      await waitFor(() => got.length === 1, 5000, 'first delivery')

      await proxy.cut()
      await waitFor(() => ctx.statuses.includes('disconnected'), 5000, 'disconnected')
      const during = await conn
        .publish(topic('rc/during'), { payload: enc.encode('during'), qos: 1 })
        .catch((e) => e)
      expect(during).toBeInstanceOf(PublishError)
      await waitFor(() => ctx.statuses.includes('reconnecting'), 5000, 'reconnecting')

      await proxy.resume()
      await waitFor(() => ctx.statuses.includes('reconnected'), 10_000, 'reconnected')
      expect(ctx.statuses[0]).toBe('connected')
      expect(ctx.statuses.at(-1)).toBe('reconnected')
      await conn.publish(topic('rc/after'), { payload: enc.encode('after'), qos: 1 })
      await waitFor(() => got.length === 2, 5000, 'delivery after reconnect')
      expect(got.map((m) => dec.decode(m.payload))).toEqual(['before', 'after'])
    } finally {
      await proxy.close()
    }
  })

  it('a silent peer is detected by heartbeat, then the session is re-established', async () => {
    const proxy = await startTcpProxy(HOST, PORT)
    try {
      const ctx = createTestContext({ clientId: 'heartbeat' })
      const conn = await amqpPlugin.connect(
        config({ url: `amqp://${HOST}:${proxy.port}`, heartbeat: '1s', reconnect: { initialDelay: '50ms' } }),
        ctx,
      )
      open.push(conn)
      const got: InboundMessage[] = []
      await conn.subscribe(topic('hb'), (m) => got.push(m))
      proxy.freeze()
      // No FIN, no RST: only missed heartbeats (two intervals) can reveal the dead link.
      await waitFor(() => ctx.statuses.includes('disconnected'), 8000, 'heartbeat timeout')
      await waitFor(() => ctx.statuses.includes('reconnected'), 10_000, 'reconnected')
      await conn.publish(topic('hb'), { payload: enc.encode('alive'), qos: 1 })
      await waitFor(() => got.length === 1, 5000, 'delivery on the new session')
    } finally {
      await proxy.close()
    }
  })

  it('close() returns promptly and releases the socket when the link died unnoticed', async () => {
    const proxy = await startTcpProxy(HOST, PORT)
    try {
      const ctx = createTestContext({ clientId: 'frozen-close' })
      const conn = await amqpPlugin.connect(
        config({ url: `amqp://${HOST}:${proxy.port}`, heartbeat: 0 }),
        ctx,
      )
      await conn.subscribe(topic('frozen'), () => {})
      proxy.freeze()
      const t0 = Date.now()
      await conn.close()
      // Two bounded waits (channels, then connection.close-ok), never an unbounded one.
      expect(Date.now() - t0).toBeLessThan(6000)
      await waitFor(() => proxy.connections === 0, 3000, 'the frozen socket to be destroyed')
    } finally {
      await proxy.close()
    }
  })

  it('with reconnect disabled, a loss leaves the connection down and publish rejecting', async () => {
    const proxy = await startTcpProxy(HOST, PORT)
    try {
      const ctx = createTestContext({ clientId: 'noreconnect' })
      const conn = await amqpPlugin.connect(
        config({ url: `amqp://${HOST}:${proxy.port}`, reconnect: { enabled: false } }),
        ctx,
      )
      open.push(conn)
      await proxy.cut()
      await waitFor(() => ctx.statuses.includes('disconnected'), 5000, 'disconnected')
      await proxy.resume()
      await sleep(500)
      expect(ctx.statuses).toEqual(['connected', 'disconnected'])
      await expect(conn.publish(topic('x'), { payload: enc.encode('x') })).rejects.toBeInstanceOf(
        PublishError,
      )
    } finally {
      await proxy.close()
    }
  })
})
