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
  /** Connection events of the second (e2e row; null elsewhere or when not recorded). */
  disconnects?: number | null
  reconnects?: number | null
  /** Load-generator health of the second (e2e row, µs; null when not recorded). */
  generator?: {
    lagP99Us: number | null
    lagMaxUs: number | null
    eventLoopDelayP99Us: number | null
    eventLoopDelayMaxUs: number | null
    inFlightPeak: number | null
  } | null
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
    disconnects?: number
    reconnects?: number
  }
  /** Sequence gaps outstanding at the end of the second. */
  gaps: number
  /** The load generator in the second (µs), where a producer ran. */
  generator?: {
    lagP99Us: number
    lagMaxUs: number
    eventLoopDelayP99Us: number
    eventLoopDelayMaxUs: number
    inFlightPeak: number
  }
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

/**
 * One device's figures over the measured part of a run, as stored (the engine's `DeviceFigure`):
 * counts, and the raw e2e latency's count, p50, p99 and max in µs (±1%).
 */
export interface DeviceRow {
  device: number
  sent: number
  received: number
  lost: number
  undelivered: number
  duplicates: number
  reordered: number
  count: number
  p50: number
  p99: number
  max: number
}

/** One command of a run's fault timeline as stored (the engine's `ExecRecord`). Times µs since the epoch. */
export interface FaultCommandRow {
  kind: 'setup' | 'fault' | 'teardown'
  index: number
  name: string
  command: string
  /** Faults: planned time, seconds since the schedule started. */
  atS?: number
  startUs: number
  endUs: number
  durationMs: number
  exitCode: number | null
  signal: string | null
  timedOut: boolean
  /** stdout and stderr, bounded (see MAX_OUTPUT_BYTES), secrets scrubbed. */
  output: string
  outputDropped: number
  error?: string
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
  /** Every device's figures at the end of a run (writers that keep no per-device rows omit it). */
  saveDevices?(runId: string, devices: DeviceRow[]): void
  /** The fault timeline's commands and their output (writers that keep none omit it). */
  saveFaults?(runId: string, commands: readonly FaultCommandRow[]): void
}

/** How `getDevices` orders a run's devices: worst first, or by device number. */
export type DeviceOrder = 'loss' | 'duplicates' | 'p99' | 'device'

/** The API's port: stored runs and their per-second and summary rows. */
export interface ResultReader {
  getRun(id: string): RunRecord | undefined
  listRuns(options?: { limit?: number; offset?: number }): RunRecord[]
  getSeries(runId: string, options?: { stream?: string; from?: number; to?: number }): SeriesRow[]
  getSummaryStreams(runId: string): StreamSummaryRow[]
  /** A run's per-device figures, worst first by `order` (default: by device number). */
  getDevices?(runId: string, options?: { order?: DeviceOrder; limit?: number; offset?: number }): DeviceRow[]
  /** A run's fault-timeline commands with their output, in the order they started. */
  getFaultCommands?(runId: string): FaultCommandRow[]
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
