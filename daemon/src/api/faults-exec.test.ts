import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createLogger } from '../log/logger.ts'
import { remotePolicy } from '../scenario/trust-policy.ts'
import { RunManager } from '../service/run-manager.ts'
import { SqliteStore } from '../store/sqlite-store.ts'
import { createApp } from './app.ts'

// A scenario sent over REST may run commands only on a daemon started with --allow-exec.
const quiet = createLogger({ level: 'error' })
const closers: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c()
})

function setup(allowExec: boolean) {
  const store = new SqliteStore(':memory:')
  const manager = new RunManager({
    store,
    logger: quiet,
    maxRuns: 2,
    env: {},
    policy: remotePolicy({ allowExec }),
  })
  closers.push(
    () => store.close(),
    () => manager.shutdown(),
  )
  return { app: createApp({ manager, logger: quiet }), store }
}

const dir = mkdtempSync(join(tmpdir(), 'iotload-rest-exec-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const scenario = (marker: string) => ({
  name: 'rest-exec',
  broker: { plugin: 'memory', bus: `rest-${randomUUID()}` },
  producer: { devices: 1, rate: '10/s', duration: '500ms', topic: 'x/{device}' },
  run: { drain: '200ms', generator: { maxEventLoopDelay: '10s', maxLag: '1s' } },
  faults: [{ at: '100ms', exec: `touch ${marker}` }],
})

const post = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
})

describe('POST /v1/runs with fault commands', () => {
  it('is refused with 400 naming the field when the daemon does not allow exec, and nothing runs', async () => {
    const { app, store } = setup(false)
    const marker = join(dir, 'refused')
    const res = await app.request('/v1/runs', post(scenario(marker)))
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { message: string } }
    expect(body.error.message).toMatch(/faults\[0\]\.exec: running commands is refused .*--allow-exec/)
    await new Promise((r) => setTimeout(r, 300))
    expect(existsSync(marker)).toBe(false)
    expect(store.listRuns()).toEqual([])
  })

  it('runs the command on a daemon started with --allow-exec, and keeps its record', async () => {
    const { app, store } = setup(true)
    const marker = join(dir, 'allowed')
    const res = await app.request('/v1/runs', post(scenario(marker)))
    expect(res.status).toBe(201)
    const { id } = (await res.json()) as { id: string }
    const end = Date.now() + 20_000
    while (store.getRun(id)?.status !== 'completed' && Date.now() < end)
      await new Promise((r) => setTimeout(r, 50))
    expect(store.getRun(id)?.status).toBe('completed')
    expect(existsSync(marker)).toBe(true)
    expect(store.getFaultCommands(id).map((c) => [c.kind, c.exitCode])).toEqual([['fault', 0]])
    const view = (await (await app.request(`/v1/runs/${id}/faults`)).json()) as {
      commands: Array<{ kind: string; command: string; exitCode: number; output: string }>
      figures: { faults: Array<{ name: string; exec: { exitCode: number } }> } | null
    }
    expect(view.commands).toMatchObject([
      { kind: 'fault', command: `touch ${marker}`, exitCode: 0, output: '' },
    ])
    expect(view.figures?.faults).toMatchObject([{ name: `touch ${marker}`, exec: { exitCode: 0 } }])
    expect((await app.request('/v1/runs/nope/faults')).status).toBe(404)
  })
})
