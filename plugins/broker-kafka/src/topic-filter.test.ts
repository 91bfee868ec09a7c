import { describe, expect, it } from 'vitest'
import { parseTopicFilter, topicNameProblem } from './topic-filter.ts'

function matches(filter: string, topic: string): boolean {
  const f = parseTopicFilter(filter)
  return 'literal' in f ? f.literal === topic : f.pattern.test(topic)
}

describe('kafka topic filters', () => {
  it('keeps a plain topic literal', () => {
    expect(parseTopicFilter('iot.telemetry')).toEqual({ literal: 'iot.telemetry' })
  })

  it('maps * to one level and > to the rest', () => {
    expect(matches('devices.*.telemetry', 'devices.d-7.telemetry')).toBe(true)
    expect(matches('devices.*.telemetry', 'devices.a.b.telemetry')).toBe(false)
    expect(matches('devices.*.telemetry', 'devicesXd7.telemetry')).toBe(false)
    expect(matches('devices.>', 'devices.a.b')).toBe(true)
    expect(matches('devices.>', 'devices')).toBe(false)
    expect(matches('actions.*', 'actions.d-1')).toBe(true)
  })

  it('accepts a /regex/ over the whole name', () => {
    expect(matches('/^iot-(a|b)$/', 'iot-b')).toBe(true)
    expect(matches('/^iot-(a|b)$/', 'iot-c')).toBe(false)
  })

  it('rejects illegal topics and misplaced wildcards with a reason', () => {
    expect(() => parseTopicFilter('devices/1/telemetry')).toThrow(/use '\.' as the level separator/)
    expect(() => parseTopicFilter('devices.+.telemetry')).toThrow(/a-zA-Z0-9/)
    expect(() => parseTopicFilter('a.>.b')).toThrow(/last level/)
    expect(() => parseTopicFilter('a.x*.b')).toThrow(/whole level/)
  })

  it('validates topic names', () => {
    expect(topicNameProblem('iot.telemetry_1-x')).toBeUndefined()
    expect(topicNameProblem('a/b')).toMatch(/'a\.b'/)
    expect(topicNameProblem('')).toBeDefined()
    expect(topicNameProblem('x'.repeat(250))).toBeDefined()
    expect(topicNameProblem('..')).toBeDefined()
  })
})
