import { Counters } from '../../daemon/src/engine/counters.ts'
import { LatencyStream } from '../../daemon/src/engine/latency-stream.ts'
import type { SecondReport } from '../../daemon/src/engine/recorder.ts'
import { SecondMerger } from '../../daemon/src/engine/workers/second-merger.ts'

/**
 * CPU the main thread spends merging one second of a sharded run, for `workers` workers that
 * together recorded `perSecond` latencies (raw + corrected e2e): what grows with the worker count.
 * Median of `rounds` merges, ms.
 */
export function mergeCostMs(workers: number, perSecond: number, rounds = 15): number {
  let x = 12345
  const reports = (second: number): SecondReport[] =>
    Array.from({ length: workers }, () => {
      const s = new LatencyStream('e2e', true)
      for (let i = 0; i < perSecond / workers; i++) {
        x = (x * 48271) % 2147483647
        const raw = 200 + (x % 20_000) * (i % 100 === 0 ? 50 : 1)
        s.record(raw, raw + (x % 3000))
      }
      return {
        second,
        warmup: false,
        counters: new Counters(),
        gaps: 0,
        streams: [{ stream: 'e2e', snapshot: s.rollSecond() }],
      }
    })
  const merger = new SecondMerger(workers)
  const times: number[] = []
  for (let r = 0; r < rounds; r++) {
    const list = reports(r)
    const t0 = performance.now()
    merger.merge(list)
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]!
}
