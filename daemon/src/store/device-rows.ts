import { asc, desc, eq, sql } from 'drizzle-orm'
import type { DeviceOrder, DeviceRow } from './result-store.ts'
import type { SyncSqlite } from './sqlite-driver.ts'
import { deviceFigures } from './tables.ts'

/** Rows per INSERT: SQLite binds at most 32,766 parameters per statement (12 columns each). */
const CHUNK = 500

/** Replaces a run's per-device rows (one transaction, chunked inserts). */
export function writeDevices(db: SyncSqlite, runId: string, devices: DeviceRow[]): void {
  db.transaction((tx) => {
    tx.delete(deviceFigures).where(eq(deviceFigures.runId, runId)).run()
    for (let i = 0; i < devices.length; i += CHUNK)
      tx.insert(deviceFigures)
        .values(devices.slice(i, i + CHUNK).map((d) => ({ runId, ...d })))
        .run()
  })
}

/** Removes a run's per-device rows (inside the caller's transaction). */
export function deleteDevices(db: Pick<SyncSqlite, 'delete'>, runId: string): void {
  db.delete(deviceFigures).where(eq(deviceFigures.runId, runId)).run()
}

const ORDER = {
  device: [asc(deviceFigures.device)],
  loss: [desc(sql`${deviceFigures.lost} + ${deviceFigures.undelivered}`), asc(deviceFigures.device)],
  duplicates: [desc(deviceFigures.duplicates), asc(deviceFigures.device)],
  p99: [desc(deviceFigures.p99), asc(deviceFigures.device)],
} as const

/** A run's per-device figures in the order asked for (worst first), a page at a time. */
export function readDevices(
  db: SyncSqlite,
  runId: string,
  options: { order?: DeviceOrder; limit?: number; offset?: number },
): DeviceRow[] {
  return db
    .select()
    .from(deviceFigures)
    .where(eq(deviceFigures.runId, runId))
    .orderBy(...ORDER[options.order ?? 'device'])
    .limit(options.limit ?? 1000)
    .offset(options.offset ?? 0)
    .all()
    .map(({ runId: _, ...d }) => d)
}
