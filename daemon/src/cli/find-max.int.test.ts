import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { requireService } from '@iotload/sdk/testing'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { SqliteCapacityStore } from '../capacity/capacity-store.ts'
import { SqliteStore } from '../store/sqlite-store.ts'

// `iotload find-max` as a user runs it: a process of its own, its output, its exit code, its database.
const BIN = fileURLToPath(new URL('../../bin/iotload.js', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'iotload-find-max-'))
const mosquitto = await requireService('Mosquitto', '127.0.0.1', 1883)

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

function scenarioFile(s: unknown): string {
  const path = join(dir, `${randomUUID()}.yaml`)
  writeFileSync(path, stringify(s))
  return path
}

const fleet = (topic: string) => ({
  devices: 4,
  totalRate: '200/s',
  duration: '1s',
  warmup: '500ms',
  topic: `${topic}/{device}`,
})

describe.skipIf(!mosquitto)('iotload find-max against Mosquitto', () => {
  it('prints the knee and its curve, writes --json, stores the search and every probe as a run', async () => {
    const db = join(dir, 'fm.db')
    const out = join(dir, 'fm.json')
    const file = scenarioFile({
      name: 'fm-cli',
      broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883', version: '5' },
      producer: { ...fleet(`fm-${randomUUID().slice(0, 8)}`), qos: 1 },
      run: { drain: '2s' },
    })
    const r = await cli(['find-max', file, '--to', '800', '--slo', 'e2e.p99=2s', '--db', db, '--json', out])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/find-max "fm-cli": holds the ceiling 800 msg\/s/)
    expect(r.stdout).toMatch(/target\/s +sent\/s +recv\/s +p50 +p99 +p99\.9 +co p99 +cpu +verdict +run/)
    expect(r.stderr).toMatch(/probe 1: 200\/s ok/)
    const json = JSON.parse(readFileSync(out, 'utf8'))
    expect(json).toMatchObject({ status: 'ceiling', sustainedRate: 800, limitedBy: 'ceiling', probes: 3 })
    const store = new SqliteStore(db)
    const search = new SqliteCapacityStore(store.database).getSearch(json.id)!
    expect(search.status).toBe('completed')
    expect(search.probes.map((p) => p.rate)).toEqual([200, 400, 800])
    for (const p of search.probes) expect(store.getRun(p.runId)?.name).toContain(`(find-max ${json.id})`)
    // The SLO given on the command line was part of every probe.
    expect(store.getRun(search.probes[0]!.runId)?.summary).toMatchObject({ slo: [{ key: 'e2e.p99' }] })
    store.close()
  }, 60_000)
})
