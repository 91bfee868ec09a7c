import { randomUUID } from 'node:crypto'
import type { BrokerConnection } from '@iotload/sdk'
import { createTestContext, Inbox, sleep } from '@iotload/sdk/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { memoryConfigSchema } from './config.ts'
import { memoryBus } from './memory-bus.ts'
import { memoryPlugin } from './plugin.ts'

const open: BrokerConnection[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()))
})

async function connect(raw: Record<string, unknown>, ctx = createTestContext()) {
  const conn = await memoryPlugin.connect(memoryConfigSchema.parse(raw), ctx)
  open.push(conn)
  return conn
}

const enc = (s: string) => new TextEncoder().encode(s)

describe('memory plugin: simulated faults', () => {
  it('an outage: statuses on every connection, QoS 1 rejects, QoS 0 is lost, connects are refused', async () => {
    const bus = randomUUID()
    const [ca, cb] = [createTestContext(), createTestContext()]
    const a = await connect({ bus }, ca)
    const b = await connect({ bus }, cb)
    const inbox = new Inbox()
    await b.subscribe('o', inbox.push)
    memoryBus(bus).disconnect('cable cut')
    expect(ca.statuses).toEqual(['connected', 'disconnected'])
    await expect(a.publish('o', { payload: enc('1'), qos: 1 })).rejects.toMatchObject({
      name: 'PublishError',
      message: expect.stringContaining('simulated outage'),
    })
    await a.publish('o', { payload: enc('0') })
    await expect(connect({ bus })).rejects.toMatchObject({ name: 'ConnectionError', kind: 'unreachable' })
    memoryBus(bus).reconnect()
    expect(cb.statuses).toEqual(['connected', 'disconnected', 'reconnecting', 'reconnected'])
    await a.publish('o', { payload: enc('after'), qos: 1 })
    expect(inbox.texts()).toEqual(['after'])
    expect(memoryBus(bus).stats.dropped).toBe(1)
  })

  it('an outage fails what was accepted but not yet routed', async () => {
    const bus = randomUUID()
    const conn = await connect({ bus, latency: '50ms' })
    const outcome = conn.publish('x', { payload: enc('in flight'), qos: 1 }).catch((e: unknown) => e)
    await memoryBus(bus).outage(10)
    expect(await outcome).toMatchObject({ name: 'PublishError' })
  })

  it('loss drops that share of messages, deterministically per client id, and counts them', async () => {
    const run = async () => {
      const bus = randomUUID()
      const conn = await connect({ bus, loss: 0.25 }, createTestContext({ clientId: 'lossy' }))
      const inbox = new Inbox()
      await conn.subscribe('l', inbox.push)
      await Promise.all(
        Array.from({ length: 1000 }, (_, i) => conn.publish('l', { payload: enc(String(i)), qos: 1 })),
      )
      expect(inbox.length + memoryBus(bus).stats.dropped).toBe(1000)
      return inbox.texts()
    }
    const first = await run()
    expect(first.length).toBeGreaterThan(650)
    expect(first.length).toBeLessThan(850)
    expect(await run()).toEqual(first)
  })

  it('latency delays delivery and the QoS 1 acknowledgement, keeping order', async () => {
    const conn = await connect({ bus: randomUUID(), latency: '30ms' })
    const inbox = new Inbox()
    await conn.subscribe('d', inbox.push)
    const t0 = performance.now()
    const acks = Array.from({ length: 5 }, (_, i) => conn.publish('d', { payload: enc(String(i)), qos: 1 }))
    await sleep(5)
    expect(inbox.length).toBe(0)
    await Promise.all(acks)
    expect(performance.now() - t0).toBeGreaterThanOrEqual(29)
    expect(inbox.texts()).toEqual(['0', '1', '2', '3', '4'])
  })

  it('close: idempotent, rejects what is still queued and anything later, and leaves the bus', async () => {
    const bus = randomUUID()
    const conn = await connect({ bus, latency: '1s' })
    await conn.subscribe('c', () => undefined)
    const queued = conn.publish('c', { payload: enc('never'), qos: 1 }).catch((e: unknown) => e)
    await Promise.all([conn.close(), conn.close()])
    await conn.close()
    expect(await queued).toMatchObject({ name: 'ClosedError' })
    await expect(conn.publish('c', { payload: enc('x') })).rejects.toMatchObject({ name: 'ClosedError' })
    await expect(conn.subscribe('c', () => undefined)).rejects.toMatchObject({ name: 'ClosedError' })
    expect(memoryBus(bus).connections).toBe(0)
    expect(memoryBus(bus).subscriptions).toBe(0)
  })

  it('capacity: a token bucket in the bus’s own time; beyond it QoS 0 drops and QoS 1 rejects', async () => {
    const bus = randomUUID()
    let nowMs = 0
    memoryBus(bus).clock = () => nowMs
    const conn = await connect({ bus, capacity: '100/s' })
    const inbox = new Inbox()
    await conn.subscribe('c', inbox.push)
    // A burst of 0.1 s worth (10) passes at once; the 11th finds no token.
    const first = await Promise.allSettled(
      Array.from({ length: 11 }, (_, i) => conn.publish('c', { payload: enc(String(i)), qos: 1 })),
    )
    expect(first.filter((r) => r.status === 'fulfilled')).toHaveLength(10)
    expect(first[10]).toMatchObject({ status: 'rejected', reason: { name: 'PublishError' } })
    // 50 ms later five more tokens: QoS 0 beyond them is dropped and counted, never delivered.
    nowMs += 50
    for (let i = 0; i < 8; i++) await conn.publish('c', { payload: enc(`q0-${i}`) })
    await sleep(5)
    expect(inbox.texts().filter((t) => t.startsWith('q0-'))).toHaveLength(5)
    expect(memoryBus(bus).stats.dropped).toBe(1 + 3)
  })
})
