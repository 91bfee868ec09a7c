import type { SecondReport } from '../engine/recorder.ts'

/** Lifecycle states of a run. `interrupted` is a run found `running` after the daemon restarted. */
export type RunStatus =
  | 'pending'
  | 'connecting'
  | 'running'
  | 'draining'
  | 'completed'
  | 'failed'
  | 'stopped'
  | 'interrupted'

/** A run as stored. */
export interface RunRecord {
  id: string
  name: string
  status: RunStatus
  createdAt: number
  startedAt: number | null
  endedAt: number | null
  /** Redacted scenario. */
  scenario: unknown
  summary: unknown
  error: string | null
}

/** One stored per-second row of a stream. */
export interface SeriesRow {
  stream: string
  second: number
  warmup: boolean
  sent: number | null
  received: number | null
  invalid: number | null
  duplicates: number | null
  reordered: number | null
  publishErrors: number | null
  gaps: number | null
  raw: { count: number; p50: number; p90: number; p99: number; p999: number; max: number }
  co: { count: number; p50: number; p90: number; p99: number; p999: number; max: number } | null
  rawHist: string
  coHist: string | null
}

/** Cumulative per-stream figures kept with a finished run. */
export interface StreamSummaryRow {
  stream: string
  sent?: number
  received?: number
  lost?: number
  duplicates?: number
  reordered?: number
  invalid?: number
  rate?: number
  raw: { count: number; p50: number; p90: number; p99: number; p999: number; max: number }
  co?: { count: number; p50: number; p90: number; p99: number; p999: number; max: number }
  rawHist: string
  coHist?: string
}

/**
 * Where results live. SQLite is the embedded default; a Redis implementation serves cluster mode.
 * Writes are batched by the caller (one call per second), never per message.
 */
export interface ResultStore {
  createRun(run: { id: string; name: string; scenario: unknown; createdAt: number }): void
  updateRun(
    id: string,
    fields: Partial<Pick<RunRecord, 'status' | 'startedAt' | 'endedAt' | 'summary' | 'error'>>,
  ): void
  appendSecond(runId: string, report: SecondReport): void
  saveSummary(runId: string, streams: StreamSummaryRow[]): void
  getRun(id: string): RunRecord | undefined
  listRuns(options?: { limit?: number; offset?: number }): RunRecord[]
  getSeries(runId: string, options?: { stream?: string; from?: number; to?: number }): SeriesRow[]
  getSummaryStreams(runId: string): StreamSummaryRow[]
  deleteRun(id: string): boolean
  /** Marks runs left `running` by a previous process as `interrupted`; returns their ids. */
  markInterrupted(): string[]
  close(): void
}
