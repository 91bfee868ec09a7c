import { randomUUID } from 'node:crypto'
import { nowUs } from '@iotload/sdk'
import { afterEach, describe, expect, it } from 'vitest'
import { resolveScenario } from '../scenario/load-scenario.ts'
import type { SecondReport } from './recorder.ts'
import { startRun } from './run.ts'
import { type FlowStep, foreignFlow } from './testing/foreign-flow.ts'
import { collectingLogger } from './testing/memory-scenario.ts'

// consumer.external with copied timestamps (the seed's way), not a broker, is under test: the
// memory broker carries the messages. Payload times come from the real clock, so the runs keep it.
const closers: Array<() => Promise<unknown>> = []
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!()
})

async function flow(bus: string, step: FlowStep) {
  const f = await foreignFlow(bus, step)
  closers.push(() => f.close())
  return f
}

function scenario(bus: string, over: { producer?: object; external?: object; run?: object } = {}) {
  return {
    name: 'external ipaas',
    broker: { plugin: 'memory', bus },
    producer: {
      devices: 4,
      rate: '10/s',
      duration: '3s',
      warmup: '1s',
      topic: 'ext/{device}/telemetry',
      payload: {
        lastUpdated: '{iso}',
        unitName: 'unit-{device}',
        n: '{seq}',
        temperature: '{float:15:30:1}',
      },
      qos: 1,
      ...over.producer,
    },
    consumer: {
      topic: 'ext/+/action',
      external: { timestampPath: '$.original.lastUpdated', format: 'iso8601', ...over.external },
    },
    slo: { 'e2e.p99': '1h' },
    run: { drain: '1s', ...over.run },
  }
}

async function run(s: object, onSecond?: (r: SecondReport) => void) {
  const resolved = await resolveScenario(s, { env: {} })
  return startRun(resolved, { logger: collectingLogger(), ...(onSecond ? { onSecond } : {}) }).result
}

describe('external iPaaS mode: copied timestamps', () => {
  it('measures latency from the foreign ISO-8601 ms timestamp and counts a missing one invalid', async () => {
    const bus = `ext-${randomUUID()}`
    // It restructures each reading into an action and keeps only `original.lastUpdated` (and the
    // unit name); for unit 3 it "forgets" the timestamp.
    await flow(bus, (t, unit) => ({
      command: 'close-valve',
      original:
        unit === '3' ? { unitName: t.unitName } : { unitName: t.unitName, lastUpdated: t.lastUpdated },
    }))
    const summary = await run(scenario(bus))
    expect(summary.run.status).toBe('completed')
    const e2e = summary.streams.e2e!
    // 4 devices × 10/s: 40 warm-up sends (1 s), 120 measured (3 s). Device 3's 40 lack the path:
    // invalid, whether warm-up or not. Devices 0–2 are measured only after the warm-up.
    expect(e2e.sent).toBe(120)
    expect(summary.invalid).toEqual({ 'no-metadata': 40 })
    expect(e2e.received).toBe(90)
    expect(e2e.lost).toBe(30)
    expect(e2e.latency.raw.count).toBe(90)
    // A foreign message carries no intended send time: no coordinated-omission figure is invented.
    expect(e2e.latency.co).toBeUndefined()
    expect(summary.timestamps).toMatchObject({ source: 'external', resolutionUs: 1000, via: 'timestamp' })
    // Without devicePath the arrivals name no device: no per-device figures are made up.
    expect(summary.devices).toBeUndefined()
    expect(Object.keys(summary.streams).filter((s) => s !== 'e2e' && s !== 'publish-ack')).toEqual([])
  })

  it('seqPath without devicePath is refused up front, naming the field', async () => {
    const bus = `ext-${randomUUID()}`
    await expect(
      resolveScenario(scenario(bus, { external: { seqPath: '$.n' } }), { env: {} }),
    ).rejects.toThrow(/consumer\.external\.seqPath: needs devicePath/)
  })

  it('epoch-ms faster than 1 per ms: every warm-up and measured message is placed, none counted twice', async () => {
    const bus = `ext-${randomUUID()}`
    await flow(bus, (t) => ({ action: 'ok', sentAt: t.sentAt }))
    const summary = await run(
      scenario(bus, {
        // 2,000 msg/s: two sends share most milliseconds, and the warm-up ends inside one.
        producer: {
          devices: 10,
          rate: '200/s',
          duration: '2s',
          warmup: '1s',
          payload: { sentAt: '{nowMs}' },
        },
        external: { timestampPath: '$.sentAt', format: 'epoch-ms' },
        run: { drain: '3s' },
      }),
    )
    const e2e = summary.streams.e2e!
    expect(e2e.sent).toBe(4000)
    expect(
      e2e.received,
      JSON.stringify({ e2e: { ...e2e, latency: undefined }, ts: summary.timestamps, inv: summary.invalid }),
    ).toBe(4000)
    expect(e2e.duplicates).toBe(0)
    expect(e2e.lost).toBe(0)
  })

  it('leftovers of an earlier run are invalid: stale — no reorder, no loss, and the drain waits for the real ones', async () => {
    const bus = `ext-${randomUUID()}`
    // With this run's first reading the flow first flushes an old backlog: 80 actions per device
    // from an hour ago (as a flow still draining, or a topic that keeps history would), with seqs
    // far above this run's.
    let leftovers = 0
    const hourAgo = Date.now() - 3600_000
    const backlog = () => {
      for (let unit = 0; unit < 4; unit++)
        for (let n = 0; n < 80; n++) {
          const old = {
            original: {
              lastUpdated: new Date(hourAgo + n).toISOString(),
              unitName: `unit-${unit}`,
              n: 500 + n,
            },
          }
          leftovers++
          void f.client.publish(`ext/${unit}/action`, { payload: Buffer.from(JSON.stringify(old)), qos: 1 })
        }
    }
    const f = await flow(bus, (t) => {
      if (leftovers === 0) backlog()
      return { original: { lastUpdated: t.lastUpdated, unitName: t.unitName, n: t.n } }
    })
    const seconds: SecondReport[] = []
    const summary = await run(
      scenario(bus, {
        external: { devicePath: '$.original.unitName', seqPath: '$.original.n' },
        run: { drain: '5s' },
      }),
      (r) => seconds.push(r),
    )
    const e2e = summary.streams.e2e!
    expect(leftovers).toBe(320)
    expect(e2e).toMatchObject({
      sent: 120,
      received: 120,
      lost: 0,
      undelivered: 0,
      reordered: 0,
      duplicates: 0,
    })
    expect(summary.invalid).toEqual({ stale: 320 })
    expect(Math.max(...seconds.map((s) => s.gaps))).toBe(0)
    expect(summary.devices?.tracked).toBe(4)
    expect(summary.devices?.worst.loss).toEqual([])
  })

  it('without seqPath the per-second lost estimate moves while nothing arrives', async () => {
    const bus = `ext-${randomUUID()}`
    // The flow goes quiet for two seconds in the middle of the measured time.
    let quietFrom = 0
    await flow(bus, (t) => {
      const now = Date.now()
      quietFrom ||= now + 1500
      return now >= quietFrom && now < quietFrom + 2000
        ? undefined
        : { original: { lastUpdated: t.lastUpdated } }
    })
    const seconds: SecondReport[] = []
    const summary = await run(
      scenario(bus, {
        producer: { devices: 4, rate: '50/s', duration: '5s', warmup: '0s' },
        run: { drain: '2s' },
      }),
      (r) => seconds.push(r),
    )
    const e2e = summary.streams.e2e!
    expect(e2e.lost).toBeGreaterThan(200)
    const estimates = seconds.map((s) => s.lostEstimate ?? -1)
    expect(estimates.every((e) => e >= 0)).toBe(true)
    expect(Math.max(...estimates)).toBeGreaterThan(100)
    // An estimate, so not exact, but of the order of what was lost.
    expect(Math.max(...estimates)).toBeLessThanOrEqual(e2e.sent!)
    expect(estimates[0]).toBe(0)
    console.log(`lost estimate per second: ${estimates.join(' ')}; lost ${e2e.lost} of ${e2e.sent}`)
  })

  it('a timestamp the flow writes in epoch-µs from iotload’s clock reads exactly', async () => {
    const bus = `ext-${randomUUID()}`
    await flow(bus, (t) => ({ at: t.at, done: nowUs() }))
    const summary = await run(
      scenario(bus, {
        producer: { payload: { at: '{now}' } },
        external: { timestampPath: '$.at', format: 'epoch-us', legs: { 'ipaas-out': '$.done' } },
      }),
    )
    expect(summary.timestamps.resolutionUs).toBe(1)
    expect(summary.streams['bridge-consumer']?.latency.raw.count).toBe(120)
  })
})
