import { asc, eq } from 'drizzle-orm'
import type { FaultCommandRow } from './result-store.ts'
import type { SyncSqlite } from './sqlite-driver.ts'
import { faultCommands } from './tables.ts'

/** Replaces a run's fault-timeline commands (one transaction). */
export function writeFaultCommands(db: SyncSqlite, runId: string, rows: readonly FaultCommandRow[]): void {
  db.transaction((tx) => {
    tx.delete(faultCommands).where(eq(faultCommands.runId, runId)).run()
    if (rows.length > 0)
      tx.insert(faultCommands)
        .values(
          rows.map((r) => ({
            runId,
            kind: r.kind,
            idx: r.index,
            name: r.name,
            command: r.command,
            atS: r.atS ?? null,
            startUs: r.startUs,
            endUs: r.endUs,
            durationMs: r.durationMs,
            exitCode: r.exitCode,
            signal: r.signal,
            timedOut: r.timedOut,
            output: r.output,
            outputDropped: r.outputDropped,
            error: r.error ?? null,
          })),
        )
        .run()
  })
}

/** Removes a run's fault-timeline commands (inside the caller's transaction). */
export function deleteFaultCommands(db: Pick<SyncSqlite, 'delete'>, runId: string): void {
  db.delete(faultCommands).where(eq(faultCommands.runId, runId)).run()
}

/** A run's fault-timeline commands in the order they started. */
export function readFaultCommands(db: SyncSqlite, runId: string): FaultCommandRow[] {
  return db
    .select()
    .from(faultCommands)
    .where(eq(faultCommands.runId, runId))
    .orderBy(asc(faultCommands.startUs))
    .all()
    .map(({ runId: _, idx, atS, error, ...r }) => ({
      ...r,
      kind: r.kind as FaultCommandRow['kind'],
      index: idx,
      ...(atS !== null ? { atS } : {}),
      ...(error !== null ? { error } : {}),
    }))
}
