import type { Producer, ProducerBatch } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { asBuffer, laneOf, MAX_REQUEST_BYTES, Publisher } from './publisher.ts'

/** Records the requests a lane makes; each is acknowledged when `ack` is called. */
function recordingProducer() {
  const requests: number[] = []
  const pending: Array<() => void> = []
  const producer = {
    sendBatch(batch: ProducerBatch) {
      requests.push((batch.topicMessages ?? []).reduce((n, t) => n + t.messages.length, 0))
      return new Promise<never[]>((resolve) => pending.push(() => resolve([])))
    },
  } as unknown as Producer
  const ackAll = async () => {
    while (pending.length > 0) {
      pending.shift()!()
      await new Promise((r) => setImmediate(r))
    }
  }
  return { producer, requests, ackAll }
}

describe('publisher lanes', () => {
  it('keeps a key in one lane and spreads keys over all lanes', () => {
    expect(laneOf('dev-7', 5)).toBe(laneOf('dev-7', 5))
    expect(laneOf(undefined, 5)).toBe(0)
    expect(laneOf('anything', 1)).toBe(0)
    const used = new Set(Array.from({ length: 200 }, (_, i) => laneOf(String(i), 5)))
    expect([...used].sort()).toEqual([0, 1, 2, 3, 4])
  })

  it('wraps bytes without copying', () => {
    const bytes = new Uint8Array([1, 2, 3, 4]).subarray(1, 3)
    const buf = asBuffer(bytes)
    expect([...buf]).toEqual([2, 3])
    expect(buf.buffer).toBe(bytes.buffer)
  })

  it('sends what gathered during a request in requests of at most batchSize records and ~900 kB', async () => {
    const { producer, requests, ackAll } = recordingProducer()
    const publisher = new Publisher(producer, {
      acks: 1,
      compression: 'none',
      linger: 0,
      batchSize: 300,
      maxInFlight: 1,
    })
    const small = new Uint8Array(100)
    const big = new Uint8Array(Math.ceil(MAX_REQUEST_BYTES / 4))
    const sent = [publisher.send('t', { payload: small, key: 'k' })] // goes at once, alone
    for (let i = 0; i < 700; i++) sent.push(publisher.send('t', { payload: small, key: 'k' }))
    for (let i = 0; i < 6; i++) sent.push(publisher.send('t', { payload: big, key: 'k' }))
    await ackAll()
    await Promise.all(sent)
    // 1 alone, then 700 small ones by batchSize (300, 300, 100 + 3 big ones fill the byte cap), 3 big.
    expect(requests).toEqual([1, 300, 300, 103, 3])
  })
})
