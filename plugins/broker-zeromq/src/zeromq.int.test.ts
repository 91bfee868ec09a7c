import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConnectionError } from '@iotload/sdk'
import { freePort, Inbox, sleep, waitFor } from '@iotload/sdk/testing'
import * as zmq from 'zeromq'
import { afterEach, describe, expect, it } from 'vitest'
import { closeOpened, conn, dec, enc, runId, tcp } from './testing/helpers.ts'

// Brokerless: every peer is created by the test itself on 127.0.0.1, so there is no external
// service for requireService to check. What could be missing is the native addon; fail loudly.
afterEach(closeOpened)

describe('broker-zeromq against real sockets', () => {
  it('native zeromq is loadable with CURVE and handshake events', () => {
    expect(zmq.capability.curve).toBe(true)
    expect(zmq.capability.draft).toBe(true)
  })

  for (const mode of ['pubsub', 'pushpull'] as const) {
    describe(mode, () => {
      it('round-trips topic, headers and payload in order', async () => {
        const endpoint = tcp(await freePort())
        const consumer = await conn({ mode, endpoint }, 'consumer')
        const box = new Inbox()
        await consumer.subscribe(`${runId}/${mode}/rt/+`, box.push)
        const producer = await conn({ mode, endpoint }, 'producer')
        for (let i = 0; i < 50; i++) {
          await producer.publish(`${runId}/${mode}/rt/dev1`, {
            payload: enc.encode(`m${i}`),
            headers: i % 2 === 0 ? { traceparent: `00-${i}` } : undefined,
          })
        }
        await waitFor(() => box.messages.length === 50, 5000, '50 messages')
        expect(box.messages.map((m) => dec.decode(m.payload))).toEqual(
          Array.from({ length: 50 }, (_, i) => `m${i}`),
        )
        expect(box.messages[0]).toMatchObject({
          topic: `${runId}/${mode}/rt/dev1`,
          headers: { traceparent: '00-0' },
        })
        expect(box.messages[1]?.headers).toBeUndefined()
      })

      it('delivers only what matches the filter, wildcards included', async () => {
        const endpoint = tcp(await freePort())
        const consumer = await conn({ mode, endpoint }, 'consumer')
        const plus = new Inbox()
        const hash = new Inbox()
        const exact = new Inbox()
        const base = `${runId}/${mode}/wc`
        await consumer.subscribe(`${base}/+/telemetry`, plus.push)
        await consumer.subscribe(`${base}/a/#`, hash.push)
        await consumer.subscribe(`${base}/a`, exact.push)
        const producer = await conn({ mode, endpoint }, 'producer')
        const topics = [
          `${base}/a/telemetry`,
          `${base}/b/telemetry`,
          `${base}/b/telemetry/x`,
          `${base}/ab/x`,
          `${base}/a`,
          `${base}/a/b/c`,
          `other/${base}/a/telemetry`,
          `${base}/end`,
        ]
        for (const t of topics) await producer.publish(t, { payload: enc.encode(t) })
        // `end` matches nothing; wait for the last matching one and a little beyond.
        await waitFor(() => hash.messages.some((m) => m.topic === `${base}/a/b/c`), 5000, 'the last match')
        await sleep(100)
        expect(plus.messages.map((m) => m.topic)).toEqual([`${base}/a/telemetry`, `${base}/b/telemetry`])
        expect(hash.messages.map((m) => m.topic)).toEqual([
          `${base}/a/telemetry`,
          `${base}/a`,
          `${base}/a/b/c`,
        ])
        expect(exact.messages.map((m) => m.topic)).toEqual([`${base}/a`])
      })

      it('stops delivering after unsubscribe', async () => {
        const endpoint = tcp(await freePort())
        const consumer = await conn({ mode, endpoint }, 'consumer')
        const box = new Inbox()
        const keep = new Inbox()
        const sub = await consumer.subscribe(`${runId}/u/#`, box.push)
        await consumer.subscribe(`${runId}/k/#`, keep.push)
        const producer = await conn({ mode, endpoint }, 'producer')
        await producer.publish(`${runId}/u/1`, { payload: enc.encode('1') })
        await waitFor(() => box.messages.length === 1)
        await sub.unsubscribe()
        await sub.unsubscribe()
        await sleep(100)
        await producer.publish(`${runId}/u/2`, { payload: enc.encode('2') })
        await producer.publish(`${runId}/k/1`, { payload: enc.encode('k') })
        await waitFor(() => keep.messages.length === 1)
        expect(box.messages).toHaveLength(1)
      })
    })
  }

  for (const transport of ['ipc', 'inproc'] as const) {
    it(`round-trips over ${transport}:// (inproc between connections of one process)`, async () => {
      const endpoint =
        transport === 'ipc'
          ? `ipc://${join(tmpdir(), `iotload-zmq-${runId}-${process.pid}.sock`)}`
          : `inproc://iotload-${runId}`
      const consumer = await conn({ endpoint, connectTimeoutMs: 1000 }, 'consumer')
      const box = new Inbox()
      await consumer.subscribe(`${runId}/${transport}/+`, box.push)
      const producer = await conn({ endpoint, connectTimeoutMs: 1000 }, 'producer')
      await producer.publish(`${runId}/${transport}/1`, {
        payload: enc.encode('x'),
        headers: { h: transport },
      })
      await waitFor(() => box.messages.length === 1, 5000, 'the message')
      expect(box.messages[0]?.headers).toEqual({ h: transport })
    })
  }

  for (const mode of ['pubsub', 'pushpull'] as const) {
    it(`${mode}: a binding producer ${mode === 'pubsub' ? 'fans out to' : 'load-balances over'} connecting consumers`, async () => {
      const endpoint = tcp(await freePort())
      const config = { mode, endpoint, bind: 'producer' }
      // The binding producer waits for its first peer, the consumers for the producer: start together.
      const [producer, c1, c2] = await Promise.all([
        conn(config, 'producer'),
        conn(config, 'consumer'),
        conn(config, 'consumer'),
      ])
      const [b1, b2] = [new Inbox(), new Inbox()]
      await c1.subscribe(`${runId}/fan/#`, b1.push)
      await c2.subscribe(`${runId}/fan/#`, b2.push)
      await sleep(200)
      for (let i = 0; i < 40; i++)
        await producer.publish(`${runId}/fan/${i}`, { payload: enc.encode(`${i}`) })
      const all = Array.from({ length: 40 }, (_, i) => `${i}`)
      const got = () => [...b1.messages, ...b2.messages].map((m) => dec.decode(m.payload))
      if (mode === 'pubsub') {
        await waitFor(() => b1.messages.length === 40 && b2.messages.length === 40, 5000, 'both copies')
      } else {
        await waitFor(() => got().length === 40, 5000, 'all 40 between both')
        await sleep(100)
        expect(got().sort((a, b) => Number(a) - Number(b))).toEqual(all)
        expect(b1.messages.length).toBeGreaterThan(0)
        expect(b2.messages.length).toBeGreaterThan(0)
      }
    })
  }

  it('a binding producer without any peer times out unless waitForPeer is off', async () => {
    const endpoint = tcp(await freePort())
    const err = await conn({ endpoint, bind: 'producer', connectTimeoutMs: 200 }, 'producer').catch((e) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect((err as ConnectionError).kind).toBe('timeout')
    const lenient = await conn(
      { endpoints: { producer: { bind: endpoint, waitForPeer: false } } },
      'producer',
    )
    await lenient.publish('nobody/listens', { payload: new Uint8Array(1) })
  })

  for (const mode of ['pubsub', 'pushpull'] as const) {
    it(`${mode}: 3000 publishes issued at once all resolve and arrive (zeromq.js defers every 512th send)`, async () => {
      const endpoint = tcp(await freePort())
      const hwm = { sendHighWaterMark: 10_000, receiveHighWaterMark: 10_000 }
      const consumer = await conn({ mode, endpoint, ...hwm }, 'consumer')
      const box = new Inbox()
      await consumer.subscribe(`${runId}/burst/${mode}`, box.push)
      const producer = await conn({ mode, endpoint, ...hwm }, 'producer')
      const payload = new Uint8Array(16)
      await Promise.all(
        Array.from({ length: 3000 }, () => producer.publish(`${runId}/burst/${mode}`, { payload })),
      )
      await waitFor(() => box.messages.length === 3000, 10_000, '3000 messages')
    })
  }

  it('pushpull: publishes blocked at the high-water mark queue in order instead of failing with EBUSY', async () => {
    const endpoint = tcp(await freePort())
    const producer = await conn(
      {
        mode: 'pushpull',
        sendHighWaterMark: 1,
        endpoints: { producer: { bind: endpoint, waitForPeer: false } },
      },
      'producer',
    )
    // No PULL peer yet: PUSH blocks, so these stay pending.
    const pending = Array.from({ length: 20 }, (_, i) =>
      producer.publish(`${runId}/hwm`, { payload: enc.encode(`${i}`) }),
    )
    let settled = 0
    for (const p of pending) void p.then(() => settled++)
    await sleep(100)
    expect(settled).toBe(0)
    const consumer = await conn({ mode: 'pushpull', endpoint, bind: 'producer' }, 'consumer')
    const box = new Inbox()
    await consumer.subscribe(`${runId}/hwm`, box.push)
    await Promise.all(pending)
    await waitFor(() => box.messages.length === 20, 5000, '20 messages')
    expect(box.messages.map((m) => dec.decode(m.payload))).toEqual(
      Array.from({ length: 20 }, (_, i) => `${i}`),
    )
  })

  it('a three-party bridge topology: PUB connect → SUB bind | PUB bind → SUB connect', async () => {
    const [inPort, outPort] = [await freePort(), await freePort()]
    const config = {
      mode: 'pubsub',
      endpoints: {
        producer: { connect: tcp(inPort) },
        'bridge-in': { bind: tcp(inPort) },
        'bridge-out': { bind: tcp(outPort) },
        consumer: { connect: tcp(outPort) },
      },
    }
    const bridgeIn = await conn(config, 'bridge-in')
    // bridge-out waits for its first subscriber, the consumer waits for bridge-out: start together.
    const [bridgeOut, consumer] = await Promise.all([conn(config, 'bridge-out'), conn(config, 'consumer')])
    await bridgeIn.subscribe(`${runId}/devices/+/telemetry`, (m) => {
      const dev = m.topic.split('/')[2]
      void bridgeOut.publish(`${runId}/actions/${dev}`, {
        payload: m.payload,
        headers: { ...m.headers, hop: 'b' },
      })
    })
    const box = new Inbox()
    await consumer.subscribe(`${runId}/actions/+`, box.push)
    const devices = await Promise.all(Array.from({ length: 5 }, () => conn(config, 'producer')))
    for (let i = 0; i < 20; i++) {
      await Promise.all(
        devices.map((d, k) =>
          d.publish(`${runId}/devices/d${k}/telemetry`, {
            payload: enc.encode(`${k}:${i}`),
            headers: { seq: `${i}` },
          }),
        ),
      )
    }
    await waitFor(() => box.messages.length === 100, 5000, '100 bridged messages')
    for (let k = 0; k < 5; k++) {
      const mine = box.messages.filter((m) => m.topic === `${runId}/actions/d${k}`)
      expect(mine.map((m) => dec.decode(m.payload))).toEqual(
        Array.from({ length: 20 }, (_, i) => `${k}:${i}`),
      )
      expect(mine[3]?.headers).toEqual({ seq: '3', hop: 'b' })
    }
  })

  it('the recommended bridge topology binds both receivers and needs no start order', async () => {
    const [inPort, outPort] = [await freePort(), await freePort()]
    const config = {
      endpoints: {
        producer: { connect: tcp(inPort) },
        'bridge-in': { bind: tcp(inPort) },
        'bridge-out': { connect: tcp(outPort) },
        consumer: { bind: tcp(outPort) },
      },
    }
    const consumer = await conn(config, 'consumer')
    const box = new Inbox()
    await consumer.subscribe(`${runId}/act/#`, box.push)
    const bridgeIn = await conn(config, 'bridge-in')
    const bridgeOut = await conn(config, 'bridge-out')
    await bridgeIn.subscribe(
      `${runId}/dev/#`,
      (m) => void bridgeOut.publish(`${runId}/act/x`, { payload: m.payload }),
    )
    const producer = await conn(config, 'producer')
    // No settle beyond connect(): the very first message must arrive (slow-joiner handling).
    await producer.publish(`${runId}/dev/1`, { payload: enc.encode('first') })
    await waitFor(() => box.messages.length === 1, 5000, 'the first message')
    expect(dec.decode(box.messages[0]?.payload)).toBe('first')
  })
})
