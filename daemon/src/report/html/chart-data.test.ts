import { describe, expect, it } from 'vitest'
import { placeholderRun, type ReportSeriesRow } from '../report-model.ts'
import { clientRun } from './chart-data.ts'

const latency = { count: 1, p50: 100, p90: 100, p99: 100, p999: 100, max: 100 }
const row = (second: number, targetRate: number | null): ReportSeriesRow =>
  ({
    stream: 'e2e',
    second,
    warmup: false,
    sent: targetRate ?? 5,
    received: targetRate ?? 5,
    invalid: 0,
    duplicates: 0,
    reordered: 0,
    publishErrors: 0,
    gaps: 0,
    targetRate,
    raw: latency,
    co: null,
  }) as ReportSeriesRow

describe('clientRun', () => {
  it('carries the per-second target, so a staged ramp is drawn as it was scheduled', () => {
    const run = { ...placeholderRun('r', 'stages', ''), series: [row(1, 200), row(0, 100), row(2, 300)] }
    expect(clientRun(run).e2e?.target).toEqual([100, 200, 300])
  })

  it('has no per-second target for rows stored before it was kept (the report falls back to the flat rate)', () => {
    const run = { ...placeholderRun('r', 'old', ''), series: [row(0, null), row(1, null)] }
    expect(clientRun(run).e2e?.target).toEqual([null, null])
  })
})
