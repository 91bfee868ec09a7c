import { beforeAll, describe, expect, it } from 'vitest'
import { LatencyHistogram, mergeEncoded, statsOf } from '../engine/histogram.ts'
import { type MergeOutput, mergeCluster, slicer } from './merge.ts'
import type { TopicSecond } from './topic-record.ts'

function rec(s: number, m: string, values: number[]): TopicSecond {
  const h = new LatencyHistogram()
  for (const v of values) h.record(v)
  return {
    s,
    m,
    received: values.length,
    receivedWarmup: 0,
    duplicates: 0,
    reordered: 0,
    invalid: 0,
    clockSkew: 0,
    gaps: 0,
    raw: h.encode(),
    co: h.encode(),
  }
}

describe('mergeCluster', () => {
  const a = [rec(0, 'A', [100, 200]), rec(1, 'A', [300]), rec(3, 'A', [5000])]
  const b = [rec(0, 'B', [150]), rec(1, 'B', [10_000, 20_000]), rec(4, 'C', [400])]
  let out: MergeOutput
  beforeAll(async () => {
    out = await mergeCluster({
      topics: ['t1', 't2'],
      // Stored records arrive as JSON text; parsed ones are taken as they are.
      results: new Map<string, Array<TopicSecond | string>>([
        ['t1', a],
        ['t2', b.map((r) => JSON.stringify(r))],
      ]),
      sentAll: new Map([
        ['t1', 4],
        ['t2', 7],
      ]),
      sentPerSecond: new Map([[0, { sent: 5, sentWarmup: 0, publishErrors: 0 }]]),
    })
  })

  it('adds counters and merges histograms exactly, per second and in total', () => {
    expect(out.total.received).toBe(8)
    expect(out.seconds.map((s) => s.counters.received)).toEqual([3, 3, 1, 1])
    const all = [...a, ...b].flatMap((r) => [r.raw])
    const byHand = statsOf(mergeEncoded(all))
    const merged = statsOf(out.raw)
    expect(merged).toEqual(byHand)
    expect(merged.count).toBe(8)
  })

  it('reports per-topic loss and the gap where the owner changed (a hole in one owner is no gap)', () => {
    expect(out.topics).toEqual([
      { topic: 't1', sent: 4, received: 4, owners: ['A'] },
      { topic: 't2', sent: 7, received: 4, owners: ['B', 'C'] },
    ])
    expect(out.gaps).toEqual([
      { topic: 't2', from: 'B', to: 'C', lastSecondBefore: 1, firstSecondAfter: 4, seconds: 2, lost: 3 },
    ])
  })

  it('reports a topic nobody claimed as one whole-run gap', async () => {
    const o = await mergeCluster({
      topics: ['x'],
      results: new Map(),
      sentAll: new Map([['x', 3]]),
      sentPerSecond: new Map([[2, { sent: 3, sentWarmup: 0, publishErrors: 0 }]]),
    })
    expect(o.gaps).toEqual([
      {
        topic: 'x',
        from: null,
        to: null,
        lastSecondBefore: null,
        firstSecondAfter: null,
        seconds: 3,
        lost: 3,
      },
    ])
  })
})

describe('slicer', () => {
  it('yields to the event loop once a slice of work has gone by', async () => {
    const pace = slicer(5)
    let timerRan = false
    setTimeout(() => {
      timerRan = true
    }, 0)
    const until = performance.now() + 30
    let yields = 0
    while (performance.now() < until) {
      const y = pace()
      if (y) {
        yields++
        await y
        await new Promise((r) => setTimeout(r, 1))
      }
    }
    expect(yields).toBeGreaterThan(1)
    expect(timerRan).toBe(true)
  })
})
