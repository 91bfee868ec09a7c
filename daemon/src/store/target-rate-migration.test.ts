import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import { describe, expect, it } from 'vitest'
import { Counters } from '../engine/counters.ts'
import { LatencyStream } from '../engine/latency-stream.ts'
import { appliedMigrations, MIGRATIONS_FOLDER } from './migrate.ts'
import { openSqlite } from './sqlite-driver.ts'
import { SqliteStore } from './sqlite-store.ts'

const dir = () => mkdtempSync(join(tmpdir(), 'iotload-migrate-'))

/** The migrations folder as the previous release shipped it: the baseline alone. */
function baselineOnly(): string {
  const folder = join(dir(), 'migrations')
  cpSync(MIGRATIONS_FOLDER, folder, { recursive: true })
  const journalPath = join(folder, 'meta', '_journal.json')
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: Array<{ tag: string }> }
  journal.entries = journal.entries.filter((e) => e.tag === '0000_baseline')
  writeFileSync(journalPath, JSON.stringify(journal))
  return folder
}

const report = (second: number, targetRate?: number) => ({
  second,
  warmup: false,
  counters: Object.assign(new Counters(), { sent: 10 }),
  gaps: 0,
  streams: [{ stream: 'e2e', snapshot: new LatencyStream('e2e', false).rollSecond() }],
  ...(targetRate !== undefined ? { targetRate } : {}),
})

describe('a database of the previous release (baseline schema) is migrated in place', () => {
  it('old rows are kept with no target rate, new rows store theirs, find-max tables exist', () => {
    const path = join(dir(), 'prev.db')
    const h = openSqlite(path)
    h.migrate({ migrationsFolder: baselineOnly(), migrationsTable: '__drizzle_migrations' })
    h.db.run(
      sql`insert into runs (id, name, status, created_at, scenario) values ('old', 'o', 'completed', 1, '{}')`,
    )
    h.db.run(
      sql`insert into series (run_id, stream, second, warmup, sent, raw_count, raw_p50, raw_p90, raw_p99, raw_p999, raw_max, raw_hist) values ('old', 'e2e', 0, 0, 7, 7, 1, 2, 3, 4, 5, 'H')`,
    )
    expect(appliedMigrations(h.db)).toHaveLength(1)
    h.close()

    const store = new SqliteStore(path)
    expect(store.getSeries('old')).toMatchObject([{ sent: 7, targetRate: null, rawHist: 'H' }])
    store.createRun({ id: 'new', name: 'n', scenario: {}, createdAt: 2 })
    store.appendSecond('new', report(0, 1234.5))
    expect(store.getSeries('new')).toMatchObject([{ sent: 10, targetRate: 1234.5 }])
    store.close()
    const again = openSqlite(path)
    expect(appliedMigrations(again.db)).toHaveLength(
      readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).length,
    )
    const tables = again.db
      .all<{ name: string }>(
        sql`select name from sqlite_master where type = 'table' and name like 'capacity_%'`,
      )
      .map((t) => t.name)
      .sort()
    expect(tables).toEqual(['capacity_probes', 'capacity_searches'])
    again.close()
  })
})
