import { hostname } from 'node:os'
import { asc, desc, eq, inArray } from 'drizzle-orm'
import type { SyncSqlite } from '../store/sqlite-driver.ts'
import { ownerAlive } from '../store/sqlite-store.ts'
import { capacityProbes, capacitySearches } from '../store/tables.ts'
import type { CapacityResult } from './result.ts'
import type { CurvePoint } from './verdict.ts'

/** Lifecycle of a search. `interrupted`: found running after its process died. */
export type SearchState = 'running' | 'completed' | 'failed' | 'stopped' | 'interrupted'

/** A stored search; `probes` are its points in the order they ran, each with its run id. */
export interface SearchRecord {
  id: string
  name: string
  status: SearchState
  createdAt: number
  endedAt: number | null
  options: unknown
  /** Redacted scenario. */
  scenario: unknown
  result: CapacityResult | null
  error: string | null
  probes: CurvePoint[]
}

/** Where searches and their probes are kept: the results database, beside the runs. */
export interface CapacityStore {
  createSearch(s: { id: string; name: string; createdAt: number; options: unknown; scenario: unknown }): void
  /** Links probe `idx` of a search to its stored run. */
  addProbe(searchId: string, idx: number, point: CurvePoint): void
  finishSearch(
    id: string,
    fields: { status: SearchState; endedAt: number; result?: CapacityResult | null; error?: string | null },
  ): void
  getSearch(id: string): SearchRecord | undefined
  /** Newest first, without scenario and probes. */
  listSearches(options?: {
    limit?: number
    offset?: number
  }): Array<Omit<SearchRecord, 'scenario' | 'probes'>>
  /** Marks searches whose process died while they ran; returns their ids. */
  markInterrupted(): string[]
}

/** `CapacityStore` on the SQLite results file (`SqliteStore.database`). */
export class SqliteCapacityStore implements CapacityStore {
  constructor(private readonly db: SyncSqlite) {}

  createSearch(s: {
    id: string
    name: string
    createdAt: number
    options: unknown
    scenario: unknown
  }): void {
    this.db
      .insert(capacitySearches)
      .values({
        id: s.id,
        name: s.name,
        status: 'running',
        createdAt: s.createdAt,
        options: JSON.stringify(s.options),
        scenario: JSON.stringify(s.scenario),
        owner: `${hostname()}:${process.pid}`,
      })
      .run()
  }

  addProbe(searchId: string, idx: number, point: CurvePoint): void {
    this.db
      .insert(capacityProbes)
      .values({
        searchId,
        idx,
        runId: point.runId,
        rate: point.rate,
        ok: point.ok,
        limit: point.limit,
        point: JSON.stringify(point),
      })
      .onConflictDoNothing()
      .run()
  }

  finishSearch(
    id: string,
    fields: { status: SearchState; endedAt: number; result?: CapacityResult | null; error?: string | null },
  ): void {
    this.db
      .update(capacitySearches)
      .set({
        status: fields.status,
        endedAt: fields.endedAt,
        ...(fields.result !== undefined
          ? { result: fields.result ? JSON.stringify(fields.result) : null }
          : {}),
        ...(fields.error !== undefined ? { error: fields.error } : {}),
      })
      .where(eq(capacitySearches.id, id))
      .run()
  }

  getSearch(id: string): SearchRecord | undefined {
    const row = this.db.select().from(capacitySearches).where(eq(capacitySearches.id, id)).get()
    if (!row) return undefined
    const probes = this.db
      .select({ point: capacityProbes.point })
      .from(capacityProbes)
      .where(eq(capacityProbes.searchId, id))
      .orderBy(asc(capacityProbes.idx))
      .all()
      .map((p) => JSON.parse(p.point) as CurvePoint)
    return { ...summaryOf(row), scenario: JSON.parse(row.scenario), probes }
  }

  listSearches(options: { limit?: number; offset?: number } = {}) {
    return this.db
      .select()
      .from(capacitySearches)
      .orderBy(desc(capacitySearches.createdAt), desc(capacitySearches.id))
      .limit(options.limit ?? 50)
      .offset(options.offset ?? 0)
      .all()
      .map(summaryOf)
  }

  markInterrupted(): string[] {
    const ids = this.db
      .select({ id: capacitySearches.id, owner: capacitySearches.owner })
      .from(capacitySearches)
      .where(inArray(capacitySearches.status, ['running']))
      .all()
      .filter((r) => !ownerAlive(r.owner))
      .map((r) => r.id)
    for (const id of ids)
      this.finishSearch(id, {
        status: 'interrupted',
        endedAt: Date.now(),
        error: 'the process running this search stopped (killed or crashed); its finished probes are kept',
      })
    return ids
  }
}

function summaryOf(row: typeof capacitySearches.$inferSelect): Omit<SearchRecord, 'scenario' | 'probes'> {
  return {
    id: row.id,
    name: row.name,
    status: row.status as SearchState,
    createdAt: row.createdAt,
    endedAt: row.endedAt,
    options: JSON.parse(row.options),
    result: row.result ? (JSON.parse(row.result) as CapacityResult) : null,
    error: row.error,
  }
}
