import { randomUUID } from 'node:crypto'
import {
  type PrivateMosquitto,
  requireBinary,
  startMosquitto,
  startTcpProxy,
  type TcpProxy,
} from '@iotload/sdk/testing'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../log/logger.ts'
import { resolveScenario } from '../scenario/load-scenario.ts'
import { startRun } from './run.ts'

// MQTT device features against a private Mosquitto: the devices connect through a TCP relay the
// test can cut (a site losing power), while a watcher connected directly sees what the broker does.
const hasMosquitto = requireBinary('mosquitto', 'apt-get install mosquitto')
const quiet = createLogger({ level: 'error' })
let broker: PrivateMosquitto
let relay: TcpProxy

beforeAll(async () => {
  if (!hasMosquitto) return
  broker = await startMosquitto()
  relay = await startTcpProxy('127.0.0.1', broker.port)
}, 30_000)
afterAll(async () => {
  await relay?.close()
  await broker?.stop()
})

async function watch(filter: string) {
  const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5 })
  const seen: Array<{ topic: string; payload: string; retain: boolean; expiry?: number }> = []
  client.on('message', (topic, payload, packet) =>
    seen.push({
      topic,
      payload: payload.toString(),
      retain: packet.retain,
      ...(packet.properties?.messageExpiryInterval !== undefined
        ? { expiry: packet.properties.messageExpiryInterval }
        : {}),
    }),
  )
  await client.subscribeAsync(filter, { qos: 1 })
  return { seen, close: () => client.endAsync() }
}

function scenario(tag: string, broker: Record<string, unknown>, producer: Record<string, unknown>) {
  return {
    broker: { plugin: 'mqtt', url: `mqtt://127.0.0.1:${relay.port}`, version: '5', ...broker },
    producer: { devices: 5, rate: '5/s', duration: '3s', qos: 1, topic: `${tag}/t/{device}`, ...producer },
    run: { drain: '2s' },
  }
}

describe.skipIf(!hasMosquitto)('MQTT device features', () => {
  it('last wills: templated per device, published when the connections die, not on a clean end', async () => {
    const tag = `will-${randomUUID().slice(0, 8)}`
    const will = { topic: `${tag}/will/{device}`, payload: { device: '{device}', state: 'gone' }, qos: 1 }
    const watcher = await watch(`${tag}/will/#`)
    try {
      // A clean run: every device says goodbye, no will is published.
      const clean = await resolveScenario(scenario(tag, {}, { will }), { env: {} })
      expect((await startRun(clean, { logger: quiet }).result).run.status).toBe('completed')
      await new Promise((r) => setTimeout(r, 500))
      expect(watcher.seen).toEqual([])
      // Now the relay drops every connection mid-run: the broker publishes each device's will.
      // The devices reconnect a second later; their wills were published when they dropped.
      const cut = await resolveScenario(scenario(tag, {}, { will, duration: '6s' }), { env: {} })
      const handle = startRun(cut, { logger: quiet })
      await new Promise((r) => setTimeout(r, 2500))
      relay.dropAll()
      const deadline = Date.now() + 10_000
      while (watcher.seen.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
      handle.stop()
      await handle.result
      await new Promise((r) => setTimeout(r, 500))
      // Five device wills (the consumer, connected through the relay too, has none).
      expect(watcher.seen.map((m) => m.topic).sort()).toEqual([0, 1, 2, 3, 4].map((d) => `${tag}/will/${d}`))
      expect(JSON.parse(watcher.seen.find((m) => m.topic.endsWith('/3'))!.payload)).toEqual({
        device: 3,
        state: 'gone',
      })
    } finally {
      await watcher.close()
    }
  }, 60_000)

  it('retained publishes with an MQTT 5 message expiry, over topic aliases', async () => {
    const tag = `ret-${randomUUID().slice(0, 8)}`
    const resolved = await resolveScenario(
      scenario(
        tag,
        { retain: true, messageExpiry: '120s', topicAliases: true },
        { devices: 3, duration: '2s' },
      ),
      { env: {} },
    )
    const summary = await startRun(resolved, { logger: quiet }).result
    expect(summary.streams.e2e).toMatchObject({ sent: 30, received: 30, lost: 0 })
    // A subscriber arriving afterwards gets each device's last message, retained, with what is left of its expiry.
    const late = await watch(`${tag}/t/#`)
    try {
      const deadline = Date.now() + 5000
      while (late.seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
      expect(late.seen.map((m) => m.topic).sort()).toEqual([0, 1, 2].map((d) => `${tag}/t/${d}`))
      for (const m of late.seen) {
        expect(m.retain).toBe(true)
        expect(m.expiry).toBeGreaterThan(100)
        expect(m.expiry).toBeLessThanOrEqual(120)
      }
    } finally {
      await late.close()
    }
  }, 60_000)

  it('refuses MQTT 5 features on 3.1.1, naming the field', async () => {
    const err = await resolveScenario(
      {
        broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1', version: '3.1.1', messageExpiry: '10s' },
        producer: { devices: 1, rate: '1/s', duration: '1s' },
      },
      { env: {} },
    ).catch((e: unknown) => e)
    expect(err).toMatchObject({ path: 'broker.messageExpiry' })
  })
})
