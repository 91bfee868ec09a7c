import { describe, expect, it } from 'vitest'
import { GeneratorHealth } from './generator-health.ts'
import { fixedEventLoopDelay } from './testing/fixed-event-loop-delay.ts'

const limits = { maxLagUs: 10_000, maxEventLoopDelayUs: 50_000, maxInFlight: 100 }

/** A health tracker fed `sends` lags of `lagUs` (the last tenth marked final). */
function withLags(lagUs: (i: number) => number, sends = 1000, delay = fixedEventLoopDelay(100, 1000, 2000)) {
  const h = new GeneratorHealth(limits, { eventLoopDelay: delay })
  h.start()
  for (let i = 0; i < sends; i++) h.recordLag(lagUs(i), i >= sends * 0.9)
  return h
}

describe('GeneratorHealth', () => {
  it('a healthy generator: small lag and delay, a short backlog, the target rate met', () => {
    const h = withLags((i) => 100 + (i % 50))
    for (let i = 0; i < 10; i++) h.publishStarted()
    for (let i = 0; i < 10; i++) h.publishSettled()
    const r = h.report(1000, 999.5)
    expect(r).toMatchObject({
      limited: false,
      reasons: [],
      inFlightPeak: 10,
      targetRate: 1000,
      achievedSendRate: 999.5,
      eventLoopDelayUs: { p50: 100, p99: 1000, max: 2000 },
    })
    expect(r.lagUs.p50).toBeGreaterThanOrEqual(100)
    expect(r.lagUs.max).toBeLessThan(160)
    expect(h.inFlight).toBe(0)
  })

  it('a lag p99 over the limit marks the result limited', () => {
    const r = withLags((i) => (i % 50 === 0 && i < 900 ? 50_000 : 100)).report(1000, 1000)
    expect(r.limited).toBe(true)
    expect(r.reasons).toEqual(['send lag p99 50.0ms > 10.0ms'])
  })

  it('a lag that grows to the end says the generator fell behind for good', () => {
    // Only the final tenth is late: the overall p99 just clears the limit, the final one does not.
    const r = withLags((i) => (i >= 995 ? 30_000 : 100)).report(1000, 1000)
    expect(r.reasons).toEqual(['send lag still 30.0ms (p99) at the end of the schedule'])
    expect(r.finalLagP99Us).toBeGreaterThan(29_000)
  })

  it('event-loop delay over the limit, in µs from the ns histogram', () => {
    const r = withLags(() => 100, 100, fixedEventLoopDelay(20_000, 80_000, 120_000)).report(0, 0)
    expect(r.eventLoopDelayUs).toEqual({ p50: 20_000, p99: 80_000, max: 120_000 })
    expect(r.reasons).toEqual(['event-loop delay p99 80.0ms > 50.0ms'])
  })

  it('a publish backlog over the limit, and a send rate under 99% of the target', () => {
    const h = withLags(() => 100)
    for (let i = 0; i < 101; i++) h.publishStarted()
    const r = h.report(1000, 989)
    expect(r.reasons).toEqual([
      'publish backlog peaked at 101 in flight',
      'achieved send rate 989.0/s < 99% of target 1000.0/s',
    ])
    expect(h.inFlight).toBe(101)
  })

  it('no target rate, no rate verdict', () => {
    expect(withLags(() => 100).report(0, 0).reasons).toEqual([])
  })

  it('drives the delay source: enable on start, reset when warm-up ends, disable on stop', () => {
    const delay = fixedEventLoopDelay(1, 1, 1)
    const h = new GeneratorHealth(limits, { eventLoopDelay: delay })
    h.start()
    h.resetEventLoopDelay()
    h.stop()
    expect(delay.calls).toEqual(['enable', 'reset', 'disable'])
  })

  it("uses Node's event-loop delay monitor by default", () => {
    const h = new GeneratorHealth(limits)
    h.start()
    h.recordLag(5, false)
    h.stop()
    const r = h.report(10, 10)
    expect(Number.isFinite(r.eventLoopDelayUs.p99)).toBe(true)
    expect(r.lagUs.max).toBe(5)
  })
})
