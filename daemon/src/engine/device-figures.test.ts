import { describe, expect, it } from 'vitest'
import { DeviceFigures, worstDevices } from './device-figures.ts'
import { DeviceLatencySketch } from './device-latency-sketch.ts'
import { SequenceTracker } from './sequence-tracker.ts'

describe('DeviceLatencySketch', () => {
  it('reports percentiles to within 1%, never above the max, in about 1 KB', () => {
    const s = new DeviceLatencySketch()
    for (let v = 1; v <= 10_000; v++) s.record(v * 10) // 10 µs … 100 ms, uniform
    expect(Math.abs(s.percentile(50) - 50_000) / 50_000).toBeLessThan(0.01)
    expect(Math.abs(s.percentile(99) - 99_000) / 99_000).toBeLessThan(0.01)
    expect(s.percentile(100)).toBe(100_000)
    expect(s.max).toBe(100_000)
    expect(s.count).toBe(10_000)
    expect(new DeviceLatencySketch().percentile(99)).toBe(0)
    const one = new DeviceLatencySketch()
    one.record(0.2)
    expect(one.percentile(50)).toBe(1)
  })

  it('grows toward the values that need room: a latency draining step by step stays a few KB', () => {
    // A backlog draining from 5 ms to 95 µs, a bucket lower every few arrivals: each step below
    // the span once grew the array by half its length at the top, to 1.4 M buckets (5.5 MB per
    // device, copied on every growth) and 2 µs per record.
    const s = new DeviceLatencySketch()
    for (let v = 5000; v >= 95; v -= 2) s.record(v)
    for (let v = 95; v <= 400_000; v *= 1.01) s.record(v)
    expect(s.buckets).toBeLessThan(2 * Math.ceil(Math.log(400_000 / 95) / Math.log(1.02)))
    expect(Math.abs(s.percentile(0.001) - 95) / 95).toBeLessThan(0.011)
    expect(s.percentile(100)).toBe(s.max)
    const wild = new DeviceLatencySketch()
    for (const v of [Number.MAX_VALUE, Number.POSITIVE_INFINITY, Number.NaN, -5, 1e300, 3]) wild.record(v)
    expect(wild.count).toBe(6)
    expect(wild.buckets).toBeLessThan(40_000)
    expect(wild.percentile(50)).toBe(3) // 1, 1, 3 | 1e300, MAX_VALUE, Infinity
  })
})

describe('DeviceFigures', () => {
  it('splits a device’s missing messages into lost (gaps) and undelivered (tail), as for the run', () => {
    const f = new DeviceFigures()
    const seqs = new SequenceTracker()
    // Device 7: seqs 0–1 warm-up, 2–9 measured; 3 and 4 never arrive, 8 and 9 neither (the tail).
    for (let seq = 0; seq < 10; seq++) f.onSent(7, seq, seq < 2)
    for (const seq of [0, 1, 2, 5, 6, 7]) {
      const verdict = seqs.see(7, seq)
      if (seq >= 2) f.onMeasured(7, verdict === 'late', 1000 + seq)
    }
    f.onDuplicate(7)
    expect(f.isWarmupSeq(7, 1)).toBe(true)
    expect(f.isWarmupSeq(7, 2)).toBe(false)
    expect(f.isWarmupSeq(7, 10)).toBeUndefined()
    expect(f.isWarmupSeq(8, 0)).toBeUndefined()
    const [d] = f.figures(seqs)
    expect(d).toMatchObject({
      device: 7,
      sent: 8,
      received: 4,
      lost: 2,
      undelivered: 2,
      duplicates: 1,
      count: 4,
    })
    // Without sequence numbers everything missing is lost.
    expect(f.figures(undefined)[0]).toMatchObject({ lost: 4, undelivered: 0 })
  })

  it('ranks the worst devices, leaving out those with nothing to show', () => {
    const mk = (device: number, missing: number, duplicates: number, p99: number) => ({
      device,
      sent: 10,
      received: 10 - missing,
      lost: missing,
      undelivered: 0,
      duplicates,
      reordered: 0,
      count: 10 - missing,
      p50: p99 / 2,
      p99,
      max: p99,
    })
    const all = [mk(1, 0, 0, 500), mk(2, 3, 0, 900), mk(3, 1, 2, 700), mk(4, 3, 0, 100)]
    const w = worstDevices(all, 2)
    expect(w.tracked).toBe(4)
    expect(w.worst.loss.map((d) => d.device)).toEqual([2, 4])
    expect(w.worst.duplicates.map((d) => d.device)).toEqual([3])
    expect(w.worst.p99.map((d) => d.device)).toEqual([2, 3])
  })
})
