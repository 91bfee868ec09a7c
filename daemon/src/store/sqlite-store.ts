import { hostname } from 'node:os'
import { and, asc, count, desc, eq, gte, inArray, lte, max } from 'drizzle-orm'
import { deleteDevices, readDevices, writeDevices } from './device-rows.ts'
import { deleteFaultCommands, readFaultCommands, writeFaultCommands } from './fault-rows.ts'
import { prepareDatabase } from './migrate.ts'
import type {
  DeviceOrder,
  DeviceRow,
  FaultCommandRow,
  RunRecord,
  RunStore,
  RunUpdate,
  SecondRecord,
  SeriesRow,
  StreamSummaryRow,
} from './result-store.ts'
import { secondRows, summaryRow, toRecord, toSeriesRow, toSummaryStream } from './row-mapping.ts'
import { openSqlite, type SqliteHandle, type SyncSqlite } from './sqlite-driver.ts'
import { runs, series, summaries } from './tables.ts'

/** Whether the process that owns a run still executes it (same host, pid alive, not us). */
export function ownerAlive(owner: string | null): boolean {
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

/**
 * SQLite result store in WAL mode, the embedded default: drizzle over `bun:sqlite` under Bun and
 * better-sqlite3 12 under Node, its schema brought up to date by drizzle-kit migrations at open.
 */
export class SqliteStore implements RunStore {
  private readonly handle: SqliteHandle
  private readonly db: SyncSqlite

  /** `path` may be `:memory:`. Parent directories are created. */
  constructor(readonly path: string) {
    this.handle = openSqlite(path)
    try {
      prepareDatabase(this.handle)
    } catch (err) {
      this.handle.close()
      throw err
    }
    this.db = this.handle.db
  }

  /** The drizzle database, for records of other kinds kept in the same file (find-max searches). */
  get database(): SyncSqlite {
    return this.db
  }

  /** Which SQLite driver this runtime uses. */
  get driver(): SqliteHandle['driver'] {
    return this.handle.driver
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

  updateRun(id: string, fields: RunUpdate): void {
    const { summary, ...rest } = fields
    const values: Partial<typeof runs.$inferInsert> = { ...rest }
    if (summary !== undefined) values.summary = JSON.stringify(summary)
    this.db.update(runs).set(values).where(eq(runs.id, id)).run()
  }

  appendSecond(runId: string, report: SecondRecord): void {
    const rows = secondRows(runId, report)
    if (rows.length === 0) return
    this.db.insert(series).values(rows).onConflictDoNothing().run()
  }

  saveSummary(runId: string, streams: StreamSummaryRow[]): void {
    this.db.transaction((tx) => {
      tx.delete(summaries).where(eq(summaries.runId, runId)).run()
      for (const s of streams) tx.insert(summaries).values(summaryRow(runId, s)).run()
    })
  }

  saveDevices(runId: string, devices: DeviceRow[]): void {
    writeDevices(this.db, runId, devices)
  }

  saveFaults(runId: string, commands: readonly FaultCommandRow[]): void {
    writeFaultCommands(this.db, runId, commands)
  }

  getFaultCommands(runId: string): FaultCommandRow[] {
    return readFaultCommands(this.db, runId)
  }

  getDevices(
    runId: string,
    options: { order?: DeviceOrder; limit?: number; offset?: number } = {},
  ): DeviceRow[] {
    return readDevices(this.db, runId, options)
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
      .map(toSeriesRow)
  }

  getSummaryStreams(runId: string): StreamSummaryRow[] {
    return this.db.select().from(summaries).where(eq(summaries.runId, runId)).all().map(toSummaryStream)
  }

  deleteRun(id: string): boolean {
    return this.db.transaction((tx) => {
      tx.delete(series).where(eq(series.runId, id)).run()
      tx.delete(summaries).where(eq(summaries.runId, id)).run()
      deleteDevices(tx, id)
      deleteFaultCommands(tx, id)
      return tx.delete(runs).where(eq(runs.id, id)).returning({ id: runs.id }).all().length > 0
    })
  }

  countByStatus(): Record<string, number> {
    const out: Record<string, number> = {}
    const rows = this.db.select({ status: runs.status, n: count() }).from(runs).groupBy(runs.status).all()
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
    for (const id of ids) {
      // The run ended when its last second was recorded, not when a daemon noticed it later.
      const run = this.db
        .select({ startedAt: runs.startedAt, createdAt: runs.createdAt })
        .from(runs)
        .where(eq(runs.id, id))
        .get()
      const last = this.db
        .select({ second: max(series.second) })
        .from(series)
        .where(eq(series.runId, id))
        .get()?.second
      const endedAt =
        run?.startedAt != null && last != null
          ? run.startedAt + (last + 1) * 1000
          : (run?.startedAt ?? run?.createdAt ?? Date.now())
      const error =
        last != null
          ? `the daemon stopped (killed or crashed) while this run was executing; seconds 0-${last} were recorded and are kept`
          : 'the daemon stopped (killed or crashed) while this run was executing, before any second was recorded'
      this.db.update(runs).set({ status: 'interrupted', endedAt, error }).where(eq(runs.id, id)).run()
    }
    return ids
  }

  close(): void {
    this.handle.close()
  }
}
