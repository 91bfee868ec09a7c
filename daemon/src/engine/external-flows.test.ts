import { randomUUID } from 'node:crypto'
import { nowUs } from '@iotload/sdk'
import { afterEach, describe, expect, it } from 'vitest'
import { resolveScenario } from '../scenario/load-scenario.ts'
import { startRun } from './run.ts'
import { type FlowStep, foreignFlow } from './testing/foreign-flow.ts'
import { collectingLogger } from './testing/memory-scenario.ts'
import { recordingStore } from './testing/recording-store.ts'

// External flows that pass iotload's envelope through, or keep only a correlation id, measured
// with everything the native path has. The memory broker carries the messages.
const closers: Array<() => Promise<unknown>> = []
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!()
})

async function flow(bus: string, step: FlowStep) {
  const f = await foreignFlow(bus, step)
  closers.push(() => f.close())
  return f
}

function scenario(bus: string, external: object | undefined, payload: object = {}) {
  return {
    name: 'external flow',
    broker: { plugin: 'memory', bus },
    producer: {
      devices: 5,
      rate: '20/s',
      duration: '2s',
      warmup: '1s',
      topic: 'ext/{device}/telemetry',
      payload: { device: '{device}', temperature: '{float:15:30:1}', ...payload },
      qos: 1,
    },
    consumer: { topic: 'ext/+/action', ...(external ? { external } : {}) },
    run: { drain: '1s' },
  }
}

async function run(s: object, store?: ReturnType<typeof recordingStore>) {
  const resolved = await resolveScenario(s, { env: {} })
  return startRun(resolved, { logger: collectingLogger(), ...(store ? { store } : {}) }).result
}

const seqOf = (t: Record<string, unknown>) => (t.iotload as { seq: number }).seq

/**
 * The flow keeps the whole reading under `original` (iotload's envelope with it). Device 1's
 * readings with seq % 5 = 0 come out twice; device 2 drops those with seq % 10 = 3.
 */
const nesting: FlowStep = (t, unit) => {
  const action = { command: 'close-valve', original: t }
  if (unit === '1' && seqOf(t) % 5 === 0) return [action, action]
  if (unit === '2' && seqOf(t) % 10 === 3) return undefined
  return action
}

describe('consumer.external.envelopePath', () => {
  it('measures a passed-through envelope like the native path: warm-up, exact loss and duplicates per device, co', async () => {
    const bus = `ext-${randomUUID()}`
    await flow(bus, nesting)
    const store = recordingStore()
    const summary = await run(scenario(bus, { envelopePath: '$.original.iotload' }), store)
    const e2e = summary.streams.e2e!
    // 5 devices × 20/s × 2 s = 200 measured (seqs 20–59 per device); device 2 drops 23, 33, 43, 53.
    expect(e2e).toMatchObject({ sent: 200, received: 196, lost: 4, undelivered: 0, invalid: 0 })
    // Device 1 doubles seq % 5 = 0: 8 measured (20, 25, … 55) and 4 in warm-up (0, 5, 10, 15).
    expect(e2e.duplicates).toBe(12)
    expect(e2e.latency.co?.count).toBe(196)
    expect(summary.timestamps).toMatchObject({ source: 'envelope', resolutionUs: 1, via: 'envelopePath' })
    expect(summary.devices?.tracked).toBe(5)
    expect(summary.devices?.worst.loss).toEqual([
      expect.objectContaining({ device: 2, sent: 40, received: 36, lost: 4 }),
    ])
    expect(summary.devices?.worst.duplicates).toEqual([
      expect.objectContaining({ device: 1, duplicates: 12 }),
    ])
    expect(summary.devices?.worst.p99).toHaveLength(5)
    // The store keeps every device.
    expect(store.writes.devices.map((d) => d.device)).toEqual([0, 1, 2, 3, 4])
  })

  it('without consumer.external, every message is invalid and the summary says which envelopePath to set', async () => {
    const bus = `ext-${randomUUID()}`
    await flow(bus, (t) => ({ command: 'close-valve', original: t }))
    const summary = await run(scenario(bus, undefined))
    expect(summary.streams.e2e!.received).toBe(0)
    expect(summary.invalid).toEqual({ 'no-metadata': 300 })
    expect(summary.hints).toEqual([
      expect.stringContaining('set consumer.external.envelopePath: $.original.iotload'),
    ])
  })
})

describe('consumer.external.correlationPath', () => {
  it('a flow that keeps only {msgid}: exact loss and duplicates, raw and co latency, legs from the flow’s stamps', async () => {
    const bus = `ext-${randomUUID()}`
    // The flow drops iotload's envelope and any timestamp; it keeps the id, and stamps when it took
    // the reading in and when it decided (after ~2 ms of "thinking"), in epoch-µs.
    await flow(bus, (t, unit) => {
      const receivedAt = nowUs()
      const seq = Number(String(t.msgId).split('-').pop())
      if (unit === '2' && seq % 10 === 3) return undefined
      while (nowUs() - receivedAt < 2000) {
        // busy: the transform's work
      }
      const action = { command: 'close-valve', msgId: t.msgId, receivedAt, decidedAt: nowUs() }
      return unit === '1' && seq % 5 === 0 ? [action, action] : action
    })
    const summary = await run(
      scenario(
        bus,
        {
          correlationPath: '$.msgId',
          legs: { 'ipaas-in': '$.receivedAt', 'ipaas-out': '$.decidedAt' },
          format: 'epoch-us',
        },
        { msgId: '{msgid}' },
      ),
    )
    const e2e = summary.streams.e2e!
    expect(e2e).toMatchObject({ sent: 200, received: 196, lost: 4, duplicates: 12, invalid: 0 })
    expect(e2e.latency.raw.count).toBe(196)
    expect(e2e.latency.co?.count).toBe(196)
    expect(summary.timestamps).toMatchObject({ source: 'envelope', via: 'correlation', expiredIds: 0 })
    // The seed's legs: producer → iPaaS (1+3), inside (5), iPaaS → consumer (4+2).
    const leg = (s: string) => summary.streams[s]!.latency.raw
    expect(leg('bridge').p50).toBeGreaterThanOrEqual(2000)
    // Every measured arrival has the flow's stamps (duplicates are not measured again).
    expect(leg('producer-bridge').count).toBe(196)
    const sum = leg('producer-bridge').p50 + leg('bridge').p50 + leg('bridge-consumer').p50
    expect(Math.abs(sum - e2e.latency.raw.p50)).toBeLessThan(0.3 * e2e.latency.raw.p50)
    expect(summary.legs.map((l) => `${l.from}→${l.to}`)).toEqual(
      expect.arrayContaining(['producer→ipaas-in', 'ipaas-in→ipaas-out', 'ipaas-out→consumer']),
    )
    expect(summary.devices?.worst.loss[0]).toMatchObject({ device: 2, lost: 4 })
  })

  it('ids older than the table holds still count, without a latency, and the summary says so', async () => {
    const bus = `ext-${randomUUID()}`
    // The flow holds every reading back 300 ms. With 2 slots per device (window 10, 5 devices) and
    // 50 ms between a device's sends, its slot has been reused by the time an id comes back.
    const slow = await foreignFlow(bus, (t) => ({ msgId: t.msgId }), { delayMs: 300 })
    closers.push(() => slow.close())
    const summary = await run(
      scenario(bus, { correlationPath: '$.msgId', correlationWindow: 10 }, { msgId: '{msgid}' }),
    )
    const e2e = summary.streams.e2e!
    expect(e2e).toMatchObject({ sent: 200, received: 200, lost: 0, duplicates: 0 })
    // Only each device's last two sends were still in the table when they came back.
    expect(e2e.latency.raw.count).toBe(10)
    expect(summary.timestamps.expiredIds).toBe(190)
    expect(summary.hints).toEqual([
      expect.stringMatching(/^190 ids came back after .*raise consumer.external.correlationWindow/),
    ])
  })
})
