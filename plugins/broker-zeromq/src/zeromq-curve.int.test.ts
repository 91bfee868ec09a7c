import { ConfigError, ConnectionError } from '@iotload/sdk'
import { freePort, Inbox, sleep, waitFor } from '@iotload/sdk/testing'
import * as zmq from 'zeromq'
import { afterEach, describe, expect, it } from 'vitest'
import { closeOpened, conn, enc, runId, tcp } from './testing/helpers.ts'

// Brokerless: every peer is created by the test itself on 127.0.0.1, so there is no external
// service for requireService to check. What could be missing is the native addon; fail loudly.
afterEach(closeOpened)

describe('broker-zeromq against real sockets: CURVE', () => {
  const server = zmq.curveKeyPair()
  const client = zmq.curveKeyPair()
  const stranger = zmq.curveKeyPair()

  it('round-trips over an encrypted link with configured client keys', async () => {
    const endpoint = tcp(await freePort())
    const curve = {
      serverPublicKey: server.publicKey,
      serverSecretKey: server.secretKey,
      clientPublicKey: client.publicKey,
      clientSecretKey: client.secretKey,
    }
    const consumer = await conn({ endpoint, curve }, 'consumer')
    const box = new Inbox()
    await consumer.subscribe(`${runId}/curve`, box.push)
    const producer = await conn({ endpoint, curve: { serverPublicKey: server.publicKey } }, 'producer')
    await producer.publish(`${runId}/curve`, { payload: enc.encode('secret'), headers: { a: 'b' } })
    await waitFor(() => box.messages.length === 1)
    expect(box.messages[0]).toMatchObject({ topic: `${runId}/curve`, headers: { a: 'b' } })
  })

  it('a client with the wrong server key fails connect with kind tls', async () => {
    const endpoint = tcp(await freePort())
    await conn({ endpoint, curve: { serverSecretKey: server.secretKey } }, 'consumer')
    const started = Date.now()
    const err = await conn({ endpoint, curve: { serverPublicKey: stranger.publicKey } }, 'producer').catch(
      (e) => e,
    )
    expect(err).toBeInstanceOf(ConnectionError)
    expect((err as ConnectionError).kind).toBe('tls')
    expect((err as Error).message).toContain(endpoint)
    expect((err as Error).message).not.toContain(server.secretKey)
    expect(Date.now() - started).toBeLessThan(4000)
  })

  it('a subscriber with the wrong server key receives nothing', async () => {
    const endpoint = tcp(await freePort())
    // The producer binds (CURVE server) and publishes regardless of peers.
    const cfg = { endpoint, bind: 'producer', endpoints: undefined }
    const good = { ...cfg, curve: { serverPublicKey: server.publicKey } }
    const bad = { ...cfg, curve: { serverPublicKey: stranger.publicKey } }
    const [producer, goodSub] = await Promise.all([
      conn({ ...cfg, curve: { serverSecretKey: server.secretKey } }, 'producer'),
      conn(good, 'consumer'),
    ])
    const strict = await conn(bad, 'consumer').catch((e) => e)
    expect(strict).toBeInstanceOf(ConnectionError)
    const lenient = await conn(
      {
        ...bad,
        endpoint: undefined,
        bind: undefined,
        endpoints: { consumer: { connect: endpoint, waitForPeer: false } },
      },
      'consumer',
    )
    const goodBox = new Inbox()
    const badBox = new Inbox()
    await goodSub.subscribe(`${runId}/c/#`, goodBox.push)
    await lenient.subscribe(`${runId}/c/#`, badBox.push)
    await sleep(300)
    for (let i = 0; i < 10; i++) await producer.publish(`${runId}/c/${i}`, { payload: enc.encode(`${i}`) })
    await waitFor(() => goodBox.messages.length === 10)
    await sleep(200)
    expect(badBox.messages).toHaveLength(0)
  })

  it('a plain client against a CURVE server fails with kind protocol', async () => {
    const endpoint = tcp(await freePort())
    await conn({ endpoint, curve: { serverSecretKey: server.secretKey } }, 'consumer')
    const err = await conn({ endpoint, connectTimeoutMs: 3000 }, 'producer').catch((e) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect(['protocol', 'unreachable']).toContain((err as ConnectionError).kind)
  })

  it('a binding role without the server secret key is a config error naming the path', async () => {
    const endpoint = tcp(await freePort())
    const err = await conn({ endpoint, curve: { serverPublicKey: server.publicKey } }, 'consumer').catch(
      (e) => e,
    )
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).path).toBe('broker.curve.serverSecretKey')
  })
})
