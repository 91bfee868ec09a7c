import { afterEach, describe, expect, it } from 'vitest'
import { type RunHandle, type RunOptions, startRun } from './run.ts'
import { ManualClock } from './testing/manual-clock.ts'
import { collectingLogger, memoryScenario } from './testing/memory-scenario.ts'
import { recordingStore } from './testing/recording-store.ts'

// Whole runs on the in-process bus, driven by a clock that jumps from timer to timer: many
// simulated seconds take milliseconds, and nothing depends on how loaded the machine is.
const stops: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()))
})

/** Starts a run on a self-advancing manual clock. */
function run(resolved: Parameters<typeof startRun>[0], options: RunOptions = {}): RunHandle {
  const clock = new ManualClock()
  const auto = clock.autoAdvance()
  stops.push(auto.stop)
  return startRun(resolved, { logger: collectingLogger(), clock, ...options })
}

const fleet = { devices: 5, rate: '10/s', duration: '10s', warmup: '2s', topic: 'fleet/{device}', qos: 1 }
// The real event loop of a busy test machine is not what these tests are about.
const relaxed = { generator: { maxEventLoopDelay: '10s' } }

describe('startRun on the memory broker', () => {
  it('a 10-second run: every measured send arrives once, per-second reports, a stored summary', async () => {
    const { resolved, bus } = await memoryScenario({ producer: fleet, run: relaxed, slo: { loss: 0 } })
    const store = recordingStore()
    const seconds: number[] = []
    const summary = await run(resolved, { id: 'run-10s', store, onSecond: (r) => seconds.push(r.second) })
      .result
    expect(summary.run).toMatchObject({ id: 'run-10s', status: 'completed', measuredSeconds: 10 })
    const e2e = summary.streams.e2e!
    expect(e2e).toMatchObject({ sent: 500, received: 500, lost: 0, duplicates: 0, invalid: 0 })
    expect(e2e.latency.raw.count).toBe(500)
    expect(e2e.latency.co!.count).toBe(500)
    expect(summary.streams['publish-ack']!.latency.raw.count).toBe(500)
    expect(summary.generator).toMatchObject({ targetRate: 50, limited: false })
    expect(summary.generator!.achievedSendRate).toBeCloseTo(50, 0)
    expect(summary.connections).toMatchObject({ devices: 5, connections: 5, failed: 0, disconnects: 0 })
    expect(summary.sloPassed).toBe(true)
    // Seconds 0–11 of the schedule, and the open one closed at the end.
    expect(seconds.slice(0, 12)).toEqual(Array.from({ length: 12 }, (_, i) => i))
    expect(store.writes.seconds.map((s) => s.second)).toEqual(seconds)
    expect(store.writes.seconds.filter((s) => s.warmup).map((s) => s.second)).toEqual([0, 1])
    expect(store.writes.statuses).toEqual(['connecting', 'running', 'draining', 'completed'])
    expect(store.writes.summaryRows).toBeGreaterThan(0)
    expect(bus.connections).toBe(0)
  })

  it('loss on the path is counted as lost, never as latency', async () => {
    const { resolved } = await memoryScenario(
      { producer: { ...fleet, duration: '5s', warmup: 0 }, run: { ...relaxed, drain: '1s' } },
      { loss: 0.1 },
    )
    const e2e = (await run(resolved).result).streams.e2e!
    expect(e2e.sent).toBe(250)
    expect(e2e.lost).toBeGreaterThan(0)
    // Every missing message is either in a gap (lost) or after its device's last arrival.
    expect(e2e.received! + e2e.lost! + e2e.undelivered!).toBe(250)
    expect(e2e.latency.raw.count).toBe(e2e.received)
  })

  it("a message dropped after its device's last arrival is undelivered, not lost", async () => {
    // The memory broker's loss is seeded by client id: with a fixed one, which messages it drops
    // is fixed too. Devices whose last messages are dropped have an undelivered tail.
    const { resolved } = await memoryScenario(
      {
        producer: { ...fleet, duration: '5s', warmup: 0, clientId: 'tail-{device}' },
        run: { ...relaxed, drain: '1s' },
      },
      { loss: 0.3 },
    )
    const summary = await run(resolved).result
    const e2e = summary.streams.e2e!
    expect(e2e.received! + e2e.lost! + e2e.undelivered!).toBe(250)
    expect(e2e.undelivered).toBeGreaterThan(0)
    expect(e2e.lost).toBeGreaterThan(0)
    // The loss SLO counts both.
    expect(summary.run.measured).toBe(true)
  })

  it('a broker outage mid-run is survived, reported, and every send is received or lost', async () => {
    const { resolved, bus } = await memoryScenario({
      producer: { ...fleet, devices: 20, rate: '20/s', duration: '6s', warmup: 0 },
      run: { ...relaxed, drain: '2s' },
    })
    let cut = false
    const handle = run(resolved, {
      onSecond: (r) => {
        if (r.second === 2 && !cut) {
          cut = true
          bus.disconnect()
        }
        if (r.second === 3) bus.reconnect()
      },
    })
    const summary = await handle.result
    expect(summary.run.status).toBe('completed')
    const e2e = summary.streams.e2e!
    expect(e2e.sent).toBe(20 * 20 * 6)
    expect(e2e.lost).toBeGreaterThan(0)
    expect(e2e.received! + e2e.lost!).toBe(e2e.sent)
    // 20 devices and a consumer each report the outage and the recovery.
    expect(summary.connections).toMatchObject({ disconnects: 21, reconnects: 21 })
  })

  it('stop() ends the schedule early with status stopped, keeping what was recorded', async () => {
    const { resolved, bus } = await memoryScenario({ producer: { ...fleet, duration: '1h' }, run: relaxed })
    const handle = run(resolved, { onSecond: (r) => r.second === 4 && handle.stop() })
    const summary = await handle.result
    expect(summary.run.status).toBe('stopped')
    expect(summary.streams.e2e!.sent).toBeGreaterThan(0)
    expect(summary.streams.e2e!.sent).toBeLessThan(200)
    expect(handle.live().status).toBe('stopped')
    expect(bus.connections).toBe(0)
  })

  it('an unreachable broker fails the run with the reason, and leaves nothing open', async () => {
    const { resolved, bus } = await memoryScenario({ producer: fleet })
    bus.disconnect()
    const store = recordingStore()
    const summary = await run(resolved, { store }).result
    expect(summary.run.status).toBe('failed')
    expect(summary.error).toMatch(/\[broker-memory\] bus '.*' is down/)
    expect(summary.generator).toBeNull()
    expect(store.writes.statuses).toEqual(['connecting', 'failed'])
    bus.reconnect()
    expect(bus.connections).toBe(0)
  })

  it('a store that fails mid-run is logged, not fatal', async () => {
    const { resolved } = await memoryScenario({ producer: { ...fleet, duration: '2s' }, run: relaxed })
    const logger = collectingLogger()
    const summary = await run(resolved, { store: recordingStore({ failAfterCreate: true }), logger }).result
    expect(summary.run.status).toBe('completed')
    expect(summary.streams.e2e!.received).toBe(100)
    expect(logger.lines.some((l) => l.includes('store write failed'))).toBe(true)
    expect(logger.lines.some((l) => l.includes('store update failed'))).toBe(true)
  })

  it('live() follows the run', async () => {
    const { resolved } = await memoryScenario({ producer: { ...fleet, warmup: 0 }, run: relaxed })
    const seen: Array<{ second: number; sent: number }> = []
    const handle = run(resolved, { onSecond: () => seen.push(handle.live()) })
    await handle.result
    expect(seen[3]).toMatchObject({ status: 'running', second: 4, sent: 200 })
    expect(handle.live()).toMatchObject({
      status: 'completed',
      sent: 500,
      received: 500,
      gaps: 0,
      invalid: 0,
    })
  })
})
