import { randomUUID } from 'node:crypto'
import { requireService } from '@iotload/sdk/testing'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../log/logger.ts'
import { resolveScenario } from '../scenario/load-scenario.ts'
import type { SecondReport } from './recorder.ts'
import { startRun } from './run.ts'

// Load shapes against the shared Mosquitto, in real time. Each test has its own topic tree.
const mosquitto = await requireService('Mosquitto', '127.0.0.1', 1883)
const broker = { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883', version: '5' }
const quiet = createLogger({ level: 'error' })

describe.skipIf(!mosquitto)('load shapes through Mosquitto', () => {
  it('three stages: each second away from the steps sends its stage’s target within 2 %', async () => {
    const tag = `shape-${randomUUID().slice(0, 8)}`
    const resolved = await resolveScenario(
      {
        name: 'three stages',
        broker,
        producer: {
          devices: 20,
          stages: [
            { duration: '4s', target: '1000/s', ramp: 'step' },
            { duration: '4s', target: '3000/s', ramp: 'step' },
            { duration: '4s', target: '1000/s' },
          ],
          topic: `${tag}/{device}`,
        },
        run: { drain: '2s' },
      },
      { env: {} },
    )
    const seconds: SecondReport[] = []
    const summary = await startRun(resolved, { logger: quiet, onSecond: (r) => seconds.push(r) }).result
    expect(summary.run.status).toBe('completed')
    // The third stage ramps 3000 → 1000/s: its seconds' targets are the means 2750, 2250, 1750, 1250.
    expect(seconds.slice(0, 12).map((r) => r.targetRate)).toEqual([
      1000, 1000, 1000, 1000, 3000, 3000, 3000, 3000, 2750, 2250, 1750, 1250,
    ])
    // Away from the steps (the first second of each stage holds the step): within 2 % of the
    // target. Sends are counted by when they went out, so a stall of this shared machine moves
    // sends across a second boundary: that shift, bounded by the largest send lag the generator
    // measured, is allowed on top (none when it kept its schedule), for each second and for each
    // stage's total (a stall at a stage's edge moves sends into the next stage).
    const shift = (summary.generator?.lagUs.max ?? 0) / 1e6
    const sentIn = (r: SecondReport) => r.counters.sent + r.counters.sentWarmup
    for (const stage of [
      [1, 2, 3],
      [5, 6, 7],
      [9, 10, 11],
    ]) {
      const rows = seconds.filter((r) => stage.includes(r.second))
      for (const r of rows)
        expect(
          Math.abs(sentIn(r) - r.targetRate!) / r.targetRate!,
          `second ${r.second}: ${sentIn(r)}`,
        ).toBeLessThanOrEqual(0.02 + shift)
      const sent = rows.reduce((n, r) => n + sentIn(r), 0)
      const target = rows.reduce((n, r) => n + r.targetRate!, 0)
      expect(Math.abs(sent - target) / target, `seconds ${stage.join(',')}: ${sent}`).toBeLessThanOrEqual(
        0.02 + shift,
      )
    }
    expect(summary.streams.e2e).toMatchObject({ sent: 4 * 1000 + 4 * 3000 + 4 * 2000, lost: 0 })
    expect(summary.target.totalRate).toBe(2000)
  }, 40_000)

  it('a connect ramp at 200/s opens 2,000 connections in 10 s ± 10 %, then a storm reopens half at once', async () => {
    const tag = `ramp-${randomUUID().slice(0, 8)}`
    const resolved = await resolveScenario(
      {
        name: 'ramp and storm',
        broker,
        producer: {
          devices: 2000,
          totalRate: '500/s',
          duration: '4s',
          connectRate: '200/s',
          connectConcurrency: 200,
          reconnectStorm: { at: '1s', fraction: 0.5 },
          topic: `${tag}/{device}`,
          qos: 1,
        },
        run: { drain: '5s' },
      },
      { env: {} },
    )
    const summary = await startRun(resolved, { logger: quiet }).result
    expect(summary.run.status).toBe('completed')
    const c = summary.connections!
    expect(c).toMatchObject({ connections: 2000, failed: 0, connectRate: 200, failuresByCause: {} })
    expect(c.connectMs).toBeGreaterThanOrEqual(9000)
    expect(c.connectMs).toBeLessThanOrEqual(11_000)
    expect(c.connectLatencyUs?.count).toBe(2000)
    expect(c.storm).toMatchObject({ atS: 1, dropped: 1000, reconnected: 1000, failed: 0 })
    expect(c.storm?.connectLatencyUs.count).toBe(1000)
    // Devices buffer while they reconnect: QoS 1 sends wait for the new connection, nothing is lost.
    expect(summary.streams.e2e).toMatchObject({ sent: 2000, lost: 0 })
  }, 60_000)
})
