import { afterEach, describe, expect, it } from 'vitest'
import { startRun } from '../engine/run.ts'
import { ManualClock } from '../engine/testing/manual-clock.ts'
import { collectingLogger, memoryScenario } from '../engine/testing/memory-scenario.ts'
import { resolveScenario } from '../scenario/load-scenario.ts'
import { DEFAULT_LIMITS } from '../scenario/trust-policy.ts'
import { SqliteStore } from '../store/sqlite-store.ts'
import { CapacitySearch } from './capacity-search.ts'
import { SqliteCapacityStore } from './capacity-store.ts'
import { capacityOptionsSchema } from './options.ts'
import { prepareSearch } from './prepare.ts'

// find-max against the memory broker with a known knee, on a manual clock the bus shares: the
// search must find that knee within its precision, whatever the machine's speed.
const stops: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(stops.splice(0).map((s) => s()))
})

const KNEE = 2000

async function search(options: Record<string, unknown>, broker: Record<string, unknown> = {}) {
  const clock = new ManualClock()
  stops.push(clock.autoAdvance().stop)
  const { bus } = await memoryScenario({ producer: { devices: 1, rate: '1/s', duration: '1s' } })
  bus.clock = () => clock.nowUs() / 1000
  const raw = {
    name: 'knee',
    broker: { plugin: 'memory', bus: bus.name, capacity: `${KNEE}/s`, ...broker },
    producer: { devices: 4, totalRate: '250/s', duration: '2s', warmup: '500ms', topic: 'knee/{device}' },
    run: { drain: '500ms', generator: { maxEventLoopDelay: '10s' } },
  }
  const resolve = (r: unknown) => resolveScenario(r, { env: {} })
  const prepared = await prepareSearch(raw, capacityOptionsSchema.parse(options), resolve, DEFAULT_LIMITS)
  const store = new SqliteStore(':memory:')
  const capacity = new SqliteCapacityStore(store.database)
  const logger = collectingLogger()
  const s = new CapacitySearch(prepared, {
    startRun: (resolved) => startRun(resolved, { clock, logger, store }),
    resolveProbe: resolve,
    store: capacity,
    logger,
  })
  return { result: await s.done, id: s.id, store, capacity }
}

describe('find-max on a path with a known capacity', () => {
  it('finds the knee within the stated precision; the broker set it; every probe is a stored run', async () => {
    const { result, id, store, capacity } = await search({ precision: '5%', slo: { 'e2e.p99': '1s' } })
    expect(result.status).toBe('found')
    // The bus admits KNEE/s plus a burst of a tenth of a second over the 2.5 s a probe sends.
    expect(result.sustainedRate).toBeGreaterThanOrEqual(KNEE / 1.05)
    expect(result.sustainedRate).toBeLessThanOrEqual(KNEE * 1.04)
    expect(result.firstFailingRate).toBeGreaterThan(KNEE)
    expect(result.gap).toBeLessThanOrEqual(0.05)
    expect(result).toMatchObject({ limitedBy: 'broker', lowerBound: false })
    expect(result.failure?.limit).toMatch(/^(loss|broker-lag)$/)
    expect(result.message).toMatch(/the broker set the limit/)
    // Doubling from the floor, then bisection: the curve has every probe, by rate.
    const rates = result.curve.map((p) => p.rate)
    expect(rates.slice(0, 4)).toEqual([250, 500, 1000, 2000])
    expect(rates).toContain(4000)
    for (const p of result.curve) {
      expect(p.ok).toBe(p.rate <= result.sustainedRate!)
      expect(p.e2e.raw.p99).toBeGreaterThan(0)
      const run = store.getRun(p.runId)
      expect(run?.name).toBe(`knee @ ${p.rate.toLocaleString('en-US')}/s (find-max ${id})`)
      expect(run?.status).toBe('completed')
    }
    const stored = capacity.getSearch(id)!
    expect(stored).toMatchObject({ status: 'completed', result: { sustainedRate: result.sustainedRate } })
    expect(stored.probes.map((p) => p.runId).sort()).toEqual(result.curve.map((p) => p.runId).sort())
    store.close()
  })

  it('a path that fails at the floor says so, with why', async () => {
    const { result } = await search({ from: '4000/s' })
    expect(result).toMatchObject({ status: 'floor-fails', sustainedRate: null, firstFailingRate: 4000 })
    expect(result.message).toMatch(/^fails at the floor rate 4,000 msg\/s \((loss|broker-lag): /)
  })
})
