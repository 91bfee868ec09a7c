import { mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import type { MigrationConfig } from 'drizzle-orm/migrator'
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core'

/** The drizzle database both drivers produce: synchronous SQLite. */
export type SyncSqlite = BaseSQLiteDatabase<'sync', unknown>

/** An open SQLite file, whatever the runtime. Only this module knows which driver is underneath. */
export interface SqliteHandle {
  readonly db: SyncSqlite
  /** `bun:sqlite` under Bun, `better-sqlite3` under Node. */
  readonly driver: 'bun:sqlite' | 'better-sqlite3'
  /** Applies drizzle-kit migrations from `folder` (those not yet recorded in the file). */
  migrate(config: MigrationConfig): void
  /** Idempotent. */
  close(): void
}

/** True under Bun (which runs the same TypeScript sources natively). */
export const isBun = typeof (process.versions as Record<string, string | undefined>).bun === 'string'

// Synchronous loading keeps `new SqliteStore(path)` synchronous on both runtimes; each driver is
// required only on its own runtime (better-sqlite3 is a Node addon Bun cannot load).
const require = createRequire(import.meta.url)

interface NativeDatabase {
  close(): void
}

function openBun(path: string): { native: NativeDatabase; db: SyncSqlite; migrate: SqliteHandle['migrate'] } {
  const { Database } = require('bun:sqlite') as { Database: new (path: string) => NativeDatabase }
  const { drizzle } = require('drizzle-orm/bun-sqlite') as { drizzle: (client: unknown) => SyncSqlite }
  const { migrate } = require('drizzle-orm/bun-sqlite/migrator') as {
    migrate: (db: SyncSqlite, config: MigrationConfig) => void
  }
  const native = new Database(path)
  const db = drizzle(native)
  return { native, db, migrate: (config) => migrate(db, config) }
}

function openNode(path: string): {
  native: NativeDatabase
  db: SyncSqlite
  migrate: SqliteHandle['migrate']
} {
  const Database = require('better-sqlite3') as new (path: string) => NativeDatabase
  const { drizzle } = require('drizzle-orm/better-sqlite3') as { drizzle: (client: unknown) => SyncSqlite }
  const { migrate } = require('drizzle-orm/better-sqlite3/migrator') as {
    migrate: (db: SyncSqlite, config: MigrationConfig) => void
  }
  const native = new Database(path)
  const db = drizzle(native)
  return { native, db, migrate: (config) => migrate(db, config) }
}

/**
 * Opens (creating parent directories) a SQLite file with the runtime's driver: `bun:sqlite` under
 * Bun, better-sqlite3 12 under Node (13 crashes on Node 20). `path` may be `:memory:`.
 */
export function openSqlite(path: string): SqliteHandle {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const opened = isBun ? openBun(path) : openNode(path)
  let open = true
  return {
    db: opened.db,
    driver: isBun ? 'bun:sqlite' : 'better-sqlite3',
    migrate: opened.migrate,
    close() {
      if (!open) return
      open = false
      opened.native.close()
    },
  }
}
