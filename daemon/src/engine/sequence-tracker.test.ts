import { describe, expect, it } from 'vitest'
import { SequenceTracker } from './sequence-tracker.ts'

describe('SequenceTracker', () => {
  it('classifies in-order, late and duplicate arrivals per device', () => {
    const t = new SequenceTracker()
    expect(t.see(1, 0)).toBe('in-order')
    expect(t.see(1, 2)).toBe('in-order')
    expect(t.gaps).toBe(1)
    expect(t.see(1, 1)).toBe('late')
    expect(t.gaps).toBe(0)
    expect(t.see(1, 1)).toBe('duplicate')
    expect(t.see(2, 0)).toBe('in-order')
    expect(t.unique).toBe(4)
  })

  it('grows its bitset for long runs without misclassifying', () => {
    const t = new SequenceTracker()
    for (let s = 0; s <= 100_000; s += 2) t.see(7, s)
    for (let s = 1; s < 100_000; s += 2) expect(t.see(7, s)).toBe('late')
    expect(t.see(7, 50_000)).toBe('duplicate')
    expect(t.gaps).toBe(0)
    expect(t.unique).toBe(100_001)
  })
})
