import { describe, expect, it } from 'vitest'
import { HIGHEST_US, LatencyHistogram, mergeEncoded } from './histogram.ts'

describe('LatencyHistogram', () => {
  it('never throws on out-of-range values and counts the overflow', () => {
    const h = new LatencyHistogram()
    expect(() => {
      h.record(-5)
      h.record(0)
      h.record(Number.MAX_SAFE_INTEGER)
      h.record(Number.NaN)
      h.record(HIGHEST_US * 10)
    }).not.toThrow()
    expect(h.overflow).toBeGreaterThanOrEqual(2)
    expect(h.count).toBeGreaterThanOrEqual(4)
  })

  it('keeps 3 significant digits from 1 µs to 1 h', () => {
    const h = new LatencyHistogram()
    h.record(1)
    h.record(1234)
    h.record(3_599_000_000)
    const s = h.stats()
    expect(s.min).toBe(1)
    expect(Math.abs(s.p50 - 1234) / 1234).toBeLessThan(0.001)
    expect(Math.abs(s.max - 3_599_000_000) / 3_599_000_000).toBeLessThan(0.001)
  })

  it('computes the same percentiles in one pass as getValueAtPercentile', () => {
    for (const spread of [10, 1000, 5_000_000]) {
      const h = new LatencyHistogram(64)
      let x = 7
      for (let i = 0; i < 20_000; i++) {
        x = (x * 48271) % 2147483647
        h.record(1 + (x % spread) * (i % 7 === 0 ? 40 : 1))
      }
      const s = h.stats()
      const clamped = (p: number) => Math.min(h.h.getValueAtPercentile(p), h.h.maxValue)
      expect(s.p50).toBe(clamped(50))
      expect(s.p90).toBe(clamped(90))
      expect(s.p99).toBe(clamped(99))
      expect(s.p999).toBe(clamped(99.9))
      expect(Math.abs(s.mean - h.h.mean) / h.h.mean).toBeLessThan(1e-3)
    }
  })

  it('never reports a percentile above the largest value recorded', () => {
    const h = new LatencyHistogram()
    for (let i = 0; i < 1000; i++) h.record(5000 + (i % 5))
    for (let i = 0; i < 10; i++) h.record(5704)
    const s = h.stats()
    // 5704 lies in a bucket whose highest equivalent value is 5707: p99.9 must not read 5707.
    expect(h.h.getValueAtPercentile(99.95)).toBeGreaterThan(5704)
    expect(s.max).toBe(5704)
    for (const p of [s.p50, s.p90, s.p99, s.p999]) expect(p).toBeLessThanOrEqual(s.max)
    expect(s.p999).toBe(5704)
  })

  it('merges encoded histograms exactly', () => {
    const a = new LatencyHistogram()
    const b = new LatencyHistogram()
    const all = new LatencyHistogram()
    for (let i = 1; i <= 1000; i++) {
      a.record(i * 7)
      all.record(i * 7)
      b.record(i * 13)
      all.record(i * 13)
    }
    const merged = mergeEncoded([a.encode(), b.encode()])
    expect(merged.totalCount).toBe(2000)
    for (const p of [50, 90, 99, 99.9])
      expect(merged.getValueAtPercentile(p)).toBe(all.h.getValueAtPercentile(p))
  })
})
