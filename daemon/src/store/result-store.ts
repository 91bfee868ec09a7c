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
  /** Sends the schedule planned in this second (e2e rows; null for other streams and older rows). */
  targetRate: number | null
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

/** Percentile figures of one stream, µs. */
export interface StoredPercentiles {
  count: number
  p50: number
  p90: number
  p99: number
  p999: number
  max: number
}

/**
 * One second of a run as the store takes it: what the engine's recorder reports each second (its
 * `SecondReport` has this shape and more). Declared here so the store depends on no engine code.
 */
export interface SecondRecord {
  second: number
  warmup: boolean
  counters: {
    sent: number
    received: number
    invalid: number
    duplicates: number
    reordered: number
    publishErrors: number
  }
  /** Sequence gaps outstanding at the end of the second. */
  gaps: number
  /** Sends the schedule planned in this second (the fleet's target rate); absent where unknown. */
  targetRate?: number
  streams: Array<{
    stream: string
    snapshot: {
      raw: StoredPercentiles
      co: StoredPercentiles | undefined
      /** Encoded HdrHistograms, so percentiles and merges can be recomputed exactly. */
      rawHist: string
      coHist: string | undefined
    }
  }>
}

/** Fields of a run the engine changes as it goes. */
export type RunUpdate = Partial<Pick<RunRecord, 'status' | 'startedAt' | 'endedAt' | 'summary' | 'error'>>

/**
 * The engine's port: where a run's results go. Writes are batched by the caller (one call per
 * second), never per message. A cluster producer implements only this to tap its summary.
 */
export interface ResultWriter {
  createRun(run: { id: string; name: string; scenario: unknown; createdAt: number }): void
  updateRun(id: string, fields: RunUpdate): void
  appendSecond(runId: string, report: SecondRecord): void
  saveSummary(runId: string, streams: StreamSummaryRow[]): void
}

/** The API's port: stored runs and their per-second and summary rows. */
export interface ResultReader {
  getRun(id: string): RunRecord | undefined
  listRuns(options?: { limit?: number; offset?: number }): RunRecord[]
  getSeries(runId: string, options?: { stream?: string; from?: number; to?: number }): SeriesRow[]
  getSummaryStreams(runId: string): StreamSummaryRow[]
  /** Number of stored runs per status (for /metrics). */
  countByStatus(): Record<string, number>
}

/**
 * A whole results store as the daemon opens it: both ports plus housekeeping. SQLite
 * (`SqliteStore`) is the embedded default.
 */
export interface RunStore extends ResultWriter, ResultReader {
  deleteRun(id: string): boolean
  /** Marks runs left `running` by a previous process as `interrupted`; returns their ids. */
  markInterrupted(): string[]
  close(): void
}

/**
 * The engine's name for its port (`startRun({ store })`), kept so engine code needs no change.
 * @deprecated use `ResultWriter`
 */
export type ResultStore = ResultWriter
