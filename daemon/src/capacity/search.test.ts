import { describe, expect, it } from 'vitest'
import { type ProbeOutcome, roundRate, type SearchBounds, searchCapacity } from './search.ts'

const bounds = (b: Partial<SearchBounds> = {}): SearchBounds => ({
  floor: 1000,
  ceiling: 1_000_000,
  precision: 0.05,
  maxProbes: 30,
  maxTimeMs: 3_600_000,
  probeMs: 10_000,
  ...b,
})

/** A path that holds up to `knee` msg/s; every probe takes `probeMs` of (simulated) time. */
function path(knee: number, probeMs = 10_000) {
  let now = 0
  const rates: number[] = []
  const probe = async (rate: number): Promise<ProbeOutcome> => {
    rates.push(rate)
    now += probeMs
    return rate <= knee ? { ok: true, limit: null } : { ok: false, limit: 'loss' }
  }
  return { probe, rates, control: { now: () => now, stopped: () => false } }
}

describe('searchCapacity', () => {
  it('doubles from the floor, then bisects to the stated precision around the knee', async () => {
    const p = path(37_000)
    const out = await searchCapacity(bounds(), p.probe, p.control)
    expect(out.status).toBe('found')
    expect(p.rates.slice(0, 7)).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 64_000])
    expect(out.sustained).toBeLessThanOrEqual(37_000)
    expect(out.failing).toBeGreaterThan(37_000)
    expect((out.failing! - out.sustained!) / out.sustained!).toBeLessThanOrEqual(0.05)
    // No rate is probed twice, and every bisection probe lies between what held and what failed.
    expect(new Set(p.rates).size).toBe(p.rates.length)
  })

  it.each([0.01, 0.05, 0.2])('precision %s bounds the gap it leaves', async (precision) => {
    const p = path(12_345)
    const out = await searchCapacity(bounds({ precision }), p.probe, p.control)
    expect(out.status).toBe('found')
    expect((out.failing! - out.sustained!) / out.sustained!).toBeLessThanOrEqual(precision)
    expect(out.sustained).toBeLessThanOrEqual(12_345)
  })

  it('a floor that fails ends the search at once', async () => {
    const p = path(500)
    const out = await searchCapacity(bounds(), p.probe, p.control)
    expect(out).toEqual({ status: 'floor-fails', sustained: null, failing: 1000 })
    expect(p.rates).toEqual([1000])
  })

  it('a ceiling that holds ends the search there, and the ceiling is probed exactly', async () => {
    const p = path(1e9)
    const out = await searchCapacity(bounds({ ceiling: 5000 }), p.probe, p.control)
    expect(out).toEqual({ status: 'ceiling', sustained: 5000, failing: null })
    expect(p.rates).toEqual([1000, 2000, 4000, 5000])
  })

  it('a doubling that lands within the precision of the ceiling ends there instead of probing a few msg/s more', async () => {
    const p = path(1e9)
    const out = await searchCapacity(bounds({ ceiling: 8200 }), p.probe, p.control)
    expect(out).toEqual({ status: 'ceiling', sustained: 8000, failing: null })
    expect(p.rates).toEqual([1000, 2000, 4000, 8000])
  })

  it('stops at the probe budget or when the next probe would not fit the time budget', async () => {
    const p = path(37_000)
    const byProbes = await searchCapacity(bounds({ maxProbes: 3 }), p.probe, p.control)
    expect(byProbes).toMatchObject({ status: 'bounded', bound: 'probes', sustained: 4000, failing: null })
    const q = path(37_000)
    const byTime = await searchCapacity(bounds({ maxTimeMs: 45_000 }), q.probe, q.control)
    expect(byTime).toMatchObject({ status: 'bounded', bound: 'time' })
    expect(q.rates).toHaveLength(4)
  })

  it('a probe whose run failed outright ends the search as an error; a stop request ends it too', async () => {
    const err = await searchCapacity(bounds(), async () => ({ ok: false, limit: 'error' }), {
      now: () => 0,
      stopped: () => false,
    })
    expect(err.status).toBe('error')
    let stop = false
    const p = path(37_000)
    const out = await searchCapacity(
      bounds(),
      async (r) => {
        if (r >= 4000) stop = true
        return p.probe(r)
      },
      { now: () => 0, stopped: () => stop },
    )
    expect(out).toMatchObject({ status: 'stopped', sustained: 2000 })
  })

  it('rounds rates to whole msg/s from 1000 up, four significant digits below', () => {
    expect(roundRate(1234.5)).toBe(1235)
    expect(roundRate(12.34567)).toBe(12.35)
  })
})
