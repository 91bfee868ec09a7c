import { describe, expect, it } from 'vitest'
import { Counters } from '../engine/counters.ts'
import { progressLine } from './progress.ts'

const report = (targetRate?: number) => ({
  second: 4,
  warmup: false,
  counters: Object.assign(new Counters(), { sent: 1980, received: 1975 }),
  gaps: 0,
  streams: [],
  ...(targetRate !== undefined ? { targetRate } : {}),
})

describe('progressLine', () => {
  it('shows the second’s target beside what was sent', () => {
    expect(progressLine(report(2000))).toMatch(/sent\/s +1,980 of +2,000 +recv\/s +1,975/)
  })

  it('shows the sent count alone when the report has no target (a cluster merge)', () => {
    expect(progressLine(report())).toMatch(/sent\/s +1,980 +recv\/s/)
    expect(progressLine(report())).not.toMatch(/ of /)
  })
})
