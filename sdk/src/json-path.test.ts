import { describe, expect, it } from 'vitest'
import { compileJsonPath, parseJsonPath } from './json-path.ts'

describe('compileJsonPath', () => {
  const doc = { original: { lastUpdated: '2026-01-01T00:00:00.123Z' }, list: [{ x: 1 }, { x: 2 }], 'a.b': 3 }
  it('walks members, indexes and quoted names', () => {
    expect(compileJsonPath('$.original.lastUpdated')(doc)).toBe('2026-01-01T00:00:00.123Z')
    expect(compileJsonPath('$.list[1].x')(doc)).toBe(2)
    expect(compileJsonPath("$['a.b']")(doc)).toBe(3)
    expect(compileJsonPath('$')(doc)).toBe(doc)
  })
  it('returns undefined for a missing path instead of throwing', () => {
    expect(compileJsonPath('$.original.missing.deeper')(doc)).toBeUndefined()
    expect(compileJsonPath('$.list[5].x')(doc)).toBeUndefined()
    expect(compileJsonPath('$.a')('not an object')).toBeUndefined()
  })
  it('rejects malformed paths', () => {
    expect(() => parseJsonPath('original.x')).toThrow(/must start with/)
    expect(() => parseJsonPath('$.a..b')).toThrow(/empty name/)
    expect(() => parseJsonPath('$.a[x]')).toThrow(/expected \[index\]/)
  })
})
