import { randomUUID } from 'node:crypto'
import { memoryPlugin } from '@iotload/broker-memory'
import { createTestContext, waitFor } from '@iotload/sdk/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { resolveScenario } from '../scenario/load-scenario.ts'
import { ConsumerRole } from './consumer.ts'
import { RunRecorder } from './recorder.ts'
import { startRun } from './run.ts'
import { collectingLogger } from './testing/memory-scenario.ts'

// The consumer's external-metadata mode, not a broker, is under test: the memory broker carries
// the messages. `{iso}` stamps come from the real clock, so the runs keep the system clock.
const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  while (stops.length > 0) await stops.pop()!()
})

/** A client of the bus, as anything outside iotload would connect. */
async function client(bus: string) {
  const conn = await memoryPlugin.connect(memoryPlugin.configSchema.parse({ bus }), createTestContext())
  stops.push(() => conn.close())
  return conn
}

/**
 * A foreign transformer, written the way an integration team would, knowing nothing of iotload:
 * it restructures the telemetry into an action, drops everything else (the `iotload` member too)
 * and keeps only the ISO-8601 ms timestamp under `original.lastUpdated`. For device
 * `brokenDevice` it "forgets" the timestamp.
 */
async function foreignTransformer(bus: string, brokenDevice: string): Promise<{ broken: () => number }> {
  const conn = await client(bus)
  let broken = 0
  await conn.subscribe(
    'ext/+/telemetry',
    (m) => {
      const telemetry = JSON.parse(Buffer.from(m.payload).toString())
      const unit = m.topic.split('/')[1]
      const original: Record<string, unknown> = { unitName: telemetry.unitName }
      if (unit === brokenDevice) broken++
      else original.lastUpdated = telemetry.lastUpdated
      const action = { command: 'close-valve', reason: `temperature ${telemetry.temperature}`, original }
      void conn.publish(`ext/${unit}/action`, { payload: Buffer.from(JSON.stringify(action)), qos: 1 })
    },
    { qos: 1 },
  )
  return { broken: () => broken }
}

function scenario(bus: string) {
  return {
    name: 'external ipaas',
    broker: { plugin: 'memory', bus },
    producer: {
      devices: 4,
      rate: '10/s',
      duration: '3s',
      warmup: '1s',
      topic: 'ext/{device}/telemetry',
      payload: { lastUpdated: '{iso}', unitName: 'unit-{device}', temperature: '{float:15:30:1}' },
      qos: 1,
    },
    consumer: {
      topic: 'ext/+/action',
      external: { timestampPath: '$.original.lastUpdated', format: 'iso8601' },
    },
    slo: { 'e2e.p99': '1h', invalid: 40 },
    // Device 3's messages never arrive: the drain would wait its whole length for them.
    run: { drain: '1s' },
  }
}

describe('external iPaaS mode (consumer.external)', () => {
  it('measures latency from the foreign ISO-8601 ms timestamp and counts a missing one invalid', async () => {
    const bus = `ext-${randomUUID()}`
    const foreign = await foreignTransformer(bus, '3')
    const summary = await startRun(await resolveScenario(scenario(bus), { env: {} }), {
      logger: collectingLogger(),
    }).result
    expect(summary.run.status).toBe('completed')
    const e2e = summary.streams.e2e!
    // 4 devices × 10/s: 40 warm-up sends (1 s), 120 measured (3 s). Device 3's 40 lack the path:
    // invalid, whether warm-up or not (an invalid message cannot say which). Devices 0–2 are
    // measured only after the warm-up: 90 received, and device 3's 30 measured sends are lost.
    expect(e2e.sent).toBe(120)
    expect(foreign.broken()).toBe(40)
    expect(e2e.invalid).toBe(40)
    expect(summary.invalid).toEqual({ 'no-metadata': 40 })
    expect(e2e.received).toBe(90)
    expect(e2e.lost).toBe(30)
    expect(e2e.latency.raw.count).toBe(90)
    // A foreign message carries no intended send time: no coordinated-omission figure is invented.
    expect(e2e.latency.co).toBeUndefined()
    expect(summary.timestamps).toEqual({ source: 'external', resolutionUs: 1000, ambiguousWarmup: 0 })
    expect(e2e.latency.raw.p50).toBeGreaterThan(0)
    console.log(
      `external iPaaS (ms timestamps): e2e p50 ${e2e.latency.raw.p50}us p99 ${e2e.latency.raw.p99}us over ${e2e.latency.raw.count} messages, invalid ${e2e.invalid}`,
    )
    // Nothing else was measured: there are no hop stamps to split into legs.
    expect(Object.keys(summary.streams).filter((s) => s !== 'e2e' && s !== 'publish-ack')).toEqual([])
  })

  it('the consumer states the resolution of what it measured: 1 ms for ISO-8601 with ms digits', async () => {
    const bus = `ext-${randomUUID()}`
    await foreignTransformer(bus, 'none')
    const resolved = await resolveScenario(scenario(bus), { env: {} })
    const recorder = new RunRecorder('r', 0)
    const consumer = new ConsumerRole(resolved, 'r', recorder, collectingLogger())
    await consumer.start()
    stops.push(() => consumer.close())
    const device = await client(bus)
    for (let i = 0; i < 5; i++) {
      const body = { lastUpdated: new Date().toISOString(), unitName: 'unit-1', temperature: 20 }
      await device.publish('ext/1/telemetry', { payload: Buffer.from(JSON.stringify(body)), qos: 1 })
    }
    await waitFor(() => recorder.uniqueSoFar >= 5, 10_000, '5 external messages')
    recorder.rollSecond(0, false)
    expect(recorder.total.received).toBe(5)
    expect(recorder.timestampResolutionUs).toBe(1000)
    expect(recorder.streams.get('e2e')!.cumulative().raw.count).toBe(5)
  })
})
