import { describe, expect, it } from 'vitest'
import type { ReportSeriesRow } from './report-model.ts'
import { seriesCsv } from './series-csv.ts'

const row = (stream: string): ReportSeriesRow =>
  ({
    stream,
    second: 0,
    warmup: false,
    sent: 1,
    received: 1,
    invalid: 0,
    duplicates: 0,
    reordered: 0,
    publishErrors: 0,
    gaps: 0,
    disconnects: 0,
    reconnects: 0,
    raw: { count: 1, p50: -5, p90: 1, p99: 1, p999: 1, max: 1 },
  }) as unknown as ReportSeriesRow

describe('seriesCsv', () => {
  // Today only stream names are text, and the engine names them; the guard is for any text column.
  it('neutralises every cell a spreadsheet would run as a formula, numbers left as numbers', () => {
    for (const evil of ['=1+1', '+1+cmd', '-2+3', '@SUM(A1)', '\t=1+1', '\r=1+1', '\n=1+1']) {
      const line = seriesCsv([row(evil)]).split('\r\n')[1]!
      const first = line.startsWith('"') ? line.slice(1) : line
      expect(first.startsWith("'"), JSON.stringify(evil)).toBe(true)
    }
    expect(seriesCsv([row('e2e')]).split('\r\n')[1]).toMatch(/^e2e,0,false,1,1,.*,1,-5,1,/)
  })
})
