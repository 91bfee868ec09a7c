import { randomUUID } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { memoryPlugin } from '@iotload/broker-memory'
import {
  type BrokerConnection,
  type BridgeStats,
  bridgeConfigSchema,
  decodeJsonEnvelope,
  encodeJsonEnvelope,
  nowUs,
} from '@iotload/sdk'
import { createTestContext, Inbox, waitFor } from '@iotload/sdk/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { startBridge } from './bridge.ts'

// The bridge is under test, not a broker: the in-process memory broker carries the messages.
const bus = `bridge-${randomUUID()}`
const conns: BrokerConnection[] = []

async function connect(
  role: 'producer' | 'consumer' | 'bridge-in' | 'bridge-out',
): Promise<BrokerConnection> {
  const config = memoryPlugin.configSchema.parse({ bus })
  const c = await memoryPlugin.connect(config, createTestContext({ role }))
  conns.push(c)
  return c
}

afterAll(async () => {
  await Promise.all(conns.map((c) => c.close()))
})

/**
 * An input connection whose subscriptions cannot pause, like a plugin without flow control: the
 * bridge must then bound its queue and count what overflows.
 */
function withoutPause(conn: BrokerConnection): BrokerConnection {
  return {
    publish: (topic, msg) => conn.publish(topic, msg),
    subscribe: async (filter, onMessage, options) => {
      const sub = await conn.subscribe(filter, onMessage, options)
      return { unsubscribe: () => sub.unsubscribe() }
    },
    close: () => conn.close(),
  }
}

/** Producer, bridge and collecting consumer on a fresh topic root. */
async function rig(bridge: Record<string, unknown>, options: { pausable?: boolean } = {}) {
  const root = `t${randomUUID().slice(0, 8)}`
  const config = bridgeConfigSchema.parse({
    from: `${root}/in/{device}`,
    to: `${root}/out/{device}`,
    ...bridge,
  })
  const [producer, input, output, consumer] = await Promise.all([
    connect('producer'),
    connect('bridge-in'),
    connect('bridge-out'),
    connect('consumer'),
  ])
  const inbox = new Inbox()
  await consumer.subscribe(`${root}/out/+`, inbox.push)
  const running = await startBridge({
    config,
    input: options.pausable === false ? withoutPause(input) : input,
    output,
    filter: `${root}/in/+`,
    logger: createTestContext().logger,
    name: 'bridge',
  })
  const send = async (dev: number, seq: number, body: Record<string, unknown>) => {
    const t = nowUs()
    const payload = encodeJsonEnvelope(JSON.stringify(body), { run: 'r1', dev, seq, t, ti: t })
    await producer.publish(`${root}/in/${dev}`, { payload: Buffer.from(payload) })
  }
  return { running, received: inbox.messages, send }
}

describe('startBridge (memory broker)', () => {
  it('map transform builds the action, keeps the metadata and stamps the hop with its host', async () => {
    const { running, received, send } = await rig({
      transform: { map: { valve: 'close', device: '$.device', lastUpdated: '$.lastUpdated' } },
      host: 'edge-1',
    })
    await send(7, 0, { device: 7, valve: 'open', lastUpdated: '2026-01-01T00:00:00.000Z', noise: 1 })
    await waitFor(() => received.length === 1)
    const d = decodeJsonEnvelope(received[0]!.payload)
    expect(d.ok).toBe(true)
    if (!d.ok) return
    const { iotload: _, ...body } = d.doc
    expect(body).toEqual({ valve: 'close', device: 7, lastUpdated: '2026-01-01T00:00:00.000Z' })
    expect(d.meta).toMatchObject({ run: 'r1', dev: 7, seq: 0 })
    const hop = JSON.parse(Buffer.from(received[0]!.payload).toString()).iotload.hops[0]
    expect(hop.by).toBe('bridge')
    expect(hop.host).toBe('edge-1')
    expect(hop.out).toBeGreaterThanOrEqual(hop.in)
    expect(running.stats.host).toBe('edge-1')
    await running.stop()
  })

  it('a module transform returning null drops the message and counts it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotload-bridge-'))
    const file = join(dir, 't.mjs')
    writeFileSync(
      file,
      'export default async (m) => (m.valve === "open" ? { valve: "close", device: m.device } : null)\n',
    )
    const { running, received, send } = await rig({ transform: { module: file } })
    for (let i = 0; i < 6; i++) await send(1, i, { device: 1, valve: i % 2 === 0 ? 'open' : 'closed' })
    await waitFor(() => running.stats.received === 6 && running.stats.inFlight === 0)
    await waitFor(() => received.length === 3)
    expect(received.length).toBe(3)
    expect(running.stats).toMatchObject({ received: 6, forwarded: 3, dropped: 3, transformErrors: 0 })
    await running.stop()
  })

  it('the simulated delay is applied before the out stamp and never shortens', async () => {
    const { running, received, send } = await rig({ delay: '20ms' })
    for (let i = 0; i < 5; i++) await send(2, i, { v: i })
    await waitFor(() => received.length === 5)
    for (const m of received) {
      const hop = JSON.parse(Buffer.from(m.payload).toString()).iotload.hops[0]
      expect(hop.out - hop.in).toBeGreaterThanOrEqual(20_000)
    }
    await running.stop()
  })

  it('a pausable input: the bridge pauses it instead of dropping, and everything arrives in order', async () => {
    const { running, received, send } = await rig({ delay: '200ms', concurrency: 2, maxQueued: 3 })
    await Promise.all(Array.from({ length: 10 }, (_, i) => send(3, i, { v: i })))
    await waitFor(() => received.length === 10, 20_000)
    await running.stop()
    expect(running.stats).toMatchObject({ received: 10, forwarded: 10, overflowDropped: 0, inFlightPeak: 2 })
    // A paused input stops delivering after the message in hand: one queued at most.
    expect(running.stats.queuedPeak).toBeLessThanOrEqual(1)
    expect(received.map((m) => JSON.parse(Buffer.from(m.payload).toString()).iotload.seq)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ])
  })

  it('an input that cannot pause: concurrency slots, a bounded queue, and counted overflow drops', async () => {
    const { running, received, send } = await rig(
      { delay: '400ms', concurrency: 2, maxQueued: 3 },
      { pausable: false },
    )
    await Promise.all(Array.from({ length: 10 }, (_, i) => send(3, i, { v: i })))
    await waitFor(() => running.stats.received === 10)
    const s: BridgeStats = { ...running.stats }
    expect(s.inFlightPeak).toBe(2)
    expect(s.queuedPeak).toBe(3)
    expect(s.overflowDropped).toBe(5)
    await waitFor(() => received.length === 5)
    await running.stop()
    expect(received.length).toBe(5)
    expect(running.stats).toMatchObject({ forwarded: 5, inFlight: 0, queued: 0 })
    // FIFO: the five that got a slot or a queue place are the first five sent.
    const seqs = received.map((m) => JSON.parse(Buffer.from(m.payload).toString()).iotload.seq).sort()
    expect(seqs).toEqual([0, 1, 2, 3, 4])
  })
})
