import { describe, expect, it } from 'vitest'
import { LatencyStream } from '../engine/latency-stream.ts'
import type { ResultReader, SeriesRow } from '../store/result-store.ts'
import { runHistogram, runHistogramYielding } from './percentiles.ts'

/**
 * A run of `seconds` stored seconds and no summary (interrupted): one value of `us` in its first
 * second, the rest recorded nothing (no histogram to decode, so the test stays fast).
 */
function longRun(seconds: number, us: number): ResultReader {
  const stream = new LatencyStream('e2e', false)
  stream.record(us, us)
  const snap = stream.rollSecond()
  const row = (second: number) =>
    ({
      stream: 'e2e',
      second,
      warmup: false,
      raw: second === 0 ? snap.raw : { ...snap.raw, count: 0, max: 0 },
      co: null,
      rawHist: second === 0 ? snap.rawHist : '',
      coHist: null,
    }) as unknown as SeriesRow
  const rows = Array.from({ length: seconds }, (_, second) => row(second))
  return {
    getSeries: (_id: string, o: { from?: number; to?: number } = {}) =>
      rows.slice(o.from ?? 0, o.to === undefined ? undefined : o.to + 1),
    getSummaryStreams: () => [],
  } as unknown as ResultReader
}

describe('runHistogram over a long run', () => {
  // --max-run-time allows a week: 604,800 seconds. The largest recorded value used to be
  // Math.max(...rows), which throws past ~125,000 arguments: a report of a long interrupted run was a 500.
  it('merges 200,000 stored seconds, sync and yielding alike', async () => {
    const store = longRun(200_000, 1234)
    const sync = runHistogram(store, 'r', 'e2e', 'raw')!
    expect(sync.histogram.totalCount).toBe(1)
    expect(sync.maxUs).toBe(1234)
    const yielding = (await runHistogramYielding(store, 'r', 'e2e', 'raw'))!
    expect(yielding.histogram.totalCount).toBe(1)
    expect(yielding.maxUs).toBe(1234)
  }, 30_000)
})
