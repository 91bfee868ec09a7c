import { describe, expect, it } from 'vitest'
import { compileTopicMapper } from './topic-mapper.ts'

describe('compileTopicMapper', () => {
  it('carries captures from one template to the other', () => {
    const map = compileTopicMapper('devices/{device}/telemetry', 'actions/{device}')
    expect(map('devices/7/telemetry')).toBe('actions/7')
    expect(map('devices/7/state')).toBeUndefined()
  })
  it('works with NATS-style separators and fixed topics', () => {
    expect(compileTopicMapper('devices.{device}.telemetry', 'actions.{device}')('devices.42.telemetry')).toBe(
      'actions.42',
    )
    expect(compileTopicMapper('iot.telemetry', 'iot.actions')('iot.telemetry')).toBe('iot.actions')
  })
  it('refuses a target placeholder the source does not capture', () => {
    expect(() => compileTopicMapper('a/{device}', 'b/{run}')).toThrow(/does not capture/)
  })
})
