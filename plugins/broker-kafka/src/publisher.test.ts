import { describe, expect, it } from 'vitest'
import { asBuffer, laneOf } from './publisher.ts'

describe('publisher lanes', () => {
  it('keeps a key in one lane and spreads keys over all lanes', () => {
    expect(laneOf('dev-7', 5)).toBe(laneOf('dev-7', 5))
    expect(laneOf(undefined, 5)).toBe(0)
    expect(laneOf('anything', 1)).toBe(0)
    const used = new Set(Array.from({ length: 200 }, (_, i) => laneOf(String(i), 5)))
    expect([...used].sort()).toEqual([0, 1, 2, 3, 4])
  })

  it('wraps bytes without copying', () => {
    const bytes = new Uint8Array([1, 2, 3, 4]).subarray(1, 3)
    const buf = asBuffer(bytes)
    expect([...buf]).toEqual([2, 3])
    expect(buf.buffer).toBe(bytes.buffer)
  })
})
