import { integer, primaryKey, real, sqliteTable, text } from 'drizzle-orm/sqlite-core'

/** One row per run. `scenario` is stored redacted; `summary` once the run ends. */
export const runs = sqliteTable('runs', {
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
})

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

/** DDL for the tables above (applied at open; drizzle-kit is not needed at run time). */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL,
  started_at INTEGER, ended_at INTEGER, scenario TEXT NOT NULL, summary TEXT, error TEXT, owner TEXT);
CREATE INDEX IF NOT EXISTS runs_created ON runs(created_at DESC);
CREATE TABLE IF NOT EXISTS series (
  run_id TEXT NOT NULL, stream TEXT NOT NULL, second INTEGER NOT NULL, warmup INTEGER NOT NULL,
  sent INTEGER, received INTEGER, invalid INTEGER, duplicates INTEGER, reordered INTEGER, publish_errors INTEGER, gaps INTEGER,
  raw_count INTEGER NOT NULL, raw_p50 REAL NOT NULL, raw_p90 REAL NOT NULL, raw_p99 REAL NOT NULL, raw_p999 REAL NOT NULL, raw_max REAL NOT NULL,
  co_count INTEGER, co_p50 REAL, co_p90 REAL, co_p99 REAL, co_p999 REAL, co_max REAL,
  raw_hist TEXT NOT NULL, co_hist TEXT,
  PRIMARY KEY (run_id, stream, second));
CREATE TABLE IF NOT EXISTS summaries (
  run_id TEXT NOT NULL, stream TEXT NOT NULL, sent INTEGER, received INTEGER, lost INTEGER, duplicates INTEGER,
  reordered INTEGER, invalid INTEGER, rate REAL,
  raw_count INTEGER, raw_p50 REAL, raw_p90 REAL, raw_p99 REAL, raw_p999 REAL, raw_max REAL,
  co_count INTEGER, co_p50 REAL, co_p90 REAL, co_p99 REAL, co_p999 REAL, co_max REAL,
  raw_hist TEXT NOT NULL, co_hist TEXT,
  PRIMARY KEY (run_id, stream));
`
