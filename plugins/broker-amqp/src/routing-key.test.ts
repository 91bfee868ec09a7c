import { describe, expect, it } from 'vitest'
import { filterToBindingKey, routingKeyToTopic, SwapCache, topicToRoutingKey } from './routing-key.ts'

describe('topic ⇄ routing key', () => {
  it("turns '/' levels into '.' words", () => {
    expect(topicToRoutingKey('devices/dev-1/telemetry')).toBe('devices.dev-1.telemetry')
  })

  it("keeps a '.' inside a level out of the word structure, and round-trips exactly", () => {
    const topic = 'devices/v1.2/telemetry'
    const key = topicToRoutingKey(topic)
    expect(key).toBe('devices.v1/2.telemetry')
    expect(key.split('.')).toHaveLength(3)
    expect(routingKeyToTopic(key)).toBe(topic)
  })

  it('caches the swap in both directions', () => {
    const cache = new SwapCache(2)
    expect(cache.swap('a/b')).toBe('a.b')
    expect(cache.swap('a/b')).toBe('a.b')
    expect(cache.swap('a.b')).toBe('a/b')
    // Past the limit the memo starts over instead of growing without bound.
    expect(cache.swap('c/d/e')).toBe('c.d.e')
  })
})

describe('filter → binding key', () => {
  it.each([
    ['actions/+', 'actions.*'],
    ['devices/+/telemetry', 'devices.*.telemetry'],
    ['devices/#', 'devices.#'],
    ['#', '#'],
    ['+/+', '*.*'],
    ['a/v1.2/+', 'a.v1/2.*'],
    ['exact/topic', 'exact.topic'],
  ])('%s → %s', (filter, key) => {
    expect(filterToBindingKey(filter)).toBe(key)
  })

  it.each([
    ['devices/#/telemetry', /last level/],
    ['devices/*', /AMQP's own wildcard/],
    ['devices/dev+', /whole level/],
    ['devices/x#', /whole level/],
  ])('rejects %s', (filter, message) => {
    expect(() => filterToBindingKey(filter)).toThrow(message)
  })
})
