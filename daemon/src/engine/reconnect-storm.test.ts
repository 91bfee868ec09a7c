import { describe, expect, it } from 'vitest'
import { splitFleet } from './device-shard.ts'
import { stormIndexes } from './reconnect-storm.ts'

describe('stormIndexes', () => {
  it('spreads the drops evenly over the fleet', () => {
    expect(stormIndexes(10, 0.5)).toEqual([1, 3, 5, 7, 9])
    expect(stormIndexes(10, 0.1)).toEqual([9])
    expect(stormIndexes(4, 1)).toEqual([0, 1, 2, 3])
  })

  it("drops, over a fleet's slices, exactly the connections the fleet in one piece drops", () => {
    for (const [count, fraction, parts] of [
      [10, 0.1, 2], // one thread drops 1; slices of 5 + 5 each dropped none before
      [10, 0.25, 3],
      [7, 0.5, 2],
      [100, 0.07, 4],
      [30, 1 / 3, 16],
    ] as const) {
      const whole = stormIndexes(count, fraction)
      const sliced = splitFleet(count, parts).flatMap((s) =>
        stormIndexes(s.count, fraction, s.from).map((j) => s.from + j),
      )
      expect(sliced, `${count} × ${fraction} over ${parts}`).toEqual(whole)
    }
  })
})
