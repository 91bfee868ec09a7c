import { describe, expect, it } from 'vitest'
import {
  groupShards,
  countInShard,
  type DeviceShard,
  identitiesOfShard,
  nextInShard,
  splitFleet,
  wholeFleet,
} from './device-shard.ts'
import type { ProducerGroup } from '../scenario/schema.ts'
import { RateCurve } from './rate-curve.ts'
import { OpenLoopScheduler } from './scheduler.ts'
import { ManualClock } from './testing/manual-clock.ts'

type Send = { dev: number; seq: number; intended: number }

/** Every send of a scheduler over `curve` for `shard`, devices renumbered to the fleet. */
async function sendsOf(curve: RateCurve, shard: DeviceShard): Promise<{ sends: Send[]; planned: number }> {
  const clock = new ManualClock({ startUs: 1_000_000_000 })
  const startUs = clock.nowUs()
  const sends: Send[] = []
  const s = new OpenLoopScheduler(
    { startUs, curve, devices: shard.fleet, endUs: startUs + curve.durationUs, shard },
    (dev, seq, intended) => sends.push({ dev: dev + shard.from, seq, intended }),
    clock,
  )
  s.start()
  clock.advance(curve.durationUs / 1000 + 10)
  await s.done
  expect(s.issued).toBe(sends.length)
  expect(s.backlog()).toBe(0)
  return { sends, planned: s.planned }
}

const key = (x: Send) => `${x.dev}/${x.seq}/${x.intended}`

describe('device shards', () => {
  it('split a fleet into contiguous slices that differ by at most one device', () => {
    expect(splitFleet(10, 3).map((s) => [s.from, s.count])).toEqual([
      [0, 4],
      [4, 3],
      [7, 3],
    ])
    expect(splitFleet(2, 8)).toHaveLength(2)
    expect(splitFleet(5, 1)).toEqual([wholeFleet(5)])
  })

  it('count and skip to exactly the shard’s sends', () => {
    const s: DeviceShard = { from: 2, count: 3, fleet: 7 }
    const mine = Array.from({ length: 120 }, (_, n) => n).filter((n) => n % 7 >= 2 && n % 7 < 5)
    for (let n = 0; n < 100; n++) {
      expect(countInShard(s, n)).toBe(mine.filter((m) => m < n).length)
      expect(nextInShard(s, n)).toBe(mine.find((m) => m >= n))
    }
  })

  it('fire together exactly the sends of the whole fleet: devices, seqs and intended times', async () => {
    for (const curve of [
      RateCurve.constant(1000, 1_000_000),
      RateCurve.fromStages([
        { durationMs: 300, target: 2000, ramp: 'linear' },
        { durationMs: 400, target: 500, ramp: 'linear' },
      ]),
    ]) {
      const whole = await sendsOf(curve, wholeFleet(7))
      const parts = await Promise.all(splitFleet(7, 3).map((s) => sendsOf(curve, s)))
      const merged = parts.flatMap((p) => p.sends)
      expect(merged.map(key).sort()).toEqual(whole.sends.map(key).sort())
      expect(parts.reduce((n, p) => n + p.planned, 0)).toBe(whole.planned)
      expect(whole.sends.length).toBe(whole.planned)
    }
  })
})

describe('identitiesOfShard', () => {
  const table = (n: number, wrap: boolean) => ({
    rows: Array.from({ length: n }, (_, k) => ({ id: `row-${k}` })),
    wrap,
    field: 'producer.identities',
  })
  const ids = (t: ReturnType<typeof identitiesOfShard>) => t.rows.map((r) => r.id)

  it("gives a shard its devices' rows, as the fleet's device k takes row k", () => {
    const shards = splitFleet(10, 3)
    const rows = shards.flatMap((s) => ids(identitiesOfShard(table(10, false), s)))
    expect(rows).toEqual(Array.from({ length: 10 }, (_, k) => `row-${k}`))
    expect(identitiesOfShard(table(10, false), shards[1]!).wrap).toBe(false)
  })

  it('with wrap, a shard continues the fleet’s cycle through the rows', () => {
    const shards = splitFleet(10, 2)
    expect(shards.map((s) => ids(identitiesOfShard(table(3, true), s)))).toEqual([
      ['row-0', 'row-1', 'row-2', 'row-0', 'row-1'],
      ['row-2', 'row-0', 'row-1', 'row-2', 'row-0'],
    ])
  })
})

describe('groupShards', () => {
  const group = (name: string, firstDevice: number, devices: number) =>
    ({ name, config: { firstDevice, devices } }) as unknown as ProducerGroup
  // Groups of 2 and 3 devices, numbered on from device 10.
  const groups = [group('a', 10, 2), group('b', 12, 3)]
  const slices = (from: number, count: number) =>
    groupShards(groups, { from, count, fleet: 5 }).map((g) => [
      g.group.name,
      g.shard.from,
      g.shard.count,
      g.shard.fleet,
    ])

  it('cuts a shard that straddles two groups into each group’s own numbering', () => {
    expect(slices(0, 3)).toEqual([
      ['a', 0, 2, 2],
      ['b', 0, 1, 3],
    ])
    expect(slices(3, 2)).toEqual([['b', 1, 2, 3]])
  })

  it('leaves out the groups a shard does not reach', () => {
    expect(slices(2, 3)).toEqual([['b', 0, 3, 3]])
  })
})
