import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { PulsarProducer } from './producer.ts'
import { StatusTracker } from './status-tracker.ts'

// A ws server speaking the producer side of Pulsar's WebSocket API, so ack handling can be driven
// into cases the standalone broker does not produce on demand (send errors, unknown contexts).
let server: WebSocketServer | undefined

afterEach(async () => {
  for (const c of server?.clients ?? []) c.terminate()
  await new Promise((r) => server?.close(r) ?? r(undefined))
  server = undefined
})

async function producerAgainst(answer: (msg: { context?: string; payload: string }) => string | undefined) {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  server.on('connection', (ws) =>
    ws.on('message', (data) => {
      const reply = answer(JSON.parse(String(data)))
      if (reply !== undefined) ws.send(reply)
    }),
  )
  await once(server, 'listening')
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws/v2/producer/persistent/t/n/x`
  const env = {
    WebSocket,
    options: {},
    status: new StatusTracker(),
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    reconnectMs: 20,
  }
  const producer = new PulsarProducer(env, url, 100, 'test-producer')
  await producer.start()
  return producer
}

const msg = (s: string) => ({ payload: new TextEncoder().encode(s), qos: 1 as const })

describe('PulsarProducer acks', () => {
  it('resolves on ok and rejects with PublishError on a send error, matched by context', async () => {
    const producer = await producerAgainst(({ context, payload }) =>
      Buffer.from(payload, 'base64').toString() === 'bad'
        ? JSON.stringify({ result: 'send-error:3', errorMsg: 'quota exceeded', context })
        : JSON.stringify({ result: 'ok', messageId: 'CAEQAA==', context }),
    )
    const results = await Promise.allSettled([
      producer.publish(msg('a')),
      producer.publish(msg('bad')),
      producer.publish(msg('b')),
    ])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    const err = (results[1] as PromiseRejectedResult).reason as Error
    expect(err).toMatchObject({ name: 'PublishError', code: 'PUBLISH_FAILED' })
    expect(err.message).toMatch(/send-error:3 quota exceeded/)
    await producer.close()
  })

  it('rejects unacked publishes when the socket drops, and when closed', async () => {
    const producer = await producerAgainst(() => undefined) // never acks
    const pending = producer.publish(msg('lost'))
    for (const c of server?.clients ?? []) c.terminate()
    await expect(pending).rejects.toMatchObject({
      name: 'PublishError',
      message: /lost before the broker acked/,
    })
    const waiting = producer.publish(msg('queued or sent'))
    await producer.close()
    await expect(waiting).rejects.toMatchObject({ name: 'PublishError' })
    await expect(producer.publish(msg('after close'))).rejects.toMatchObject({ message: /closed/ })
  })

  it('resolves QoS 0 publishes without waiting for the ack', async () => {
    const producer = await producerAgainst(() => undefined)
    await expect(producer.publish({ payload: new Uint8Array([1]), qos: 0 })).resolves.toBeUndefined()
    await producer.close()
  })
})
