import { afterEach, describe, expect, it } from 'vitest'
import { SqliteStore } from '../store/sqlite-store.ts'
import { type RunOptions, startRun } from './run.ts'
import { ManualClock } from './testing/manual-clock.ts'
import { collectingLogger, memoryScenario } from './testing/memory-scenario.ts'

// The fault timeline on the in-process bus: outage detection and recovery figures on a clock that
// jumps from timer to timer, and real commands (sh -c) for setup, faults and teardown.
const stops: Array<() => void> = []
afterEach(() => {
  for (const s of stops.splice(0)) s()
})

function run(resolved: Parameters<typeof startRun>[0], options: RunOptions = {}) {
  const clock = new ManualClock()
  const auto = clock.autoAdvance()
  stops.push(auto.stop)
  return startRun(resolved, { logger: collectingLogger(), clock, ...options })
}

const relaxed = { generator: { maxEventLoopDelay: '10s' } }

describe('the fault timeline', () => {
  it('an outage iotload did not cause is detected, and its loss is exactly the run’s loss', async () => {
    const { resolved, bus } = await memoryScenario({
      producer: { devices: 20, rate: '20/s', duration: '8s', warmup: 0, topic: 'f/{device}', qos: 1 },
      run: { ...relaxed, drain: '2s' },
    })
    const handle = run(resolved, {
      onSecond: (r) => {
        // Second 2 closes at 3 s: the bus is down from 3 s to 4 s of the schedule.
        if (r.second === 2) bus.disconnect()
        if (r.second === 3) bus.reconnect()
      },
    })
    const summary = await handle.result
    const e2e = summary.streams.e2e!
    expect(summary.run.status).toBe('completed')
    expect(e2e.received! + e2e.lost!).toBe(e2e.sent)
    expect(e2e.lost).toBeGreaterThan(0)
    const outages = summary.faults!.outages
    expect(outages).toHaveLength(1)
    const o = outages[0]!
    expect(o).toMatchObject({ kind: 'outage', atS: 3, firstDisconnectMs: 0, firstReconnectMs: 1000 })
    expect(o.recoveryMs).toBe(1000)
    // Every message lost in the run was intended inside the outage's window, and none twice.
    expect(o.lost).toBe(e2e.lost)
    expect(o.sent).toBeGreaterThanOrEqual(o.lost!)
    expect(Object.keys(o.publishErrors).join()).toMatch(/PUBLISH_FAILED: bus .* is down/)
    expect(summary.faults!.faults).toEqual([])
  })

  it.each([
    ['500ms', false, '1.0s'],
    ['5s', true, '1.0s'],
  ] as const)('slo.recovery %s judges every outage’s recovery (pass: %s)', async (limit, pass, actual) => {
    const { resolved, bus } = await memoryScenario({
      producer: { devices: 5, rate: '20/s', duration: '6s', warmup: 0, topic: 'r/{device}', qos: 1 },
      run: { ...relaxed, drain: '1s' },
      slo: { recovery: limit },
    })
    const summary = await run(resolved, {
      onSecond: (r) => {
        if (r.second === 1) bus.disconnect()
        if (r.second === 2) bus.reconnect()
      },
    }).result
    expect(summary.slo).toEqual([
      {
        key: 'recovery',
        threshold: `≤ ${limit === '5s' ? 5 : 0.5}s`,
        actual,
        result: pass ? 'pass' : 'fail',
        pass,
      },
    ])
    expect(summary.sloPassed).toBe(pass)
  })

  it('runs setup, the fault at its time and teardown, stores their output, and reports the fault', async () => {
    const store = new SqliteStore(':memory:')
    const { resolved } = await memoryScenario({
      producer: { devices: 5, rate: '10/s', duration: '4s', warmup: 0, topic: 'g/{device}' },
      run: { ...relaxed, drain: '1s' },
      setup: [{ exec: 'echo setting up', name: 'prepare' }],
      faults: [{ at: '2s', exec: 'echo fault; exit 4' }],
      teardown: [{ exec: 'echo bye' }],
    })
    const summary = await run(resolved, { store, id: 'fault-run' }).result
    expect(summary.run.status).toBe('completed')
    const [f] = summary.faults!.faults
    expect(f).toMatchObject({
      kind: 'fault',
      name: 'echo fault; exit 4',
      exec: { exitCode: 4, timedOut: false },
    })
    // A command that dented nothing: recovered in 0, nothing lost.
    expect(f).toMatchObject({ recoveryMs: 0, lost: 0, duplicates: 0 })
    expect(summary.faults!.hookFailures).toEqual([])
    const rows = store.getFaultCommands('fault-run')
    expect(rows.map((r) => [r.kind, r.name, r.exitCode, r.output])).toEqual([
      ['setup', 'prepare', 0, 'setting up\n'],
      ['fault', 'echo fault; exit 4', 4, 'fault\n'],
      ['teardown', 'echo bye', 0, 'bye\n'],
    ])
    expect(rows[1]!.atS).toBe(2)
    store.deleteRun('fault-run')
    expect(store.getFaultCommands('fault-run')).toEqual([])
    store.close()
  })

  it('a failing setup fails the run before it connects, and teardown still runs', async () => {
    const store = new SqliteStore(':memory:')
    const { resolved, bus } = await memoryScenario({
      producer: { devices: 2, rate: '1/s', duration: '2s' },
      setup: [{ exec: 'echo no broker here >&2; exit 7' }],
      teardown: [{ exec: 'echo cleaned' }],
    })
    const summary = await run(resolved, { store, id: 'bad-setup' }).result
    expect(summary.run.status).toBe('failed')
    expect(summary.error).toMatch(/setup\[0\] \(.*\) exited 7: no broker here/)
    expect(bus.connections).toBe(0)
    expect(store.getFaultCommands('bad-setup').map((r) => r.kind)).toEqual(['setup', 'teardown'])
    store.close()
  })
})
