import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import { describe, expect, it } from 'vitest'
import { Counters } from '../engine/counters.ts'
import { LatencyStream } from '../engine/latency-stream.ts'
import { appliedMigrations, MIGRATIONS_FOLDER } from './migrate.ts'
import { isBun, openSqlite, type SyncSqlite } from './sqlite-driver.ts'
import { SqliteStore } from './sqlite-store.ts'

/** Every migration drizzle-kit generated: a fresh or adopted database has them all applied. */
const MIGRATIONS = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).length

const tmpDb = (name: string) => join(mkdtempSync(join(tmpdir(), 'iotload-store-')), name)

/** Writes through a second connection, as another process would. */
function withRaw(path: string, fn: (db: SyncSqlite) => void): void {
  const h = openSqlite(path)
  try {
    fn(h.db)
  } finally {
    h.close()
  }
}

/** The columns migrations after the baseline add to tables the baseline had (in order). */
const ADDED_SINCE_BASELINE: Record<string, string[]> = {
  series: [
    'disconnects integer pk0',
    'reconnects integer pk0',
    'lag_p99 real pk0',
    'lag_max real pk0',
    'loop_delay_p99 real pk0',
    'loop_delay_max real pk0',
    'in_flight_peak integer pk0',
    'target_rate real pk0',
  ],
}

/** Column names and types of a table, to compare schemas. */
function columns(db: SyncSqlite, table: string): string[] {
  return db
    .all<{ name: string; type: string; pk: number }>(sql.raw(`PRAGMA table_info(${table})`))
    .map((c) => `${c.name} ${c.type.toLowerCase()} pk${c.pk}`)
}

/** The hand-written DDL of iotload ≤ 0.1 (store/tables.ts before drizzle-kit), verbatim. */
const LEGACY_DDL = readFileSync(new URL('./fixtures/legacy-schema-v1.sql', import.meta.url), 'utf8')

describe('SqliteStore', () => {
  it(`uses ${isBun ? 'bun:sqlite' : 'better-sqlite3'} on this runtime, in WAL mode`, () => {
    const path = tmpDb('wal.db')
    const store = new SqliteStore(path)
    expect(store.driver).toBe(isBun ? 'bun:sqlite' : 'better-sqlite3')
    store.close()
    store.close()
    withRaw(path, (db) => {
      expect(db.all<{ journal_mode: string }>(sql`PRAGMA journal_mode`)).toEqual([{ journal_mode: 'wal' }])
    })
  })

  it('writes, reads, counts and deletes a run with its rows', () => {
    const store = new SqliteStore(':memory:')
    store.createRun({ id: 'r1', name: 'one', scenario: { a: 1 }, createdAt: 5 })
    store.updateRun('r1', { status: 'completed', summary: { ok: true }, endedAt: 9 })
    const raw = { count: 2, p50: 1, p90: 2, p99: 3, p999: 4, max: 5 }
    store.saveSummary('r1', [
      { stream: 'e2e', sent: 2, received: 2, raw, rawHist: 'h', co: raw, coHist: 'c' },
    ])
    store.saveSummary('r1', [{ stream: 'e2e', sent: 3, raw, rawHist: 'h2' }])
    expect(store.getRun('r1')).toMatchObject({
      status: 'completed',
      summary: { ok: true },
      scenario: { a: 1 },
    })
    expect(store.getSummaryStreams('r1')).toEqual([{ stream: 'e2e', sent: 3, raw, rawHist: 'h2' }])
    expect(store.countByStatus()).toEqual({ completed: 1 })
    expect(store.listRuns().map((r) => r.id)).toEqual(['r1'])
    expect(store.deleteRun('r1')).toBe(true)
    expect(store.deleteRun('r1')).toBe(false)
    expect(store.getSummaryStreams('r1')).toEqual([])
    store.close()
  })

  it('a fresh database has the columns the hand-written DDL had, plus those later migrations add', () => {
    const store = new SqliteStore(tmpDb('fresh.db'))
    store.close()
    const fresh: Record<string, string[]> = {}
    withRaw(store.path, (db) => {
      for (const t of ['runs', 'series', 'summaries']) fresh[t] = columns(db, t)
      expect(appliedMigrations(db)).toHaveLength(MIGRATIONS)
    })
    withRaw(tmpDb('legacy.db'), (db) => {
      for (const stmt of LEGACY_DDL.split(';').filter((s) => s.trim())) db.run(sql.raw(stmt))
      for (const t of ['runs', 'series', 'summaries'])
        expect([...columns(db, t), ...(ADDED_SINCE_BASELINE[t] ?? [])], t).toEqual(fresh[t])
    })
  })
})

describe('SqliteStore.markInterrupted', () => {
  it('interrupts runs whose process died, and leaves a live process’s run alone', () => {
    const path = tmpDb('runs.db')
    const store = new SqliteStore(path)
    store.createRun({ id: 'dead', name: 'd', scenario: {}, createdAt: 1 })
    store.createRun({ id: 'alive', name: 'a', scenario: {}, createdAt: 2 })
    store.updateRun('dead', { status: 'running' })
    store.updateRun('alive', { status: 'running' })
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'])
    withRaw(path, (db) => {
      db.run(sql`update runs set owner = ${`${hostname()}:999999999`} where id = 'dead'`)
      db.run(sql`update runs set owner = ${`${hostname()}:${sleeper.pid}`} where id = 'alive'`)
    })
    store.updateRun('dead', { startedAt: 10_000 })
    const e2e = new LatencyStream('e2e', false)
    const report = (second: number) => ({
      second,
      warmup: false,
      counters: new Counters(),
      gaps: 0,
      streams: [{ stream: 'e2e', snapshot: e2e.rollSecond() }],
    })
    store.appendSecond('dead', report(0))
    store.appendSecond('dead', report(1))
    store.appendSecond('dead', report(2))
    expect(store.markInterrupted()).toEqual(['dead'])
    const dead = store.getRun('dead')!
    expect(dead.status).toBe('interrupted')
    // It ended with its last recorded second, and says why.
    expect(dead.endedAt).toBe(13_000)
    expect(dead.error).toMatch(/daemon stopped.*seconds 0-2 were recorded/)
    expect(store.getRun('alive')?.status).toBe('running')
    sleeper.kill()
    store.close()
  })
})

describe('a database written by the hand-DDL versions is migrated in place', () => {
  const seedLegacy = (path: string, version: 0 | 1) =>
    withRaw(path, (db) => {
      let ddl = LEGACY_DDL
      if (version === 0) ddl = ddl.replace(', owner TEXT', '')
      for (const stmt of ddl.split(';').filter((s) => s.trim())) db.run(sql.raw(stmt))
      db.run(sql.raw(`PRAGMA user_version = ${version}`))
      db.run(
        sql`insert into runs (id, name, status, created_at, scenario, summary) values ('old', 'o', 'running', 1, '{"n":1}', null)`,
      )
      db.run(
        sql`insert into series (run_id, stream, second, warmup, sent, raw_count, raw_p50, raw_p90, raw_p99, raw_p999, raw_max, raw_hist) values ('old', 'e2e', 0, 0, 7, 7, 1, 2, 3, 4, 5, 'HISTFAKE')`,
      )
    })

  for (const version of [0, 1] as const) {
    it(`from user_version ${version}: rows kept, baseline recorded, new writes work`, () => {
      const path = tmpDb(`old-v${version}.db`)
      seedLegacy(path, version)
      const store = new SqliteStore(path)
      expect(store.getRun('old')).toMatchObject({ status: 'running', scenario: { n: 1 } })
      expect(store.getSeries('old')).toMatchObject([{ stream: 'e2e', sent: 7, rawHist: 'HISTFAKE' }])
      // No owner recorded (v0 had no column): the run's process is unknown, so it is interrupted.
      expect(store.markInterrupted()).toEqual(['old'])
      store.createRun({ id: 'new', name: 'n', scenario: {}, createdAt: 2 })
      store.close()
      // Reopening finds the baseline recorded and applies nothing twice.
      const again = new SqliteStore(path)
      expect(again.listRuns().map((r) => r.id)).toEqual(['new', 'old'])
      again.close()
      withRaw(path, (db) => expect(appliedMigrations(db)).toHaveLength(MIGRATIONS))
    })
  }
})
