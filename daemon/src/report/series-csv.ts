import type { ReportSeriesRow } from './report-model.ts'

/** Columns of the per-second CSV; latencies in µs, named with their unit. */
export const CSV_COLUMNS = [
  'stream',
  'second',
  'warmup',
  'sent',
  'received',
  'invalid',
  'duplicates',
  'reordered',
  'publish_errors',
  'gaps',
  'disconnects',
  'reconnects',
  'raw_count',
  'raw_p50_us',
  'raw_p90_us',
  'raw_p99_us',
  'raw_p999_us',
  'raw_max_us',
  'co_count',
  'co_p50_us',
  'co_p90_us',
  'co_p99_us',
  'co_p999_us',
  'co_max_us',
  'lag_p99_us',
  'lag_max_us',
  'loop_delay_p99_us',
  'loop_delay_max_us',
  'in_flight_peak',
] as const

const cell = (v: unknown): string => {
  if (v === null || v === undefined) return ''
  const s = String(v)
  // RFC 4180 quoting; a leading =,+,-,@ (or a tab or line break a spreadsheet skips before one) is
  // neutralised so a spreadsheet never runs it as a formula.
  const safe = /^[=+\-@\t\r\n]/.test(s) && Number.isNaN(Number(s)) ? `'${s}` : s
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}

/** The per-second series as CSV (RFC 4180, header row, CRLF), one row per stream and second. */
export function seriesCsv(rows: readonly ReportSeriesRow[]): string {
  const lines = [CSV_COLUMNS.join(',')]
  for (const r of rows) {
    const g = r.generator
    lines.push(
      [
        r.stream,
        r.second,
        r.warmup,
        r.sent,
        r.received,
        r.invalid,
        r.duplicates,
        r.reordered,
        r.publishErrors,
        r.gaps,
        r.disconnects,
        r.reconnects,
        r.raw.count,
        r.raw.p50,
        r.raw.p90,
        r.raw.p99,
        r.raw.p999,
        r.raw.max,
        r.co?.count,
        r.co?.p50,
        r.co?.p90,
        r.co?.p99,
        r.co?.p999,
        r.co?.max,
        g?.lagP99Us,
        g?.lagMaxUs,
        g?.eventLoopDelayP99Us,
        g?.eventLoopDelayMaxUs,
        g?.inFlightPeak,
      ]
        .map(cell)
        .join(','),
    )
  }
  return `${lines.join('\r\n')}\r\n`
}
