import { desc } from 'drizzle-orm'
import { index, integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/**
 * The one schema of the results database. drizzle-kit generates the migrations in ./migrations
 * from it (`npm run db:generate -w daemon`); nothing else writes DDL.
 */

/** One row per run. `scenario` is stored redacted; `summary` once the run ends. */
export const runs = sqliteTable(
  'runs',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    status: text('status').notNull(),
    createdAt: integer('created_at').notNull(),
    startedAt: integer('started_at'),
    endedAt: integer('ended_at'),
    scenario: text('scenario').notNull(),
    summary: text('summary'),
    error: text('error'),
    /** `host:pid` of the process executing the run, so a restart only interrupts runs whose process died. */
    owner: text('owner'),
  },
  (t) => [index('runs_created').on(desc(t.createdAt))],
)

/** Per-second rows per stream, each with its encoded histograms so figures can be recomputed or merged. */
export const series = sqliteTable(
  'series',
  {
    runId: text('run_id').notNull(),
    stream: text('stream').notNull(),
    second: integer('second').notNull(),
    warmup: integer('warmup', { mode: 'boolean' }).notNull(),
    sent: integer('sent'),
    received: integer('received'),
    invalid: integer('invalid'),
    duplicates: integer('duplicates'),
    reordered: integer('reordered'),
    publishErrors: integer('publish_errors'),
    gaps: integer('gaps'),
    rawCount: integer('raw_count').notNull(),
    rawP50: real('raw_p50').notNull(),
    rawP90: real('raw_p90').notNull(),
    rawP99: real('raw_p99').notNull(),
    rawP999: real('raw_p999').notNull(),
    rawMax: real('raw_max').notNull(),
    coCount: integer('co_count'),
    coP50: real('co_p50'),
    coP90: real('co_p90'),
    coP99: real('co_p99'),
    coP999: real('co_p999'),
    coMax: real('co_max'),
    rawHist: text('raw_hist').notNull(),
    coHist: text('co_hist'),
    // The second's connection events and load-generator health (e2e row only; null elsewhere and
    // in rows written before they were recorded). µs.
    disconnects: integer('disconnects'),
    reconnects: integer('reconnects'),
    lagP99: real('lag_p99'),
    lagMax: real('lag_max'),
    loopDelayP99: real('loop_delay_p99'),
    loopDelayMax: real('loop_delay_max'),
    inFlightPeak: integer('in_flight_peak'),
    /** Sends the schedule planned in this second (fleet-wide target rate); e2e rows only. */
    targetRate: real('target_rate'),
  },
  (t) => [primaryKey({ columns: [t.runId, t.stream, t.second] })],
)

/** Cumulative figures per stream at the end of a run. */
export const summaries = sqliteTable(
  'summaries',
  {
    runId: text('run_id').notNull(),
    stream: text('stream').notNull(),
    sent: integer('sent'),
    received: integer('received'),
    lost: integer('lost'),
    duplicates: integer('duplicates'),
    reordered: integer('reordered'),
    invalid: integer('invalid'),
    rate: real('rate'),
    rawCount: integer('raw_count'),
    rawP50: real('raw_p50'),
    rawP90: real('raw_p90'),
    rawP99: real('raw_p99'),
    rawP999: real('raw_p999'),
    rawMax: real('raw_max'),
    coCount: integer('co_count'),
    coP50: real('co_p50'),
    coP90: real('co_p90'),
    coP99: real('co_p99'),
    coP999: real('co_p999'),
    coMax: real('co_max'),
    rawHist: text('raw_hist').notNull(),
    coHist: text('co_hist'),
  },
  (t) => [primaryKey({ columns: [t.runId, t.stream] })],
)

/**
 * Per-device figures of a finished run (every device that sent or delivered, where arrivals name
 * their device): what the summary's worst-devices lists are taken from. Latencies in µs, ±1%.
 */
export const deviceFigures = sqliteTable(
  'device_figures',
  {
    runId: text('run_id').notNull(),
    device: integer('device').notNull(),
    sent: integer('sent').notNull(),
    received: integer('received').notNull(),
    lost: integer('lost').notNull(),
    undelivered: integer('undelivered').notNull(),
    duplicates: integer('duplicates').notNull(),
    reordered: integer('reordered').notNull(),
    count: integer('count').notNull(),
    p50: real('p50').notNull(),
    p99: real('p99').notNull(),
    max: real('max').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.device] })],
)

/** One `find-max` search: its request (scenario redacted), status and result once it ends. */
export const capacitySearches = sqliteTable(
  'capacity_searches',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    status: text('status').notNull(),
    createdAt: integer('created_at').notNull(),
    endedAt: integer('ended_at'),
    /** The search options as JSON (floor, ceiling, precision, SLOs, probe timing, bounds). */
    options: text('options').notNull(),
    scenario: text('scenario').notNull(),
    result: text('result'),
    error: text('error'),
    /** `host:pid` of the process running the search (see `runs.owner`). */
    owner: text('owner'),
  },
  (t) => [index('capacity_searches_created').on(desc(t.createdAt))],
)

/** The probes of a search: each one a stored run, in the order they ran. */
export const capacityProbes = sqliteTable(
  'capacity_probes',
  {
    searchId: text('search_id').notNull(),
    idx: integer('idx').notNull(),
    runId: text('run_id').notNull(),
    rate: real('rate').notNull(),
    ok: integer('ok', { mode: 'boolean' }).notNull(),
    /** Why it failed: `loss`, `latency`, `broker-lag`, `generator` or `error`; null when it held. */
    limit: text('limit'),
    /** The probe's figures and reasons as JSON (one point of the latency-vs-throughput curve). */
    point: text('point').notNull(),
  },
  (t) => [primaryKey({ columns: [t.searchId, t.idx] }), index('capacity_probes_run').on(t.runId)],
)

/**
 * The commands of a run's fault timeline (`setup`, `faults`, `teardown`): what ran, when, how it
 * ended, and its output (bounded, secrets scrubbed). Times µs since the epoch.
 */
export const faultCommands = sqliteTable(
  'fault_commands',
  {
    runId: text('run_id').notNull(),
    /** `setup`, `fault` or `teardown`. */
    kind: text('kind').notNull(),
    idx: integer('idx').notNull(),
    name: text('name').notNull(),
    command: text('command').notNull(),
    /** Faults: planned time, seconds since the schedule started. */
    atS: real('at_s'),
    startUs: real('start_us').notNull(),
    endUs: real('end_us').notNull(),
    durationMs: real('duration_ms').notNull(),
    exitCode: integer('exit_code'),
    signal: text('signal'),
    timedOut: integer('timed_out', { mode: 'boolean' }).notNull(),
    output: text('output').notNull(),
    outputDropped: integer('output_dropped').notNull(),
    error: text('error'),
  },
  (t) => [primaryKey({ columns: [t.runId, t.kind, t.idx] })],
)
