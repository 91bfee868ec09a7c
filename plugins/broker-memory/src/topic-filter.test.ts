import { describe, expect, it } from 'vitest'
import { compileFilter, filterProblem, topicProblem } from './topic-filter.ts'

describe('MQTT-style filters', () => {
  it.each([
    ['a/b', 'a/b', true],
    ['a/b', 'a/c', false],
    ['a/+', 'a/b', true],
    ['a/+', 'a/b/c', false],
    ['a/+/c', 'a/x/c', true],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
    ['a/#', 'b/a', false],
    ['#', 'any/thing', true],
    ['+/+', 'a/b', true],
    ['+', '', true],
    ['#', '$SYS/x', false],
    ['+/x', '$SYS/x', false],
    ['$SYS/#', '$SYS/x', true],
  ])('%s matches %s: %s', (filter, topic, want) => {
    expect(filterProblem(filter)).toBeUndefined()
    expect(compileFilter(filter)(topic)).toBe(want)
  })

  it.each(['', 'a/#/b', 'a/b#', 'a/+b', '#/a'])('rejects the filter %j', (filter) => {
    expect(filterProblem(filter)).toBeDefined()
  })

  it('rejects topics with wildcards or nothing in them', () => {
    expect(topicProblem('a/+')).toMatch(/wildcards/)
    expect(topicProblem('a/#')).toMatch(/wildcards/)
    expect(topicProblem('')).toMatch(/empty/)
    expect(topicProblem('a/b')).toBeUndefined()
  })
})
