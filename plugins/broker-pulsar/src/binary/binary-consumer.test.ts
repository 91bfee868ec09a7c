import { deflateSync } from 'node:zlib'
import type { InboundMessage, PluginLogger } from '@iotload/sdk'
import { describe, expect, it } from 'vitest'
import type { BinaryClient, Response } from './binary-client.ts'
import { BinaryConsumer } from './binary-consumer.ts'
import { Cmd, decodeFrame } from './commands.ts'
import { crc32c } from './crc32c.ts'
import { ProtoWriter } from './protobuf.ts'

/** A BinaryClient stand-in that answers every request and records the frames written. */
function fakeClient() {
  const written: Buffer[] = []
  const client = {
    consumers: new Map(),
    producers: new Map(),
    isReady: true,
    env: { reconnectMs: 100, host: '127.0.0.1', port: 6650 },
    nextChannelId: () => 1,
    write: (f: Buffer) => written.push(f) > 0,
    request: async (): Promise<Response> => ({ type: Cmd.SUCCESS }),
  }
  return { client: client as unknown as BinaryClient, written }
}

function logger(warnings: string[]): PluginLogger {
  return { debug() {}, info() {}, warn: (m) => void warnings.push(m), error() {} }
}

interface Entry {
  payload: Buffer
  props?: Record<string, string>
}

/** A MESSAGE frame as a broker sends it: command, then [magic][crc][metaSize][meta][body]. */
function messageFrame(
  entry: Uint8Array,
  meta: (w: ProtoWriter) => void,
  corrupt = false,
  messageId: Uint8Array = new ProtoWriter().uint(1, 7).uint(2, 42).finish(),
): Uint8Array {
  const cmd = new ProtoWriter().uint(1, Cmd.MESSAGE)
  cmd.message(Cmd.MESSAGE, (w) => w.uint(1, 1).bytes(2, messageId))
  const m = new ProtoWriter().string(1, 'p').uint(2, 0).uint(3, 1)
  meta(m)
  const metaBytes = m.finish()
  const checked = Buffer.concat([Buffer.alloc(4), metaBytes, entry])
  checked.writeUInt32BE(metaBytes.length, 0)
  const head = Buffer.alloc(6)
  head.writeUInt16BE(0x0e01, 0)
  head.writeUInt32BE(crc32c(checked), 2)
  if (corrupt) checked[checked.length - 1] = (checked.at(-1) as number) ^ 1
  const cmdBytes = cmd.finish()
  const size = Buffer.alloc(4)
  size.writeUInt32BE(cmdBytes.length)
  return Buffer.concat([size, cmdBytes, head, checked])
}

function batch(entries: Entry[]): Buffer {
  return Buffer.concat(
    entries.flatMap((e) => {
      const w = new ProtoWriter()
      for (const [k, v] of Object.entries(e.props ?? {})) w.message(1, (kv) => kv.string(1, k).string(2, v))
      w.uint(3, e.payload.length)
      const smm = w.finish()
      const size = Buffer.alloc(4)
      size.writeUInt32BE(smm.length)
      return [size, smm, e.payload]
    }),
  )
}

async function consumer(queueSize = 4, ackMode: 'after-handler' | 'before-handler' = 'after-handler') {
  const { client, written } = fakeClient()
  const got: InboundMessage[] = []
  const warnings: string[] = []
  const c = new BinaryConsumer(
    {
      topic: 'persistent://public/default/t',
      iotloadTopic: 't',
      subscription: 's',
      subType: 0,
      durable: false,
      initialPosition: 0,
      consumerName: 'c',
      queueSize,
      ackMode,
      logger: logger(warnings),
    },
    (m) => got.push(m),
  )
  await c.start(client)
  written.length = 0 // the initial FLOW
  return { c, got, warnings, written, feed: (f: Uint8Array) => c.onFrame(decodeFrame(f)) }
}

const types = (frames: Buffer[]) => frames.map((f) => decodeFrame(f.subarray(4)).type)

describe('BinaryConsumer', () => {
  it('delivers a message with its properties, acks it in one command per turn, and returns permits at half the window', async () => {
    const { got, written, feed } = await consumer(4)
    const frame = messageFrame(Buffer.from('hello'), (m) =>
      m.message(4, (kv) => kv.string(1, 'a').string(2, '1')),
    )
    feed(frame)
    feed(frame)
    expect(got.map((m) => [m.topic, Buffer.from(m.payload).toString(), m.headers])).toEqual([
      ['t', 'hello', { a: '1' }],
      ['t', 'hello', { a: '1' }],
    ])
    expect(types(written)).toEqual([Cmd.FLOW]) // 2 of 4 permits used
    await new Promise((r) => setImmediate(r))
    expect(types(written)).toEqual([Cmd.FLOW, Cmd.ACK])
    const ack = decodeFrame((written[1] as Buffer).subarray(4)).body
    let ids = 0
    while (ack.next()) {
      if (ack.field === 3) ids++
      ack.skip()
    }
    expect(ids).toBe(2) // both messages in one ACK command
  })

  it('splits a zlib-compressed batch in order with each entry’s properties', async () => {
    const { got, feed } = await consumer(100)
    const entries = [0, 1, 2].map((i) => ({ payload: Buffer.from(`m${i}`), props: { i: String(i) } }))
    const raw = batch(entries)
    feed(messageFrame(deflateSync(raw), (m) => m.uint(8, 2).uint(9, raw.length).uint(11, 3)))
    expect(got.map((m) => [Buffer.from(m.payload).toString(), m.headers?.i])).toEqual([
      ['m0', '0'],
      ['m1', '1'],
      ['m2', '2'],
    ])
  })

  it('skips a zlib bomb with a warning instead of inflating it without limit, and still returns its permit', async () => {
    const { got, warnings, written, feed } = await consumer(2)
    const bomb = deflateSync(Buffer.alloc(64 * 1024 * 1024))
    feed(messageFrame(bomb, (m) => m.uint(8, 2).uint(11, 1)))
    expect(got).toEqual([])
    expect(warnings.join()).toMatch(/malformed message frame was skipped/)
    expect(types(written)).toContain(Cmd.FLOW)
  })

  it('delivers a message whose checksum fails, with one warning (the envelope check judges it)', async () => {
    const { got, warnings, feed } = await consumer()
    feed(messageFrame(Buffer.from('bytes'), () => undefined, true))
    feed(messageFrame(Buffer.from('bytes'), () => undefined, true))
    expect(got).toHaveLength(2)
    expect(warnings.filter((w) => /CRC-32C/.test(w))).toHaveLength(1)
  })

  it('withholds permits while paused and returns them on resume', async () => {
    const { c, written, feed } = await consumer(2)
    c.pause()
    feed(messageFrame(Buffer.from('x'), () => undefined))
    feed(messageFrame(Buffer.from('y'), () => undefined))
    expect(types(written)).not.toContain(Cmd.FLOW)
    c.resume()
    expect(types(written)).toContain(Cmd.FLOW)
  })

  it('skips a batch claiming more entries than its bytes can hold, without looping over the claim', async () => {
    const { got, warnings, written, feed } = await consumer(2)
    feed(messageFrame(batch([{ payload: Buffer.from('x') }]), (m) => m.uint(11, 50_000_000)))
    expect(got).toEqual([])
    expect(warnings.join()).toMatch(/malformed message frame was skipped.*batch of 50000000/)
    expect(types(written)).toContain(Cmd.FLOW)
  })

  it('skips a message whose id is not a MessageIdData instead of echoing it back in acks', async () => {
    const { got, warnings, written, feed } = await consumer(2)
    feed(messageFrame(Buffer.from('x'), () => undefined, false, Buffer.alloc(100_000, 1)))
    await new Promise((r) => setImmediate(r))
    expect(got).toEqual([])
    expect(warnings.join()).toMatch(/malformed id/)
    expect(types(written)).not.toContain(Cmd.ACK)
  })

  it('before-handler acks a batch once, before its entries are handed over', async () => {
    const { got, written, feed } = await consumer(100, 'before-handler')
    const entries = [0, 1, 2].map((i) => ({ payload: Buffer.from(`m${i}`) }))
    feed(messageFrame(batch(entries), (m) => m.uint(11, 3)))
    expect(got).toHaveLength(3)
    await new Promise((r) => setImmediate(r))
    const acks = written.filter((f) => decodeFrame(f.subarray(4)).type === Cmd.ACK)
    expect(acks).toHaveLength(1)
    const body = decodeFrame((acks[0] as Buffer).subarray(4)).body
    let ids = 0
    while (body.next()) {
      if (body.field === 3) ids++
      body.skip()
    }
    expect(ids).toBe(1)
  })
})
