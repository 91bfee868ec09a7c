import { describe, expect, it } from 'vitest'
import { compileMqttFilter, mqttFilterMatches } from './topic-filter.ts'

describe('mqttFilterMatches', () => {
  it.each([
    ['a/b', 'a/b', true],
    ['a/+', 'a/b', true],
    ['a/+', 'a/b/c', false],
    ['a/#', 'a/b/c', true],
    ['a/#', 'a', true], // the spec: 'sport/#' also matches 'sport'
    ['+/+/telemetry', 'devices/7/telemetry', true],
    ['+/+/telemetry', 'devices/7/state', false],
    ['#', 'x/y', true],
    ['a/b', 'a/c', false],
  ])('%s ~ %s = %s', (filter, topic, expected) => {
    expect(mqttFilterMatches(filter, topic)).toBe(expected)
    expect(compileMqttFilter(filter)(topic)).toBe(expected)
  })
})
