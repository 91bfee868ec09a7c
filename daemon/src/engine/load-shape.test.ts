import { ConnectionError } from '@iotload/sdk'
import { afterEach, describe, expect, it } from 'vitest'
import type { SecondReport } from './recorder.ts'
import { type RunOptions, startRun } from './run.ts'
import { ManualClock } from './testing/manual-clock.ts'
import { collectingLogger, memoryScenario, spyPlugin, withPlugin } from './testing/memory-scenario.ts'

// Load shapes on the in-process bus and a self-advancing manual clock: exact, and fast.
const stops: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()))
})

function run(resolved: Parameters<typeof startRun>[0], options: RunOptions = {}) {
  const clock = new ManualClock()
  stops.push(clock.autoAdvance().stop)
  return startRun(resolved, { logger: collectingLogger(), clock, ...options })
}

const relaxed = { generator: { maxEventLoopDelay: '10s' }, drain: '1s' }

describe('a run with stages', () => {
  it('sends what each second of the curve plans, stores that target, and judges the run on the mean', async () => {
    const { resolved } = await memoryScenario({
      producer: {
        devices: 6,
        warmup: '1s',
        stages: [
          { duration: '3s', target: '300/s', ramp: 'step' },
          { duration: '2s', target: '100/s', ramp: 'linear' },
          { duration: '2s', target: '600/s', ramp: 'step' },
        ],
        topic: 'shape/{device}',
      },
      run: relaxed,
    })
    const seconds: SecondReport[] = []
    const summary = await run(resolved, { onSecond: (r) => seconds.push(r) }).result
    const targets = seconds.slice(0, 7).map((r) => r.targetRate)
    // 300 for 3 s, then down to 100 over 2 s (means 250 and 150), then 600.
    expect(targets).toEqual([300, 300, 300, 250, 150, 600, 600])
    const sent = seconds.slice(0, 7).map((r) => r.counters.sent + r.counters.sentWarmup)
    for (const [i, n] of sent.entries()) expect(Math.abs(n - targets[i]!)).toBeLessThanOrEqual(1)
    expect(summary.target.stages).toEqual([
      { durationS: 3, target: 300, ramp: 'step' },
      { durationS: 2, target: 100, ramp: 'linear' },
      { durationS: 2, target: 600, ramp: 'step' },
    ])
    // Measured: seconds 1–6 after a 1 s warm-up, 2200 planned sends over 6 s.
    expect(summary.run.measuredSeconds).toBe(6)
    expect(summary.target.totalRate).toBeCloseTo(2200 / 6, 6)
    expect(summary.streams.e2e).toMatchObject({ sent: 2200, received: 2200, lost: 0 })
    expect(summary.generator?.targetRate).toBeCloseTo(2200 / 6, 6)
    expect(summary.generator?.limited).toBe(false)
  })

  it('a run stopped early is judged on what was planned up to the stop', async () => {
    const { resolved } = await memoryScenario({
      producer: { devices: 2, stages: [{ duration: '10s', target: '1000/s' }], topic: 's/{device}' },
      run: relaxed,
    })
    const handle = run(resolved, {
      onSecond: (r) => {
        if (r.second === 3) handle.stop()
      },
    })
    const summary = await handle.result
    expect(summary.run.status).toBe('stopped')
    const m = summary.run.measuredSeconds
    // A ramp 0 → 1000/s over 10 s plans 50·t² sends by t: the mean over the measured part is 50·t.
    expect(summary.target.totalRate).toBeCloseTo(50 * m, 0)
    expect(summary.generator?.limited).toBe(false)
  })
})

describe('connection shapes', () => {
  it('connectRate ramps the fleet in; connect times and failures by cause are recorded', async () => {
    const { resolved } = await memoryScenario({
      producer: {
        devices: 50,
        rate: '1/s',
        duration: '1s',
        connectRate: '100/s',
        connectConcurrency: 10,
        clientId: 'ramp-{device}',
      },
      run: relaxed,
    })
    const failing = withPlugin(
      resolved,
      spyPlugin(resolved.broker.plugin, [], {
        onConnect: (id) => {
          if (id === 'ramp-7' || id === 'ramp-9') throw new ConnectionError('auth', 'not authorized')
          if (id === 'ramp-8') throw new ConnectionError('timeout', 'no CONNACK')
        },
      }),
    )
    const summary = await run(failing).result
    expect(summary.run.status).toBe('failed')
    const c = summary.connections!
    // 50 connects at 100/s: the last one starts 490 ms after the first.
    expect(c.connectMs).toBeGreaterThanOrEqual(490)
    expect(c.connectMs).toBeLessThan(520)
    expect(c).toMatchObject({
      connections: 50,
      failed: 3,
      connectRate: 100,
      failuresByCause: { auth: 2, timeout: 1 },
    })
    expect(c.connectLatencyUs?.count).toBe(50)
    expect(summary.error).toMatch(/3 of 50 device connections failed/)
  })

  it('a reconnect storm drops and reopens that share of the fleet at once; nothing is lost, the wait shows in co', async () => {
    const { resolved, bus } = await memoryScenario({
      producer: {
        devices: 10,
        rate: '20/s',
        duration: '4s',
        qos: 1,
        topic: 'storm/{device}',
        reconnectStorm: { at: '2s', fraction: 0.5 },
      },
      run: relaxed,
    })
    const summary = await run(resolved).result
    expect(summary.run.status).toBe('completed')
    const storm = summary.connections?.storm
    expect(storm).toMatchObject({ atS: 2, dropped: 5, reconnected: 5, failed: 0, failuresByCause: {} })
    expect(storm?.connectLatencyUs.count).toBe(5)
    expect(summary.streams.e2e).toMatchObject({ sent: 800, received: 800, lost: 0 })
    expect(bus.connections).toBe(0)
  })
})
