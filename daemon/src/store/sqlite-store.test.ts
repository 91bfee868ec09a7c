import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { SqliteStore } from './sqlite-store.ts'

describe('SqliteStore.markInterrupted', () => {
  it('interrupts runs whose process died, and leaves a live process’s run alone', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'iotload-store-')), 'runs.db')
    const store = new SqliteStore(path)
    store.createRun({ id: 'dead', name: 'd', scenario: {}, createdAt: 1 })
    store.createRun({ id: 'alive', name: 'a', scenario: {}, createdAt: 2 })
    store.updateRun('dead', { status: 'running' })
    store.updateRun('alive', { status: 'running' })
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'])
    const raw = new Database(path)
    raw.prepare('update runs set owner = ? where id = ?').run(`${hostname()}:999999999`, 'dead')
    raw.prepare('update runs set owner = ? where id = ?').run(`${hostname()}:${sleeper.pid}`, 'alive')
    raw.close()
    expect(store.markInterrupted()).toEqual(['dead'])
    expect(store.getRun('dead')?.status).toBe('interrupted')
    expect(store.getRun('alive')?.status).toBe('running')
    sleeper.kill()
    store.close()
  })

  it('adds the owner column to a database created before it existed', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'iotload-store-')), 'old.db')
    const old = new Database(path)
    old.exec(
      'CREATE TABLE runs (id TEXT PRIMARY KEY, name TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL, started_at INTEGER, ended_at INTEGER, scenario TEXT NOT NULL, summary TEXT, error TEXT)',
    )
    old
      .prepare(
        "insert into runs (id, name, status, created_at, scenario) values ('old', 'o', 'running', 1, '{}')",
      )
      .run()
    old.close()
    const store = new SqliteStore(path)
    expect(store.markInterrupted()).toEqual(['old'])
    store.createRun({ id: 'new', name: 'n', scenario: {}, createdAt: 2 })
    store.close()
  })
})
