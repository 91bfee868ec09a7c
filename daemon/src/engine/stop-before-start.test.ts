import { describe, expect, it } from 'vitest'
import { startRun } from './run.ts'
import { collectingLogger, memoryScenario } from './testing/memory-scenario.ts'

// An operator's stop (Ctrl-C, DELETE, a daemon shutting down) that lands while the devices still
// connect is a stop, not a failure: the run ends `stopped`, with nothing measured and no error.
describe('a run stopped while it connects', () => {
  it('ends stopped, measured nothing, and carries no error', async () => {
    const { resolved } = await memoryScenario({
      producer: { devices: 50, totalRate: '100/s', duration: '20s', warmup: '0s', topic: 'sbs/{device}' },
    })
    const handle = startRun(resolved, { logger: collectingLogger() })
    handle.stop()
    const summary = await handle.result
    expect(summary.run.status).toBe('stopped')
    expect(summary.run.measured).toBe(false)
    expect(summary.error).toBeUndefined()
    expect(summary.streams.e2e?.sent ?? 0).toBe(0)
  })
})

describe('a sharded run (run.workers: 2) stopped while its workers connect', () => {
  it('ends stopped, measured nothing, and carries no error', async () => {
    const { resolved } = await memoryScenario({
      producer: { devices: 4, totalRate: '100/s', duration: '20s', warmup: '0s', topic: 'sbs2/{device}' },
      run: { workers: 2 },
    })
    const handle = startRun(resolved, { logger: collectingLogger() })
    handle.stop()
    const summary = await handle.result
    expect(summary.run.status).toBe('stopped')
    expect(summary.run.measured).toBe(false)
    expect(summary.error).toBeUndefined()
  }, 60_000)
})
