import { afterEach, describe, expect, it } from 'vitest'
import { startRun } from './run.ts'
import { ManualClock } from './testing/manual-clock.ts'
import { collectingLogger, memoryScenario } from './testing/memory-scenario.ts'

const stops: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()))
})

// A 60 s run at 1,000/s stopped after ~5 measured seconds (the Ctrl-C case): its rates
// and its generator verdict are over the time measured, not the 60 s planned. On the memory bus
// and a manual clock, so the figures do not depend on how loaded the machine is.
describe('a 1,000/s run stopped after ~5 s', () => {
  it('reports ≈1,000/s sent and received (±3 %) over the measured seconds, and is not LIMITED', async () => {
    const { resolved } = await memoryScenario({
      producer: {
        devices: 10,
        totalRate: '1000/s',
        duration: '60s',
        warmup: '1s',
        topic: 'stop/{device}',
        qos: 1,
      },
      // The real event loop of a busy test machine is not what this test is about.
      run: { generator: { maxEventLoopDelay: '10s' } },
    })
    const clock = new ManualClock()
    const auto = clock.autoAdvance()
    stops.push(auto.stop)
    const handle = startRun(resolved, {
      clock,
      logger: collectingLogger(),
      onSecond: (r) => r.second === 6 && handle.stop(),
    })
    const summary = await handle.result
    expect(summary.run.status).toBe('stopped')
    expect(summary.run.measuredSeconds).toBeGreaterThan(4.5)
    expect(summary.run.measuredSeconds).toBeLessThan(6.5)
    const e2e = summary.streams.e2e!
    expect(e2e.sendRate).toBeGreaterThan(970)
    expect(e2e.sendRate).toBeLessThan(1030)
    expect(e2e.rate).toBeGreaterThan(970)
    expect(e2e.rate).toBeLessThan(1030)
    expect(summary.generator!.achievedSendRate).toBeGreaterThan(970)
    expect(summary.generator!.reasons).toEqual([])
    expect(summary.generatorLimited).toBe(false)
    // No percentile above the largest value recorded, in any stream.
    for (const [name, s] of Object.entries(summary.streams))
      for (const l of [s.latency.raw, s.latency.co])
        if (l) for (const p of [l.p50, l.p90, l.p99, l.p999]) expect(p, name).toBeLessThanOrEqual(l.max)
  })
})
