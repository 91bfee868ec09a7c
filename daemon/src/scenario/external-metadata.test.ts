import { describe, expect, it } from 'vitest'
import { compileExternalDecoder, externalMetadataSchema, parseIsoUs } from './external-metadata.ts'

const enc = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o))

describe('parseIsoUs', () => {
  it('keeps the digits it is given and states their resolution', () => {
    expect(parseIsoUs('2026-11-26T10:00:00.123Z')).toEqual({ us: 1_795_687_200_123_000, resolutionUs: 1000 })
    expect(parseIsoUs('2026-11-26T10:00:00.123456Z')).toEqual({ us: 1_795_687_200_123_456, resolutionUs: 1 })
    expect(parseIsoUs('2026-11-26T11:00:00+01:00')).toEqual({
      us: 1_795_687_200_000_000,
      resolutionUs: 1_000_000,
    })
    expect(parseIsoUs('26/11/2026 10:00')).toBeUndefined()
  })
})

describe('compileExternalDecoder', () => {
  it('reads an ISO-8601 ms timestamp at a nested path', () => {
    const d = compileExternalDecoder({ timestampPath: '$.original.lastUpdated', format: 'iso8601' })
    expect(d(enc({ action: 'close', original: { lastUpdated: '2026-11-26T10:00:00.123Z' } }))).toEqual({
      ok: true,
      tUs: 1_795_687_200_123_000,
      resolutionUs: 1000,
      dev: undefined,
      seq: undefined,
    })
  })
  it('reads epoch-us and epoch-ms (numbers or numeric strings), device and seq', () => {
    const us = compileExternalDecoder({
      timestampPath: '$.ts',
      format: 'epoch-us',
      devicePath: '$.dev',
      seqPath: '$.n',
    })
    expect(us(enc({ ts: 1_795_687_200_123_456, dev: 'tracker-7', n: '12' }))).toMatchObject({
      ok: true,
      tUs: 1_795_687_200_123_456,
      resolutionUs: 1,
      dev: 7,
      seq: 12,
    })
    const ms = compileExternalDecoder({ timestampPath: '$.ts', format: 'epoch-ms' })
    expect(ms(enc({ ts: 1_795_687_200_123 }))).toMatchObject({
      tUs: 1_795_687_200_123_000,
      resolutionUs: 1000,
    })
    expect(ms(enc({ ts: '1795687200123.5' }))).toMatchObject({
      tUs: 1_795_687_200_123_500,
      resolutionUs: 100,
    })
  })
  it('counts a missing path as no-metadata and garbage as bad-metadata or not-json', () => {
    const d = compileExternalDecoder({
      timestampPath: '$.original.lastUpdated',
      format: 'iso8601',
      seqPath: '$.n',
    })
    expect(d(enc({ original: {}, n: 1 }))).toEqual({ ok: false, reason: 'no-metadata' })
    expect(d(enc({ original: { lastUpdated: 'yesterday' }, n: 1 }))).toEqual({
      ok: false,
      reason: 'bad-metadata',
    })
    expect(d(enc({ original: { lastUpdated: '1970-01-01T00:00:00.000Z' }, n: 1 }))).toEqual({
      ok: false,
      reason: 'bad-metadata',
    })
    expect(d(enc({ original: { lastUpdated: '2026-11-26T10:00:00.123Z' }, n: -1 }))).toEqual({
      ok: false,
      reason: 'bad-metadata',
    })
    expect(d(enc('{not json'))).toEqual({ ok: false, reason: 'not-json' })
  })
  it('the schema rejects malformed paths and unknown formats', () => {
    expect(externalMetadataSchema.safeParse({ timestampPath: 'original.x', format: 'iso8601' }).success).toBe(
      false,
    )
    expect(externalMetadataSchema.safeParse({ timestampPath: '$.x', format: 'epoch-s' }).success).toBe(false)
    expect(
      externalMetadataSchema.safeParse({ timestampPath: '$.x', format: 'iso8601', extra: 1 }).success,
    ).toBe(false)
  })
})
