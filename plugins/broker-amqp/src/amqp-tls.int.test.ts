import { randomUUID } from 'node:crypto'
import { ConnectionError, type InboundMessage } from '@iotload/sdk'
import {
  createTestContext,
  makeTestCerts,
  requireService,
  startTcpProxy,
  type TcpProxy,
  type TestCerts,
  waitFor,
} from '@iotload/sdk/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { amqpConfigSchema } from './config.ts'
import { amqpPlugin } from './plugin.ts'

// The shared RabbitMQ has no TLS listener and must not be reconfigured, so a node:tls proxy
// terminates TLS in front of it: the plugin's real amqps client path, a real broker behind it.
const up = await requireService('RabbitMQ', '127.0.0.1', 5672)
const run = randomUUID().slice(0, 8)
const enc = new TextEncoder()

describe.skipIf(!up)('broker-amqp over amqps (TLS proxy in front of RabbitMQ)', () => {
  let certs: TestCerts
  let proxy: TcpProxy
  let url: string

  beforeAll(async () => {
    certs = makeTestCerts()
    proxy = await startTcpProxy('127.0.0.1', 5672, { tls: { cert: certs.cert, key: certs.key } })
    url = `amqps://127.0.0.1:${proxy.port}`
  })
  afterAll(async () => {
    await proxy?.close()
    certs?.cleanup()
  })

  it('round-trips with the CA that signed the server certificate, and a password login', async () => {
    const config = amqpConfigSchema.parse({ url, tls: { ca: certs.caFile } })
    const conn = await amqpPlugin.connect(
      config,
      createTestContext({ clientId: 'tls-ok', credentials: { username: 'guest', password: 'guest' } }),
    )
    try {
      const got: InboundMessage[] = []
      await conn.subscribe(`tls-${run}/+`, (m) => got.push(m))
      await conn.publish(`tls-${run}/a`, { payload: enc.encode('over tls'), qos: 1 })
      await waitFor(() => got.length === 1, 5000, 'delivery over TLS')
      expect(new TextDecoder().decode(got[0]?.payload)).toBe('over tls')
    } finally {
      await conn.close()
    }
  })

  it('rejects an unknown CA with kind tls', async () => {
    const config = amqpConfigSchema.parse({ url, tls: { ca: certs.otherCaFile } })
    const err = await amqpPlugin
      .connect(config, createTestContext({ clientId: 'tls-unknown' }))
      .catch((e) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect(err.kind).toBe('tls')
    expect(err.message).toContain(url)
  })

  it('rejects the system CAs (no tls section) with kind tls: verification is on by default', async () => {
    const config = amqpConfigSchema.parse({ url })
    const err = await amqpPlugin
      .connect(config, createTestContext({ clientId: 'tls-default' }))
      .catch((e) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect(err.kind).toBe('tls')
  })

  it('connects with verify: false despite the unknown CA', async () => {
    const config = amqpConfigSchema.parse({ url, tls: { verify: false } })
    const conn = await amqpPlugin.connect(config, createTestContext({ clientId: 'tls-noverify' }))
    await conn.publish(`tls-${run}/noverify`, { payload: enc.encode('x'), qos: 1 })
    await conn.close()
  })

  it('a wrong password over TLS is still kind auth', async () => {
    const config = amqpConfigSchema.parse({ url, tls: { ca: certs.caFile } })
    const err = await amqpPlugin
      .connect(
        config,
        createTestContext({
          clientId: 'tls-auth',
          credentials: { username: 'guest', password: `nope-${run}` },
        }),
      )
      .catch((e) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect(err.kind).toBe('auth')
    expect(err.message).not.toContain(`nope-${run}`)
  })
})
