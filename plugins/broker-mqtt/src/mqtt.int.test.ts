import { randomUUID } from 'node:crypto'
import { createTestContext, Inbox, requireService, sleep, waitFor } from '@iotload/sdk/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { mqttConfigSchema } from './config.ts'
import { mqttPlugin } from './plugin.ts'

const up = await requireService('Mosquitto', '127.0.0.1', 1883)
const run = randomUUID().slice(0, 8)
const opened: Array<{ close(): Promise<void> }> = []

async function open(raw: Record<string, unknown>, clientId = `t-${run}-${randomUUID().slice(0, 6)}`) {
  const conn = await mqttPlugin.connect(
    mqttConfigSchema.parse({ url: 'mqtt://127.0.0.1:1883', ...raw }),
    createTestContext({ clientId }),
  )
  opened.push(conn)
  return conn
}

describe.skipIf(!up)('broker-mqtt against Mosquitto', () => {
  afterAll(async () => {
    await Promise.all(opened.map((c) => c.close()))
  })

  for (const version of ['3.1.1', '5'] as const) {
    for (const qos of [0, 1, 2] as const) {
      it(`round-trips with MQTT ${version} at QoS ${qos}`, async () => {
        const sub = await open({ version })
        const pub = await open({ version })
        const topic = `it/${run}/v${version}/q${qos}`
        const c = new Inbox()
        await sub.subscribe(topic, c.push, { qos })
        for (let i = 0; i < 50; i++) await pub.publish(topic, { payload: Buffer.from(`m${i}`), qos })
        await c.waitForCount(50)
        expect(c.texts()).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`))
        expect(c.messages[0]?.topic).toBe(topic)
      })
    }
  }

  for (const qos of [0, 1] as const) {
    it(`pause stops reading after the message in hand, resume delivers the rest in order (QoS ${qos})`, async () => {
      const sub = await open({ version: '5' })
      const control = await open({ version: '5' })
      const pub = await open({ version: '5' })
      const topic = `it/${run}/pause/q${qos}`
      const got: string[] = []
      const controlGot = new Inbox()
      const s = (await sub.subscribe(topic, (m) => got.push(m.payload.toString()), { qos })) as {
        pause?: () => void
        resume?: () => void
      }
      await control.subscribe(topic, controlGot.push, { qos })
      s.pause!()
      for (let i = 0; i < 40; i++) await pub.publish(topic, { payload: Buffer.from(`m${i}`), qos })
      // The unpaused control got everything, so it was there to be read; the paused one took one.
      await controlGot.waitForCount(40)
      await sleep(300)
      expect(got.length).toBeLessThanOrEqual(1)
      s.resume!()
      await waitFor(
        () => got.length >= 40,
        10_000,
        () => `40 messages after resume, have ${got.length}`,
      )
      expect(got).toEqual(Array.from({ length: 40 }, (_, i) => `m${i}`))
    })
  }

  it('a pause holds for at most a quarter of the keep-alive, so the connection is never dropped for it', async () => {
    const sub = await open({ version: '5', keepalive: 4 }) // holds ≤ 1 s
    const pub = await open({ version: '5' })
    const topic = `it/${run}/pause-cap`
    const got: string[] = []
    const s = (await sub.subscribe(topic, (m) => got.push(m.payload.toString()), { qos: 1 })) as {
      pause?: () => void
    }
    s.pause!()
    for (let i = 0; i < 10; i++) await pub.publish(topic, { payload: Buffer.from(`m${i}`), qos: 1 })
    await sleep(300)
    expect(got.length).toBeLessThanOrEqual(1)
    // Still paused, but past the cap: everything flows, in order.
    await waitFor(
      () => got.length >= 10,
      5_000,
      () => `10 messages past the cap, have ${got.length}`,
    )
    expect(got).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`))
  })

  it('carries MQTT 5 user properties as headers', async () => {
    const sub = await open({ version: '5' })
    const pub = await open({ version: '5' })
    const topic = `it/${run}/headers`
    const c = new Inbox()
    await sub.subscribe(topic, c.push, { qos: 1 })
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    await pub.publish(topic, { payload: Buffer.from('x'), qos: 1, headers: { traceparent, 'x-device': '7' } })
    await c.waitForCount(1)
    expect(c.messages[0]?.headers).toEqual({ traceparent, 'x-device': '7' })
  })

  it('routes several subscriptions with wildcards on one connection', async () => {
    const conn = await open({ version: '5' })
    const telemetry = new Inbox()
    const all = new Inbox()
    await conn.subscribe(`it/${run}/w/+/telemetry`, telemetry.push, { qos: 1 })
    await conn.subscribe(`it/${run}/w/#`, all.push, { qos: 1 })
    const pub = await open({ version: '5' })
    for (const t of ['a/telemetry', 'b/telemetry', 'a/state'])
      await pub.publish(`it/${run}/w/${t}`, { payload: Buffer.from(t), qos: 1 })
    await Promise.all([telemetry.waitForCount(2), all.waitForCount(3)])
    expect(telemetry.messages.map((m) => m.topic).sort()).toEqual([
      `it/${run}/w/a/telemetry`,
      `it/${run}/w/b/telemetry`,
    ])
  })

  it('keeps a persistent session: QoS 1 messages published while offline arrive on reconnect', async () => {
    const clientId = `persist-${run}`
    const topic = `it/${run}/persist`
    const first = await open({ version: '5', clean: false, sessionExpiry: 60 }, clientId)
    await first.subscribe(topic, () => {}, { qos: 1 })
    await first.close()
    const pub = await open({ version: '5' })
    await pub.publish(topic, { payload: Buffer.from('while-offline'), qos: 1 })
    const second = await open({ version: '5', clean: false, sessionExpiry: 60 }, clientId)
    const c = new Inbox()
    await second.subscribe(topic, c.push, { qos: 1 })
    await c.waitForCount(1)
    expect(c.texts()[0]).toBe('while-offline')
    // Leave no stored session behind on the shared broker.
    await second.close()
    await (await open({ version: '5', clean: true }, clientId)).close()
  })

  it('shares a subscription across a group', async () => {
    const a = new Inbox()
    const seen: string[] = []
    const topic = `it/${run}/shared`
    const s1 = await open({ version: '5' })
    const s2 = await open({ version: '5' })
    let n1 = 0
    let n2 = 0
    await s1.subscribe(
      topic,
      (m) => {
        n1++
        seen.push(m.payload.toString())
        a.push(m)
      },
      { qos: 1, group: `g${run}` },
    )
    await s2.subscribe(
      topic,
      (m) => {
        n2++
        seen.push(m.payload.toString())
        a.push(m)
      },
      { qos: 1, group: `g${run}` },
    )
    const pub = await open({ version: '5' })
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) => pub.publish(topic, { payload: Buffer.from(String(i)), qos: 1 })),
    )
    await a.waitForCount(1000, 15_000)
    expect(new Set(seen).size).toBe(1000)
    expect(n1).toBeGreaterThan(0)
    expect(n2).toBeGreaterThan(0)
  })

  it('rejects publish after close and closes idempotently', async () => {
    const conn = await open({ version: '5' })
    await conn.close()
    await conn.close()
    await expect(conn.publish('x', { payload: Buffer.from('x') })).rejects.toMatchObject({ code: 'CLOSED' })
  })

  it('fails fast with kind unreachable when nothing listens', async () => {
    await expect(open({ url: 'mqtt://127.0.0.1:1', connectTimeout: '2s' })).rejects.toMatchObject({
      kind: 'unreachable',
    })
  })
})
