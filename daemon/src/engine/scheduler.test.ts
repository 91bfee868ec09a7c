import { nowUs } from '@iotload/sdk'
import { describe, expect, it } from 'vitest'
import { RateCurve } from './rate-curve.ts'
import { OpenLoopScheduler } from './scheduler.ts'
import { ManualClock } from './testing/manual-clock.ts'

/** A scheduler on a manual clock that records every send with the time it was made. */
function rig(opts: {
  rate: number
  devices: number
  durationMs: number
  leadMs?: number
  maxBurst?: number
  resolutionUs?: number
}) {
  const clock = new ManualClock({ startUs: 1_000_000_000 })
  const startUs = clock.nowUs() + (opts.leadMs ?? 0) * 1000
  const fired: Array<{ dev: number; seq: number; intended: number; at: number }> = []
  const s = new OpenLoopScheduler(
    {
      startUs,
      totalRate: opts.rate,
      devices: opts.devices,
      endUs: startUs + opts.durationMs * 1000,
      ...(opts.maxBurst ? { maxBurst: opts.maxBurst } : {}),
      ...(opts.resolutionUs ? { resolutionUs: opts.resolutionUs } : {}),
    },
    (dev, seq, intended) => fired.push({ dev, seq, intended, at: clock.nowUs() }),
    clock,
  )
  return { clock, s, fired, startUs }
}

describe('OpenLoopScheduler', () => {
  it('spreads device phases evenly, gives each device consecutive seqs, and fires on time', async () => {
    const { clock, s, fired, startUs } = rig({ rate: 1000, devices: 4, durationMs: 100, leadMs: 5 })
    s.start()
    clock.advance(200)
    await s.done
    expect(fired).toHaveLength(100)
    expect(fired.slice(0, 5).map((f) => f.dev)).toEqual([0, 1, 2, 3, 0])
    expect(fired.filter((f) => f.dev === 2).map((f) => f.seq)).toEqual(
      Array.from({ length: 25 }, (_, i) => i),
    )
    // device k of N has phase k/N of its own period (4 ms): 1 ms apart here
    expect(fired[0]!.intended).toBe(startUs)
    expect(fired[1]!.intended - fired[0]!.intended).toBe(1000)
    expect(fired[4]!.intended - fired[0]!.intended).toBe(4000)
    // Nothing early, and nothing late by more than a loop turn when nothing blocks.
    for (const f of fired) expect(f.at - f.intended).toBeGreaterThanOrEqual(0)
    expect(Math.max(...fired.map((f) => f.at - f.intended))).toBeLessThanOrEqual(1)
  })

  it('sub-millisecond intervals keep their exact intended times', () => {
    const { clock, s, fired, startUs } = rig({ rate: 3000, devices: 3, durationMs: 10 })
    s.start()
    clock.advance(20)
    expect(fired).toHaveLength(30)
    expect(fired.map((f) => f.intended)).toEqual(
      Array.from({ length: 30 }, (_, i) => Math.round(startUs + (i * 1e6) / 3000)),
    )
    for (const f of fired) expect(f.at).toBeGreaterThanOrEqual(f.intended)
  })

  it('with a resolution, batches what falls due between turns and keeps every intended time', () => {
    const { clock, s, fired, startUs } = rig({
      rate: 20_000,
      devices: 10,
      durationMs: 100,
      resolutionUs: 1000,
    })
    s.start()
    clock.advance(200)
    expect(fired).toHaveLength(2000)
    expect(fired.map((f) => f.intended)).toEqual(
      Array.from({ length: 2000 }, (_, i) => Math.round(startUs + i * 50)),
    )
    const turns = [...new Set(fired.map((f) => f.at))]
    // One turn per millisecond (not one per send), none closer than the resolution.
    expect(turns.length).toBeGreaterThanOrEqual(99)
    expect(turns.length).toBeLessThanOrEqual(101)
    for (let i = 1; i < turns.length; i++) expect(turns[i]! - turns[i - 1]!).toBeGreaterThanOrEqual(1000)
    // Late by at most the resolution, never early.
    for (const f of fired) {
      expect(f.at).toBeGreaterThanOrEqual(f.intended)
      expect(f.at - f.intended).toBeLessThanOrEqual(1001)
    }
  })

  it('with a resolution, a slower schedule still sends each message at its own time', () => {
    const { clock, s, fired } = rig({ rate: 500, devices: 5, durationMs: 100, leadMs: 5, resolutionUs: 1000 })
    s.start()
    clock.advance(200)
    expect(fired).toHaveLength(50)
    for (const f of fired) expect(f.at - f.intended).toBeLessThanOrEqual(1)
  })

  it('catches up after a stall instead of skipping sends, and the late ones keep their intended time', () => {
    const { clock, s, fired, startUs } = rig({ rate: 10_000, devices: 10, durationMs: 200 })
    s.start()
    clock.advance(10)
    const before = fired.length
    clock.block(60) // the event loop was busy for 60 ms: nothing could fire
    expect(fired.length).toBe(before)
    expect(s.backlog()).toBe(600)
    clock.advance(200)
    expect(s.issued).toBe(2000)
    expect(fired.every((f) => f.at >= f.intended)).toBe(true)
    const late = fired.filter((f) => f.at - f.intended > 20_000)
    expect(late.length).toBeGreaterThan(0)
    // The stalled sends went out at the end of the stall, each against its own slot.
    expect(late[0]!.at).toBe(startUs + 70_000)
  })

  it('yields to I/O after maxBurst sends when far behind', () => {
    const { clock, s, fired } = rig({ rate: 10_000, devices: 1, durationMs: 1000, maxBurst: 2000 })
    s.start()
    clock.block(1000)
    expect(clock.step()).toBe(true)
    expect(fired).toHaveLength(2000)
    expect(s.backlog()).toBe(8000)
    clock.step()
    expect(fired).toHaveLength(4000)
  })

  it('stops early on stop(), and fires nothing after', async () => {
    const { clock, s, fired } = rig({ rate: 100, devices: 1, durationMs: 10_000 })
    s.start()
    clock.advance(50)
    expect(fired).toHaveLength(6) // sends due at 0, 10, …, 50 ms
    s.stop()
    s.stop()
    await s.done
    clock.advance(1000)
    expect(s.issued).toBe(6)
    expect(clock.pending).toBe(0)
  })

  it('keeps its schedule when a send throws, and still finishes', async () => {
    const clock = new ManualClock()
    const start = clock.nowUs()
    let calls = 0
    const s = new OpenLoopScheduler(
      { startUs: start, totalRate: 1000, devices: 2, endUs: start + 50_000 },
      () => {
        calls++
        if (calls === 3) throw new Error('a plugin threw')
      },
      clock,
    )
    s.start()
    expect(() => clock.advance(100)).toThrow('a plugin threw')
    clock.advance(100)
    await s.done
    expect(s.issued).toBe(50)
    expect(calls).toBe(50)
  })

  it('runs on the system clock by default', async () => {
    const start = nowUs() + 2000
    const fired: number[] = []
    const s = new OpenLoopScheduler(
      { startUs: start, totalRate: 1000, devices: 2, endUs: start + 20_000 },
      (_d, _q, t) => {
        if (nowUs() >= t) fired.push(t)
      },
    )
    s.start()
    await s.done
    expect(fired).toHaveLength(20)
  })
})

describe('OpenLoopScheduler on a rate curve', () => {
  it('a ramp 0 → 1000/s over 10 s: sends due by each second match the integral within 1, device phases kept', () => {
    const clock = new ManualClock({ startUs: 1_000_000_000 })
    const startUs = clock.nowUs()
    const devices = 7
    const curve = RateCurve.fromStages([{ durationMs: 10_000, target: 1000, ramp: 'linear' }])
    const fired: Array<{ dev: number; seq: number; intended: number }> = []
    const s = new OpenLoopScheduler(
      { startUs, curve, devices, endUs: startUs + 10_000_000 },
      (dev, seq, intended) => fired.push({ dev, seq, intended }),
      clock,
    )
    s.start()
    for (let sec = 1; sec <= 10; sec++) {
      clock.advance(1000)
      // ∫0^t 100·x dx = 50·t²: sends due at or before t
      expect(Math.abs(fired.length - 50 * sec * sec)).toBeLessThanOrEqual(1)
      expect(Math.abs(s.issued - curve.dueBy(sec * 1e6))).toBeLessThanOrEqual(1)
    }
    expect(s.issued).toBe(5000)
    // Send i goes to device i mod N with seq i div N, so every device keeps its place in the
    // fleet's rotation while the rate climbs, and the intended times never go backwards.
    fired.forEach((f, i) => {
      expect(f.dev).toBe(i % devices)
      expect(f.seq).toBe(Math.floor(i / devices))
      if (i > 0) expect(f.intended).toBeGreaterThanOrEqual(fired[i - 1]!.intended)
    })
    // The intended time of each send is where the integral reaches its index.
    for (const i of [1, 100, 2500, 4999])
      expect(Math.abs(curve.integral(fired[i]!.intended - startUs) - i)).toBeLessThan(0.01)
  })

  it('stages: the backlog and the end follow the curve, and a step shows in the per-second counts', () => {
    const clock = new ManualClock({ startUs: 5_000_000_000 })
    const startUs = clock.nowUs()
    const curve = RateCurve.fromStages([
      { durationMs: 2000, target: 200, ramp: 'step' },
      { durationMs: 2000, target: 800, ramp: 'step' },
    ])
    const perSecond = [0, 0, 0, 0]
    const s = new OpenLoopScheduler(
      { startUs, curve, devices: 4, endUs: startUs + curve.durationUs },
      (_d, _q, intended) => {
        perSecond[Math.floor((intended - startUs) / 1e6)]!++
      },
      clock,
    )
    s.start()
    clock.block(1500)
    expect(s.backlog()).toBe(301)
    clock.advance(5000)
    expect(perSecond).toEqual([200, 200, 800, 800])
    expect(s.planned).toBe(2000)
  })
})
