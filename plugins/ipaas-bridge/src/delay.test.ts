import { bridgeConfigSchema, monoUs } from '@iotload/sdk'
import { describe, expect, it } from 'vitest'
import { compileDelay, DelayTimer } from './delay.ts'

function parseDelay(delay: unknown) {
  return bridgeConfigSchema.parse({ from: 'a', to: 'b', delay }).delay
}

function seeded(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function meanOf(sample: () => number, n = 20_000): number {
  let sum = 0
  for (let i = 0; i < n; i++) sum += sample()
  return sum / n
}

describe('compileDelay', () => {
  it('a bare duration is a fixed delay in µs; none or 0 means no delay', () => {
    expect(compileDelay(parseDelay('5ms'))!()).toBe(5000)
    expect(compileDelay(parseDelay({ distribution: 'fixed', value: '250us' }))!()).toBe(250)
    expect(compileDelay(undefined)).toBeUndefined()
    expect(compileDelay(parseDelay('0ms'))).toBeUndefined()
  })
  it('samples uniform, normal and exponential with the configured means, never negative', () => {
    const rnd = seeded(42)
    const uni = compileDelay(parseDelay({ distribution: 'uniform', min: '2ms', max: '8ms' }), rnd)!
    const norm = compileDelay(parseDelay({ distribution: 'normal', mean: '5ms', stddev: '1ms' }), rnd)!
    const exp = compileDelay(parseDelay({ distribution: 'exponential', mean: '5ms' }), rnd)!
    expect(meanOf(uni)).toBeGreaterThan(4900)
    expect(meanOf(uni)).toBeLessThan(5100)
    expect(meanOf(norm)).toBeGreaterThan(4950)
    expect(meanOf(norm)).toBeLessThan(5050)
    expect(meanOf(exp)).toBeGreaterThan(4800)
    expect(meanOf(exp)).toBeLessThan(5200)
    const wide = compileDelay(parseDelay({ distribution: 'normal', mean: '1ms', stddev: '5ms' }), rnd)!
    for (let i = 0; i < 1000; i++) expect(wide()).toBeGreaterThanOrEqual(0)
    for (let i = 0; i < 1000; i++) {
      const v = uni()
      expect(v).toBeGreaterThanOrEqual(2000)
      expect(v).toBeLessThanOrEqual(8000)
    }
  })
  it('rejects a malformed distribution', () => {
    expect(() => parseDelay({ distribution: 'poisson', mean: '1ms' })).toThrow()
    expect(() => parseDelay({ distribution: 'uniform', min: '1ms' })).toThrow()
  })
})

describe('DelayTimer', () => {
  it('never fires early and fires in deadline order', async () => {
    const timer = new DelayTimer()
    const fired: Array<{ id: number; late: number }> = []
    const deadlines: number[] = []
    const delays = [5000, 1000, 3000, 300, 5000]
    const done = new Promise<void>((resolve) => {
      delays.forEach((d, id) => {
        const start = monoUs()
        deadlines[id] = start + d
        timer.after(d, () => {
          fired.push({ id, late: monoUs() - start - d })
          if (fired.length === delays.length) resolve()
        })
      })
    })
    await done
    // Deadline order (not delay order: a loaded machine may pause between registrations).
    const byDeadline = deadlines.map((due, id) => ({ due, id })).sort((x, y) => x.due - y.due || x.id - y.id)
    expect(fired.map((f) => f.id)).toEqual(byDeadline.map((x) => x.id))
    for (const f of fired) expect(f.late).toBeGreaterThanOrEqual(0)
    expect(timer.size).toBe(0)
  })
  it('clear() drops pending callbacks', async () => {
    const timer = new DelayTimer()
    let called = false
    timer.after(2000, () => {
      called = true
    })
    timer.clear()
    await new Promise((r) => setTimeout(r, 10))
    expect(called).toBe(false)
  })
})
