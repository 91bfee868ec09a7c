import { describe, expect, it } from 'vitest'
import { workersOf } from './cluster-summary.ts'

describe('a producer report’s workers in the cluster summary', () => {
  it('keeps the three numbers and nothing else a report could carry', () => {
    expect(workersOf({ producers: 2, threads: 3, mergeMs: 1.5, html: '<script>', nested: { a: 1 } })).toEqual(
      {
        workers: { producers: 2, threads: 3, mergeMs: 1.5 },
      },
    )
    expect(workersOf({ producers: 2, threads: 'x', mergeMs: Number.NaN })).toEqual({
      workers: { producers: 2, threads: 0, mergeMs: 0 },
    })
  })

  it('gives nothing for a report without them, or with something else', () => {
    for (const w of [undefined, null, 'two', 2, [], { producers: '2' }]) expect(workersOf(w)).toEqual({})
  })
})
