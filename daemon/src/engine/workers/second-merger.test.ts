import { describe, expect, it } from 'vitest'
import { Counters } from '../counters.ts'
import { encodeHistogram, mergeEncoded } from '../histogram.ts'
import { LatencyStream } from '../latency-stream.ts'
import type { SecondReport } from '../recorder.ts'
import { cumulativeOf, SecondMerger } from './second-merger.ts'

/** A seeded generator of latencies spread over four decades, with a heavy tail. */
function latencies(seed: number, n: number): Array<[number, number]> {
  let x = seed
  const out: Array<[number, number]> = []
  for (let i = 0; i < n; i++) {
    x = (x * 48271) % 2147483647
    const raw = 20 + (x % 5000) * (i % 50 === 0 ? 300 : 1)
    out.push([raw, raw + (x % 977)])
  }
  return out
}

/** One thread's report of a second, from the values it recorded in it. */
function reportOf(stream: LatencyStream, second: number, received: number): SecondReport {
  const counters = new Counters()
  counters.received = received
  counters.countInvalid('not-json')
  // Through structured clone, as a worker's message arrives: the class is gone.
  return structuredClone({
    second,
    warmup: false,
    counters,
    gaps: 1,
    streams: [{ stream: 'e2e', snapshot: stream.rollSecond() }],
  }) as SecondReport
}

describe('SecondMerger', () => {
  it('merges workers’ encoded histograms into exactly the percentiles of one histogram fed every value', () => {
    const WORKERS = 3
    const SECONDS = 4
    const single = new LatencyStream('e2e', true)
    const perWorker = Array.from({ length: WORKERS }, () => new LatencyStream('e2e', true))
    const merger = new SecondMerger(WORKERS)
    const merged: SecondReport[] = []
    const expected: SecondReport[] = []
    for (let s = 0; s < SECONDS; s++) {
      for (let w = 0; w < WORKERS; w++)
        for (const [raw, co] of latencies(1 + s * 10 + w, 3000 + w * 500)) {
          perWorker[w]!.record(raw, co)
          single.record(raw, co)
        }
      expected.push({
        second: s,
        warmup: false,
        counters: new Counters(),
        gaps: 0,
        streams: [{ stream: 'e2e', snapshot: single.rollSecond() }],
      })
      // Workers report out of order; nothing is released before the last of them.
      for (const w of [2, 0, 1]) {
        const done = merger.add(w, reportOf(perWorker[w]!, s, 100))
        if (w !== 1) expect(done).toEqual([])
        merged.push(...done)
      }
    }
    expect(merged.map((r) => r.second)).toEqual([0, 1, 2, 3])
    for (let s = 0; s < SECONDS; s++) {
      const got = merged[s]!.streams[0]!.snapshot
      const want = expected[s]!.streams[0]!.snapshot
      expect(got.raw).toEqual(want.raw)
      expect(got.co).toEqual(want.co)
      expect(merged[s]!.counters.received).toBe(300)
      expect(merged[s]!.counters.invalidByReason['not-json']).toBe(3)
      expect(merged[s]!.gaps).toBe(3)
    }
    const total = cumulativeOf(merger.streams.get('e2e')!)
    expect(total.raw).toEqual(single.cumulative().raw)
    expect(total.co).toEqual(single.cumulative().co)
    expect(total.rawHist).toBe(encodeHistogram(mergeEncoded([single.cumulative().rawHist])))
  })

  it('stops waiting for a worker that ended, and releases held seconds in order', () => {
    const merger = new SecondMerger(2)
    const a = new LatencyStream('e2e', false)
    a.record(100)
    expect(merger.add(0, reportOf(a, 0, 1))).toEqual([])
    a.record(200)
    expect(merger.add(0, reportOf(a, 1, 1))).toEqual([])
    const released = merger.end(1)
    expect(released.map((r) => r.second)).toEqual([0, 1])
    expect(released[1]!.streams[0]!.snapshot.raw.max).toBe(200)
  })
})
