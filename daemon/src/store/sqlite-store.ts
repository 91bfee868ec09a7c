import { mkdirSync } from 'node:fs'
import { hostname } from 'node:os'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { and, asc, desc, eq, gte, inArray, lte } from 'drizzle-orm'
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3'
import type { SecondReport } from '../engine/recorder.ts'
import type { ResultStore, RunRecord, RunStatus, SeriesRow, StreamSummaryRow } from './result-store.ts'
import { runs, SCHEMA_SQL, series, summaries } from './tables.ts'

/** Percentile figures as stored: raw always, co only for streams with an intended send time. */
type Percentiles = { count: number; p50: number; p90: number; p99: number; p999: number; max: number }

/** The raw_* / co_* columns shared by the series and summaries tables. */
function latencyColumns(
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

/** Whether the process that owns a run still executes it (same host, pid alive, not us). */
function ownerAlive(owner: string | null): boolean {
  if (!owner) return false
  const [host, pidText] = owner.split(':')
  const pid = Number(pidText)
  if (host !== hostname() || !Number.isInteger(pid) || pid === process.pid) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function toRecord(row: typeof runs.$inferSelect): RunRecord {
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

/** SQLite result store (better-sqlite3 12, WAL mode), the embedded default. */
export class SqliteStore implements ResultStore {
  private readonly sqlite: Database.Database
  private readonly db: BetterSQLite3Database

  /** `path` may be `:memory:`. Parent directories are created. */
  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
    this.sqlite = new Database(path)
    this.sqlite.pragma('journal_mode = WAL')
    this.sqlite.pragma('synchronous = NORMAL')
    this.sqlite.pragma('busy_timeout = 5000')
    this.sqlite.exec(SCHEMA_SQL)
    this.migrate()
    this.db = drizzle(this.sqlite)
  }

  /** Schema changes after version 0, applied once per database file (PRAGMA user_version). */
  private migrate(): void {
    const version = this.sqlite.pragma('user_version', { simple: true }) as number
    if (version < 1) {
      const columns = this.sqlite.prepare('PRAGMA table_info(runs)').all() as Array<{ name: string }>
      if (!columns.some((c) => c.name === 'owner')) this.sqlite.exec('ALTER TABLE runs ADD COLUMN owner TEXT')
      this.sqlite.pragma('user_version = 1')
    }
  }

  createRun(run: { id: string; name: string; scenario: unknown; createdAt: number }): void {
    this.db
      .insert(runs)
      .values({
        id: run.id,
        name: run.name,
        status: 'pending',
        createdAt: run.createdAt,
        scenario: JSON.stringify(run.scenario),
        owner: `${hostname()}:${process.pid}`,
      })
      .run()
  }

  updateRun(
    id: string,
    fields: Partial<Pick<RunRecord, 'status' | 'startedAt' | 'endedAt' | 'summary' | 'error'>>,
  ): void {
    const { summary, ...rest } = fields
    const values: Partial<typeof runs.$inferInsert> = { ...rest }
    if (summary !== undefined) values.summary = JSON.stringify(summary)
    this.db.update(runs).set(values).where(eq(runs.id, id)).run()
  }

  appendSecond(runId: string, r: SecondReport): void {
    const rows = r.streams.map(({ stream, snapshot: s }) => {
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
        ...latencyColumns(s.raw, s.co, s.rawHist, s.coHist),
      }
    })
    if (rows.length === 0) return
    this.sqlite.transaction(() => {
      this.db.insert(series).values(rows).onConflictDoNothing().run()
    })()
  }

  saveSummary(runId: string, streams: StreamSummaryRow[]): void {
    this.sqlite.transaction(() => {
      this.db.delete(summaries).where(eq(summaries.runId, runId)).run()
      for (const s of streams) {
        this.db
          .insert(summaries)
          .values({
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
          })
          .run()
      }
    })()
  }

  getRun(id: string): RunRecord | undefined {
    const row = this.db.select().from(runs).where(eq(runs.id, id)).get()
    return row ? toRecord(row) : undefined
  }

  listRuns(options: { limit?: number; offset?: number } = {}): RunRecord[] {
    return this.db
      .select()
      .from(runs)
      .orderBy(desc(runs.createdAt), desc(runs.id))
      .limit(options.limit ?? 50)
      .offset(options.offset ?? 0)
      .all()
      .map(toRecord)
  }

  getSeries(runId: string, options: { stream?: string; from?: number; to?: number } = {}): SeriesRow[] {
    const conditions = [eq(series.runId, runId)]
    if (options.stream) conditions.push(eq(series.stream, options.stream))
    if (options.from !== undefined) conditions.push(gte(series.second, options.from))
    if (options.to !== undefined) conditions.push(lte(series.second, options.to))
    return this.db
      .select()
      .from(series)
      .where(and(...conditions))
      .orderBy(asc(series.stream), asc(series.second))
      .all()
      .map((r) => ({
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
        raw: {
          count: r.rawCount,
          p50: r.rawP50,
          p90: r.rawP90,
          p99: r.rawP99,
          p999: r.rawP999,
          max: r.rawMax,
        },
        co: coFromRow(r),
        rawHist: r.rawHist,
        coHist: r.coHist,
      }))
  }

  getSummaryStreams(runId: string): StreamSummaryRow[] {
    return this.db
      .select()
      .from(summaries)
      .where(eq(summaries.runId, runId))
      .all()
      .map((r) => {
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
      })
  }

  deleteRun(id: string): boolean {
    return this.sqlite.transaction(() => {
      this.db.delete(series).where(eq(series.runId, id)).run()
      this.db.delete(summaries).where(eq(summaries.runId, id)).run()
      return this.db.delete(runs).where(eq(runs.id, id)).run().changes > 0
    })()
  }

  /** Number of stored runs per status (for /metrics). */
  countByStatus(): Record<string, number> {
    const out: Record<string, number> = {}
    const rows = this.sqlite
      .prepare('SELECT status, COUNT(*) AS n FROM runs GROUP BY status')
      .all() as Array<{
      status: string
      n: number
    }>
    for (const r of rows) out[r.status] = r.n
    return out
  }

  markInterrupted(): string[] {
    const live = ['pending', 'connecting', 'running', 'draining']
    const ids = this.db
      .select({ id: runs.id, owner: runs.owner })
      .from(runs)
      .where(inArray(runs.status, live))
      .all()
      .filter((r) => !ownerAlive(r.owner))
      .map((r) => r.id)
    if (ids.length > 0) {
      this.db
        .update(runs)
        .set({ status: 'interrupted', endedAt: Date.now() })
        .where(inArray(runs.id, ids))
        .run()
    }
    return ids
  }

  close(): void {
    if (this.sqlite.open) this.sqlite.close()
  }
}
