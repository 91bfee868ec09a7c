import { ClosedError, ConnectionError, type InboundMessage, PublishError } from '@iotload/sdk'
import {
  createTestContext,
  freePort,
  requireService,
  sleep,
  startTcpProxy,
  waitFor,
} from '@iotload/sdk/testing'
import amqp from 'amqplib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { amqpPlugin } from './plugin.ts'
import { config, dec, enc, HOST, PORT, run, topic, URL, useConnections } from './testing/amqp-harness.ts'

const up = await requireService('RabbitMQ', HOST, PORT)

describe.skipIf(!up)('broker-amqp against RabbitMQ: failures and recovery', () => {
  const { connect, open } = useConnections()
  let raw: amqp.ChannelModel
  beforeAll(async () => {
    raw = await amqp.connect(URL)
  })
  afterAll(async () => {
    await raw?.close()
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
