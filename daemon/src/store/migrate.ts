import { fileURLToPath } from 'node:url'
import { sql } from 'drizzle-orm'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import type { SqliteHandle, SyncSqlite } from './sqlite-driver.ts'

/** drizzle-kit's output for `tables.ts` (generated, never edited by hand). */
export const MIGRATIONS_FOLDER = fileURLToPath(new URL('./migrations', import.meta.url))
/** drizzle's own bookkeeping table (its default name). */
const MIGRATIONS_TABLE = '__drizzle_migrations'

// Raw queries use `all` only: drizzle's `get` on raw SQL returns an object under better-sqlite3
// but a value array under bun:sqlite.
function tableExists(db: SyncSqlite, name: string): boolean {
  return db.all(sql`SELECT 1 AS one FROM sqlite_master WHERE type = 'table' AND name = ${name}`).length > 0
}

/**
 * A database written before drizzle-kit managed the schema (hand DDL, `PRAGMA user_version` 0 or
 * 1) holds exactly the baseline migration's tables, less the `owner` column at version 0. Bring it
 * to the baseline and record the baseline as applied, so drizzle's migrator starts after it
 * instead of failing on `CREATE TABLE runs`.
 */
function adoptLegacy(db: SyncSqlite): void {
  if (!tableExists(db, 'runs') || tableExists(db, MIGRATIONS_TABLE)) return
  const [baseline] = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER })
  if (!baseline) throw new Error(`no migrations in ${MIGRATIONS_FOLDER}`)
  db.transaction((tx) => {
    const columns = tx.all<{ name: string }>(sql`PRAGMA table_info(runs)`)
    if (!columns.some((c) => c.name === 'owner')) tx.run(sql`ALTER TABLE runs ADD COLUMN owner TEXT`)
    // The same DDL drizzle's migrator uses for its table.
    tx.run(
      sql`CREATE TABLE IF NOT EXISTS ${sql.identifier(MIGRATIONS_TABLE)} (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)`,
    )
    tx.run(
      sql`INSERT INTO ${sql.identifier(MIGRATIONS_TABLE)} ("hash", "created_at") VALUES (${baseline.hash}, ${baseline.folderMillis})`,
    )
  })
}

/**
 * Sets the connection up (WAL, NORMAL sync, a 5 s busy wait) and brings the schema to the latest
 * migration, adopting a database created by the hand-written DDL of earlier versions in place.
 */
export function prepareDatabase(handle: SqliteHandle): void {
  const { db } = handle
  db.run(sql`PRAGMA journal_mode = WAL`)
  db.run(sql`PRAGMA synchronous = NORMAL`)
  db.run(sql`PRAGMA busy_timeout = 5000`)
  adoptLegacy(db)
  handle.migrate({ migrationsFolder: MIGRATIONS_FOLDER, migrationsTable: MIGRATIONS_TABLE })
}

/** Migrations recorded as applied in the file (oldest first), for tests and diagnostics. */
export function appliedMigrations(db: SyncSqlite): Array<{ hash: string; createdAt: number }> {
  if (!tableExists(db, MIGRATIONS_TABLE)) return []
  return db
    .all<{ hash: string; created_at: number }>(
      sql`SELECT hash, created_at FROM ${sql.identifier(MIGRATIONS_TABLE)} ORDER BY created_at`,
    )
    .map((r) => ({ hash: r.hash, createdAt: Number(r.created_at) }))
}
