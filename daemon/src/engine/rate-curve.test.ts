import { describe, expect, it } from 'vitest'
import { RateCurve } from './rate-curve.ts'

const S = 1e6

describe('RateCurve', () => {
  it('a constant rate: the integral, due times and counts of the old fixed interval', () => {
    const c = RateCurve.constant(3000, 10_000)
    expect(c.total).toBe(30)
    expect(c.planned).toBe(30)
    expect(c.timeOf(7)).toBe((7 * 1e6) / 3000)
    expect(c.timeOf(30)).toBe(Infinity)
    expect(c.dueBy(0)).toBe(1)
    expect(c.dueBy(-1)).toBe(0)
    expect(c.meanRate(0, 5000)).toBe(3000)
  })

  it('a linear ramp integrates to the area under it, and send n is due where the integral reaches n', () => {
    const c = RateCurve.fromStages([{ durationMs: 10_000, target: 1000, ramp: 'linear' }])
    expect(c.total).toBeCloseTo(5000, 9)
    expect(c.peak).toBe(1000)
    for (const t of [1, 2.5, 7, 10]) expect(c.integral(t * S)).toBeCloseTo(50 * t * t, 6)
    for (const n of [1, 10, 499, 4999]) expect(c.integral(c.timeOf(n))).toBeCloseTo(n, 6)
    expect(c.rateAt(5 * S)).toBeCloseTo(500, 9)
  })

  it('steps, holds, ramps down and zero-rate stretches', () => {
    const c = RateCurve.fromStages([
      { durationMs: 2000, target: 100, ramp: 'step' },
      { durationMs: 1000, target: 0, ramp: 'step' },
      { durationMs: 2000, target: 300, ramp: 'step' },
      { durationMs: 2000, target: 100, ramp: 'linear' },
    ])
    expect(c.total).toBeCloseTo(200 + 0 + 600 + 400, 9)
    // Nothing is due in the silent second: send 200 waits for the third stage.
    expect(c.timeOf(199)).toBeCloseTo(1.99 * S, 3)
    expect(c.timeOf(200)).toBe(3 * S)
    expect(c.dueBy(2.5 * S)).toBe(200)
    expect(c.meanRate(3 * S, 5 * S)).toBeCloseTo(300, 9)
    expect(c.meanRate(5 * S, 7 * S)).toBeCloseTo(200, 9)
    // Due times never go backwards.
    let last = -1
    for (let n = 0; n < c.planned; n++) {
      const t = c.timeOf(n)
      expect(t).toBeGreaterThanOrEqual(last)
      last = t
    }
    expect(c.timeOf(c.planned)).toBe(Infinity)
  })

  it('a start rate carries into the first linear stage', () => {
    const c = RateCurve.fromStages([{ durationMs: 1000, target: 300, ramp: 'linear' }], 100)
    expect(c.total).toBeCloseTo(200, 9)
    expect(c.rateAt(0)).toBe(100)
  })
})
