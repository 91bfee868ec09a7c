import { nowUs } from '@iotload/sdk'
import { describe, expect, it } from 'vitest'
import { OpenLoopScheduler } from './scheduler.ts'

describe('OpenLoopScheduler', () => {
  it('spreads device phases evenly and gives each device consecutive seqs', async () => {
    const start = nowUs() + 5000
    const fired: Array<[number, number, number]> = []
    const s = new OpenLoopScheduler(
      { startUs: start, totalRate: 1000, devices: 4, endUs: start + 100_000 },
      (d, q, t) => fired.push([d, q, t]),
    )
    s.start()
    await s.done
    expect(fired).toHaveLength(100)
    expect(fired.slice(0, 5).map((f) => f[0])).toEqual([0, 1, 2, 3, 0])
    expect(fired.filter((f) => f[0] === 2).map((f) => f[1])).toEqual(Array.from({ length: 25 }, (_, i) => i))
    // device k of N has phase k/N of its own period (4 ms): 1 ms apart here
    expect(fired[1]![2] - fired[0]![2]).toBe(1000)
    expect(fired[4]![2] - fired[0]![2]).toBe(4000)
  })

  it('catches up after a stall instead of skipping sends, and never fires early', async () => {
    const start = nowUs()
    let late = 0
    let early = 0
    const s = new OpenLoopScheduler(
      { startUs: start, totalRate: 10_000, devices: 10, endUs: start + 200_000 },
      (_d, _q, t) => {
        const now = nowUs()
        if (now < t) early++
        if (now - t > 20_000) late++
      },
    )
    s.start()
    const until = Date.now() + 60
    while (Date.now() < until) {
      /* block the event loop for 60 ms */
    }
    await s.done
    expect(s.issued).toBe(2000)
    expect(early).toBe(0)
    expect(late).toBeGreaterThan(0)
  })

  it('stops early on stop()', async () => {
    const start = nowUs()
    const s = new OpenLoopScheduler(
      { startUs: start, totalRate: 100, devices: 1, endUs: start + 10_000_000 },
      () => {},
    )
    s.start()
    setTimeout(() => s.stop(), 50)
    await s.done
    // 100/s for 50 ms is ~5; a loaded machine may fire the stop timer late, but not by a second.
    expect(s.issued).toBeLessThan(100)
  })

  it('keeps its schedule when a send throws, and still finishes', async () => {
    const start = nowUs()
    let calls = 0
    const thrown: unknown[] = []
    const onStray = (err: unknown) => thrown.push(err)
    process.on('uncaughtException', onStray)
    try {
      const s = new OpenLoopScheduler(
        { startUs: start, totalRate: 1000, devices: 2, endUs: start + 50_000 },
        () => {
          calls++
          if (calls === 3) throw new Error('a plugin threw')
        },
      )
      s.start()
      await s.done
      expect(s.issued).toBe(50)
      expect(calls).toBe(50)
      expect(thrown).toHaveLength(1)
    } finally {
      process.off('uncaughtException', onStray)
    }
  })
})
