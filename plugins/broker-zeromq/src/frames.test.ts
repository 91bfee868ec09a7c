import { describe, expect, it } from 'vitest'
import { decodeHeaders, encodeHeaders, toInbound, topicOf } from './frames.ts'

const b = (s: string) => Buffer.from(s)

describe('frames', () => {
  it('encodes no or empty headers as an empty frame', () => {
    expect(encodeHeaders(undefined)).toHaveLength(0)
    expect(encodeHeaders({})).toHaveLength(0)
  })

  it('round-trips headers through JSON', () => {
    const h = { traceparent: '00-abc-def-01', k: 'v' }
    expect(decodeHeaders(b(encodeHeaders(h) as string))).toEqual(h)
  })

  it('ignores malformed header frames instead of throwing', () => {
    expect(decodeHeaders(b('{not json'))).toBeUndefined()
    expect(decodeHeaders(b('[1,2]'))).toBeUndefined()
    expect(decodeHeaders(b('{"n":1}'))).toBeUndefined()
    expect(decodeHeaders(b(''))).toBeUndefined()
  })

  it('splits three, two and one frame messages', () => {
    const three = [b('t/1'), b('{"a":"b"}'), b('pay')]
    expect(toInbound(three, topicOf(three))).toEqual({ topic: 't/1', headers: { a: 'b' }, payload: b('pay') })
    const noHeaders = [b('t/1'), Buffer.alloc(0), b('pay')]
    expect(toInbound(noHeaders, topicOf(noHeaders))).toEqual({ topic: 't/1', payload: b('pay') })
    const two = [b('t/2'), b('pay')]
    expect(toInbound(two, topicOf(two))).toEqual({ topic: 't/2', payload: b('pay') })
    const one = [b('pay')]
    expect(toInbound(one, topicOf(one))).toEqual({ topic: '', payload: b('pay') })
  })
})
