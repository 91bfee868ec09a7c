import { describe, expect, it } from 'vitest'
import { durationMsSchema, parseDurationMs, parseRatePerSecond, rateSchema } from './units.ts'

describe('units', () => {
  it('parses durations to ms', () => {
    expect(parseDurationMs('30s')).toBe(30_000)
    expect(parseDurationMs('500ms')).toBe(500)
    expect(parseDurationMs('1us')).toBe(0.001)
    expect(parseDurationMs('2m')).toBe(120_000)
    expect(parseDurationMs('1h')).toBe(3_600_000)
    expect(parseDurationMs(5)).toBe(5000)
    expect(parseDurationMs('soon')).toBeUndefined()
    expect(parseDurationMs('-5s')).toBeUndefined()
  })
  it('parses rates to per-second', () => {
    expect(parseRatePerSecond('10/s')).toBe(10)
    expect(parseRatePerSecond('600/min')).toBe(10)
    expect(parseRatePerSecond('10')).toBeUndefined()
  })
  it('rejects negative or zero rates with a clear message', () => {
    const r = rateSchema.safeParse('-5/s')
    expect(r.success).toBe(false)
    expect(r.error?.issues[0]?.message).toMatch(/positive rate/)
    expect(rateSchema.safeParse(0).success).toBe(false)
    expect(durationMsSchema.safeParse('abc').success).toBe(false)
  })
})
