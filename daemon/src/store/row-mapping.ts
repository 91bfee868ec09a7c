import type { RunRecord, RunStatus, SecondRecord, SeriesRow, StreamSummaryRow } from './result-store.ts'
import type { runs, series, summaries } from './tables.ts'

/** Percentile figures as stored: raw always, co only for streams with an intended send time. */
type Percentiles = { count: number; p50: number; p90: number; p99: number; p999: number; max: number }

/** The raw_* / co_* columns shared by the series and summaries tables. */
export function latencyColumns(
  raw: Percentiles,
  co: Percentiles | undefined,
  rawHist: string,
  coHist: string | undefined,
) {
  return {
    rawCount: raw.count,
    rawP50: raw.p50,
    rawP90: raw.p90,
    rawP99: raw.p99,
    rawP999: raw.p999,
    rawMax: raw.max,
    coCount: co?.count ?? null,
    coP50: co?.p50 ?? null,
    coP90: co?.p90 ?? null,
    coP99: co?.p99 ?? null,
    coP999: co?.p999 ?? null,
    coMax: co?.max ?? null,
    rawHist,
    coHist: coHist ?? null,
  }
}

/** Reads the co_* columns back; null when the stream has no corrected figures. */
function coFromRow(r: {
  coCount: number | null
  coP50: number | null
  coP90: number | null
  coP99: number | null
  coP999: number | null
  coMax: number | null
}): Percentiles | null {
  if (r.coCount === null) return null
  return {
    count: r.coCount,
    p50: r.coP50 ?? 0,
    p90: r.coP90 ?? 0,
    p99: r.coP99 ?? 0,
    p999: r.coP999 ?? 0,
    max: r.coMax ?? 0,
  }
}

/** A `runs` row as the API shows it (JSON columns parsed). */
export function toRecord(row: typeof runs.$inferSelect): RunRecord {
  return {
    id: row.id,
    name: row.name,
    status: row.status as RunStatus,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    endedAt: row.endedAt,
    scenario: JSON.parse(row.scenario),
    summary: row.summary ? JSON.parse(row.summary) : null,
    error: row.error,
  }
}

/** The `series` rows of one engine report: counters on the e2e stream only. */
export function secondRows(runId: string, r: SecondRecord): Array<typeof series.$inferInsert> {
  return r.streams.map(({ stream, snapshot: s }) => {
    const isE2e = stream === 'e2e'
    return {
      runId,
      stream,
      second: r.second,
      warmup: r.warmup,
      sent: isE2e ? r.counters.sent : null,
      received: isE2e ? r.counters.received : null,
      invalid: isE2e ? r.counters.invalid : null,
      duplicates: isE2e ? r.counters.duplicates : null,
      reordered: isE2e ? r.counters.reordered : null,
      publishErrors: isE2e ? r.counters.publishErrors : null,
      gaps: isE2e ? r.gaps : null,
      targetRate: isE2e ? (r.targetRate ?? null) : null,
      ...latencyColumns(s.raw, s.co, s.rawHist, s.coHist),
      disconnects: isE2e ? (r.counters.disconnects ?? null) : null,
      reconnects: isE2e ? (r.counters.reconnects ?? null) : null,
      lagP99: isE2e ? (r.generator?.lagP99Us ?? null) : null,
      lagMax: isE2e ? (r.generator?.lagMaxUs ?? null) : null,
      loopDelayP99: isE2e ? (r.generator?.eventLoopDelayP99Us ?? null) : null,
      loopDelayMax: isE2e ? (r.generator?.eventLoopDelayMaxUs ?? null) : null,
      inFlightPeak: isE2e ? (r.generator?.inFlightPeak ?? null) : null,
    }
  })
}

/** A stored `series` row as the API shows it. */
export function toSeriesRow(r: typeof series.$inferSelect): SeriesRow {
  return {
    stream: r.stream,
    second: r.second,
    warmup: r.warmup,
    sent: r.sent,
    received: r.received,
    invalid: r.invalid,
    duplicates: r.duplicates,
    reordered: r.reordered,
    publishErrors: r.publishErrors,
    gaps: r.gaps,
    targetRate: r.targetRate,
    raw: { count: r.rawCount, p50: r.rawP50, p90: r.rawP90, p99: r.rawP99, p999: r.rawP999, max: r.rawMax },
    co: coFromRow(r),
    rawHist: r.rawHist,
    coHist: r.coHist,
    disconnects: r.disconnects,
    reconnects: r.reconnects,
    generator:
      r.lagP99 === null && r.loopDelayP99 === null && r.inFlightPeak === null
        ? null
        : {
            lagP99Us: r.lagP99,
            lagMaxUs: r.lagMax,
            eventLoopDelayP99Us: r.loopDelayP99,
            eventLoopDelayMaxUs: r.loopDelayMax,
            inFlightPeak: r.inFlightPeak,
          },
  }
}

/** The `summaries` row of one stream. */
export function summaryRow(runId: string, s: StreamSummaryRow): typeof summaries.$inferInsert {
  return {
    runId,
    stream: s.stream,
    sent: s.sent ?? null,
    received: s.received ?? null,
    lost: s.lost ?? null,
    duplicates: s.duplicates ?? null,
    reordered: s.reordered ?? null,
    invalid: s.invalid ?? null,
    rate: s.rate ?? null,
    ...latencyColumns(s.raw, s.co, s.rawHist, s.coHist),
  }
}

/** A stored `summaries` row, optional figures left out when null. */
export function toSummaryStream(r: typeof summaries.$inferSelect): StreamSummaryRow {
  const row: StreamSummaryRow = {
    stream: r.stream,
    raw: {
      count: r.rawCount ?? 0,
      p50: r.rawP50 ?? 0,
      p90: r.rawP90 ?? 0,
      p99: r.rawP99 ?? 0,
      p999: r.rawP999 ?? 0,
      max: r.rawMax ?? 0,
    },
    rawHist: r.rawHist,
  }
  if (r.sent !== null) row.sent = r.sent
  if (r.received !== null) row.received = r.received
  if (r.lost !== null) row.lost = r.lost
  if (r.duplicates !== null) row.duplicates = r.duplicates
  if (r.reordered !== null) row.reordered = r.reordered
  if (r.invalid !== null) row.invalid = r.invalid
  if (r.rate !== null) row.rate = r.rate
  const co = coFromRow(r)
  if (co) row.co = co
  if (r.coHist !== null) row.coHist = r.coHist
  return row
}
