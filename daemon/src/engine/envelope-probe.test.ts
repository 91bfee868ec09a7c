import { describe, expect, it } from 'vitest'
import { EnvelopeProbe, findNestedEnvelope } from './envelope-probe.ts'

const env = { run: 'r', dev: 1, seq: 2, t: 1_795_687_200_000_000, ti: 1_795_687_200_000_000 }

describe('findNestedEnvelope', () => {
  it('names the JSON path of an envelope nested anywhere, quoting odd keys', () => {
    expect(findNestedEnvelope({ original: { iotload: env } })).toBe('$.original.iotload')
    expect(findNestedEnvelope({ items: [{ x: 1 }, { 'the reading': { iotload: env } }] })).toBe(
      "$.items[1]['the reading'].iotload",
    )
    // At the top level it is not nested (the native path reads it), and garbage is not an envelope.
    expect(findNestedEnvelope({ iotload: env })).toBeUndefined()
    expect(findNestedEnvelope({ a: { iotload: { run: 'r' } } })).toBeUndefined()
    expect(findNestedEnvelope('text')).toBeUndefined()
  })
})

describe('EnvelopeProbe', () => {
  it('looks at the first 20 messages only', () => {
    const p = new EnvelopeProbe()
    const msg = Buffer.from(JSON.stringify({ o: { iotload: env } }))
    for (let i = 0; i < 25; i++) p.offer(msg)
    expect(p).toMatchObject({ probed: 20, found: 20, path: '$.o.iotload' })
  })
})
