import { ConfigError } from '@iotload/sdk'
import { describe, expect, it } from 'vitest'
import { compileFilter } from './topic-filter.ts'

describe('compileFilter', () => {
  const cases: Array<[filter: string, topic: string, expected: boolean]> = [
    ['a/b', 'a/b', true],
    ['a/b', 'a/bc', false],
    ['a/b', 'a', false],
    ['a/+', 'a/b', true],
    ['a/+', 'a/', true],
    ['a/+', 'a', false],
    ['a/+', 'a/b/c', false],
    ['+/b', 'x/b', true],
    ['+/b', 'x/bb', false],
    ['a/+/c', 'a/7/c', true],
    ['a/+/c', 'a/7/d', false],
    ['a/+/c', 'a/7/c/d', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['a/#', 'ab', false],
    ['a/#', 'b/a', false],
    ['#', 'anything/at/all', true],
    ['#', '', true],
    ['+', 'x', true],
    ['+', 'x/y', false],
    ['a/+/#', 'a/1', true],
    ['a/+/#', 'a', false],
    ['a+/b', 'a+/b', true],
    ['a+/b', 'ax/b', false],
  ]
  it.each(cases)('%s vs %s → %s', (filter, topic, expected) => {
    expect(compileFilter(filter).matches(topic)).toBe(expected)
  })

  it('honours another separator', () => {
    const f = compileFilter('actions.+.cmd', '.')
    expect(f.matches('actions.7.cmd')).toBe(true)
    expect(f.matches('actions/7/cmd')).toBe(false)
    expect(f.prefix).toBe('actions')
  })

  it('honours a multi-character separator', () => {
    const f = compileFilter('a::+::c', '::')
    expect(f.matches('a::xyz::c')).toBe(true)
    expect(f.matches('a::x:y::c')).toBe(true)
    expect(f.matches('a::x::y::c')).toBe(false)
  })

  it('subscribes to the literal levels before the first wildcard', () => {
    expect(compileFilter('devices/+/telemetry').prefix).toBe('devices')
    expect(compileFilter('a/b/#').prefix).toBe('a/b')
    expect(compileFilter('+/x').prefix).toBe('')
    expect(compileFilter('plain/topic').prefix).toBe('plain/topic')
  })

  it('rejects a multi-level wildcard that is not last', () => {
    expect(() => compileFilter('a/#/b')).toThrow(ConfigError)
    expect(() => compileFilter('a/#/b')).toThrow(/must be the last level/)
  })
})
