import { describe, expect, it } from 'vitest'
import { splitFleet } from '../device-shard.ts'
import { firstConnectionOf, shareOf } from './worker-roles.ts'

describe('shareOf: a shard’s part of a pool or a connect concurrency', () => {
  it('adds up to the whole over a fleet’s shards, however unevenly cut', () => {
    for (const [n, devices, parts] of [
      [3, 10, 2],
      [3, 10, 3],
      [7, 100, 4],
      [10, 30, 16],
    ] as const) {
      const shares = splitFleet(devices, parts).map((s) => shareOf(n, s))
      expect(
        shares.reduce((a, b) => a + b, 0),
        `${n} over ${parts}`,
      ).toBe(Math.max(n, parts))
    }
  })

  it('a group cut 25 + 5 keeps its 3 connections (rounding each gave 4)', () => {
    expect(
      shareOf(3, { from: 0, count: 25, fleet: 30 }) + shareOf(3, { from: 25, count: 5, fleet: 30 }),
    ).toBe(3)
  })
})

describe('firstConnectionOf: where a shard starts among its fleet’s connections', () => {
  const producer = (connections: 'per-device' | number) =>
    ({ connections }) as unknown as Parameters<typeof firstConnectionOf>[0]

  it('is its first device with a connection per device', () => {
    expect(firstConnectionOf(producer('per-device'), { from: 25, count: 5, fleet: 30 })).toBe(25)
  })

  it('is where its share of a shared pool starts: the shares follow on without gap or overlap', () => {
    for (const [n, devices, parts] of [
      [3, 10, 2],
      [7, 100, 4],
      [10, 30, 3],
    ] as const) {
      const shards = splitFleet(devices, parts)
      const starts = shards.map((s) => firstConnectionOf(producer(n), s))
      expect(starts[0]).toBe(0)
      for (let k = 1; k < shards.length; k++)
        expect(starts[k], `${n} over ${parts}`).toBe(starts[k - 1]! + shareOf(n, shards[k - 1]!))
    }
  })
})
