import { describe, expect, it } from 'vitest'
import { sleepOn } from '../clock.ts'
import { ManualClock } from './manual-clock.ts'

describe('ManualClock', () => {
  it('fires timers in due order, each at its due time, and only when advanced', () => {
    const clock = new ManualClock({ startUs: 1_000_000 })
    const fired: Array<[string, number]> = []
    const at = (name: string) => () => fired.push([name, clock.nowUs()])
    clock.setTimeout(at('b'), 20)
    clock.setTimeout(at('a'), 10)
    clock.setTimeout(at('b2'), 20)
    const cancelled = clock.setTimeout(at('never'), 15)
    clock.clearTimer(cancelled)
    clock.clearTimer(undefined)
    expect(fired).toEqual([])
    clock.advance(15)
    expect(fired).toEqual([['a', 1_010_000]])
    expect(clock.nowUs()).toBe(1_015_000)
    clock.advance(100)
    expect(fired.map((f) => f[0])).toEqual(['a', 'b', 'b2'])
    expect(fired[1]![1]).toBe(1_020_000)
    expect(clock.nowUs()).toBe(1_115_000)
    expect(clock.pending).toBe(0)
  })

  it('an immediate costs one turn, so a busy wait reaches its deadline', () => {
    const clock = new ManualClock({ startUs: 0, turnUs: 1 })
    const deadline = 500
    let turns = 0
    const spin = () => {
      turns++
      if (clock.nowUs() < deadline) clock.setImmediate(spin)
    }
    clock.setImmediate(spin)
    clock.advance(1)
    expect(turns).toBe(500)
  })

  it('block moves time without firing; the overdue timers fire on the next advance', () => {
    const clock = new ManualClock({ startUs: 0 })
    const fired: number[] = []
    clock.setTimeout(() => fired.push(clock.nowUs()), 5)
    clock.block(50)
    expect(fired).toEqual([])
    clock.advance(0)
    expect(fired).toEqual([50_000])
  })

  it('a throwing timer ends advance with its error; the rest still fire on the next one', () => {
    const clock = new ManualClock({ startUs: 0 })
    const fired: string[] = []
    clock.setTimeout(() => {
      throw new Error('boom')
    }, 1)
    clock.setTimeout(() => fired.push('later'), 2)
    expect(() => clock.advance(10)).toThrow('boom')
    expect(clock.nowUs()).toBe(1000)
    clock.advance(10)
    expect(fired).toEqual(['later'])
  })

  it('advanceAsync lets promise callbacks run between timers', async () => {
    const clock = new ManualClock({ startUs: 0 })
    const log: string[] = []
    void (async () => {
      for (let i = 0; i < 3; i++) {
        await sleepOn(clock, 10)
        log.push(`tick ${clock.nowUs()}`)
      }
    })()
    await clock.advanceAsync(100)
    expect(log).toEqual(['tick 10000', 'tick 20000', 'tick 30000'])
  })

  it('autoAdvance runs a long timer chain by itself, and stop reports a timer error', async () => {
    const clock = new ManualClock({ startUs: 0 })
    const auto = clock.autoAdvance()
    for (let i = 0; i < 100; i++) await sleepOn(clock, 1000)
    expect(clock.nowUs()).toBe(100_000_000)
    clock.setTimeout(() => {
      throw new Error('late failure')
    }, 1)
    await sleepOn(clock, 5)
    await expect(auto.stop()).rejects.toThrow('late failure')
  })
})
