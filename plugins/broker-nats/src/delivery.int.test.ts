import type { BrokerConnection } from '@iotload/sdk'
import { createTestContext, requireService } from '@iotload/sdk/testing'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { natsConfigSchema } from './config.ts'
import plugin from './plugin.ts'

const up = await requireService('NATS', '127.0.0.1', 4222)
const run = `d${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
const stream = `DELIVERY_${run}`
const open: BrokerConnection[] = []
let seq = 0

async function conn(extra: Record<string, unknown> = {}): Promise<BrokerConnection> {
  const c = await plugin.connect(
    natsConfigSchema.parse({ url: 'nats://127.0.0.1:4222', ...extra }),
    createTestContext({ role: 'producer', clientId: `nats-test-${process.pid}-${++seq}` }),
  )
  open.push(c)
  return c
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()))
})
afterAll(async () => {
  if (!up) return
  const nc = await connect({ servers: '127.0.0.1:4222' })
  await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined)
  await nc.close()
})

const js = { mode: 'jetstream', jetstream: { stream } }

describe.skipIf(!up)('nats delivery semantics against nats-server', () => {
  for (const [mode, extra] of [
    ['core', {}],
    ['jetstream', js],
  ] as const) {
    it(`${mode}: members of one group share the messages, each delivered once`, async () => {
      const topic = `${run}.group.${mode}`
      const counts = [0, 0]
      const seen = new Set<string>()
      let dupes = 0
      for (const i of [0, 1]) {
        const c = await conn(extra)
        await c.subscribe(
          topic,
          (m) => {
            counts[i]!++
            const k = Buffer.from(m.payload).toString()
            if (seen.has(k)) dupes++
            seen.add(k)
          },
          { group: `g-${mode}` },
        )
      }
      const pub = await conn(extra)
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => pub.publish(topic, { payload: Buffer.from(String(i)) })),
      )
      await expect.poll(() => seen.size, { timeout: 10_000 }).toBe(200)
      expect(dupes).toBe(0)
      // Both members took part (a queue group / shared pull consumer spreads the load).
      expect(counts[0]! + counts[1]!).toBe(200)
      expect(Math.min(...counts)).toBeGreaterThan(0)
    })
  }

  it('jetstream: derives stream subjects per topic prefix and stores the messages', async () => {
    const a = await conn(js)
    await a.publish(`${run}.alpha.x`, { payload: Buffer.from('1') })
    await a.publish(`${run}b.beta.y`, { payload: Buffer.from('2') })
    const nc = await connect({ servers: '127.0.0.1:4222' })
    try {
      const info = await (await jetstreamManager(nc)).streams.info(stream)
      expect(info.config.subjects).toEqual(expect.arrayContaining([`${run}.>`, `${run}b.>`]))
      expect(info.config.storage).toBe('memory')
      expect(info.state.messages).toBeGreaterThanOrEqual(2)
    } finally {
      await nc.close()
    }
  })

  it('jetstream: a private consumer is removed on unsubscribe', async () => {
    const c = await conn(js)
    const sub = await c.subscribe(`${run}.private`, () => undefined)
    const nc = await connect({ servers: '127.0.0.1:4222' })
    try {
      const jsm = await jetstreamManager(nc)
      const names = async () => (await jsm.consumers.list(stream).next()).map((ci) => ci.name)
      const before = await names()
      expect(before.some((n) => n.startsWith('iotload-nats-test-'))).toBe(true)
      await sub.unsubscribe()
      await sub.unsubscribe()
      expect((await names()).length).toBe(before.length - 1)
    } finally {
      await nc.close()
    }
  })

  it('jetstream: a subject no stream captures fails the publish with PublishError, not a timeout', async () => {
    const c = await conn({ mode: 'jetstream', jetstream: { stream, create: false } })
    const t0 = Date.now()
    await expect(c.publish(`nostream${run}.x`, { payload: Buffer.from('x') })).rejects.toMatchObject({
      name: 'PublishError',
      message: expect.stringContaining('no JetStream stream captures'),
    })
    expect(Date.now() - t0).toBeLessThan(4000)
  })

  it('jetstream: a PubAck that never comes fails the publish after ackTimeoutMs', async () => {
    // A core subscriber that never answers is a responder, so the server sends no 503 either.
    const silent = await conn()
    await silent.subscribe(`silent${run}.x`, () => undefined)
    const c = await conn({ mode: 'jetstream', jetstream: { stream, create: false, ackTimeoutMs: 300 } })
    await expect(c.publish(`silent${run}.x`, { payload: Buffer.from('x') })).rejects.toMatchObject({
      name: 'PublishError',
      message: expect.stringContaining('no PubAck'),
    })
  })

  it('core: publish after close rejects with ClosedError', async () => {
    const c = await conn()
    await c.close()
    await expect(c.publish(`${run}.closed`, { payload: Buffer.from('x') })).rejects.toMatchObject({
      name: 'ClosedError',
    })
  })
})
