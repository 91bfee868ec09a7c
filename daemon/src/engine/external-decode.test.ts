import { encodeJsonEnvelope, runTag } from '@iotload/sdk'
import { describe, expect, it } from 'vitest'
import { formatMsgId, parseMsgId } from '../scenario/msgid.ts'
import { compileExternalDecoder } from './external-decode.ts'
import { externalMetadataSchema } from '../scenario/external-metadata.ts'
import { parseIsoUs } from './external-timestamp.ts'

const enc = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o))
const decoder = (c: unknown) => compileExternalDecoder(externalMetadataSchema.parse(c))
const T = 1_795_687_200_123_456

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

describe('timestampPath', () => {
  it('reads an ISO-8601 ms timestamp at a nested path', () => {
    const d = decoder({ timestampPath: '$.original.lastUpdated', format: 'iso8601' })
    expect(d(enc({ action: 'close', original: { lastUpdated: '2026-11-26T10:00:00.123Z' } }))).toEqual({
      kind: 'timestamp',
      tUs: 1_795_687_200_123_000,
      resolutionUs: 1000,
      dev: undefined,
      seq: undefined,
      legs: undefined,
    })
  })
  it('reads epoch-us and epoch-ms (numbers or numeric strings), device and seq', () => {
    const us = decoder({ timestampPath: '$.ts', format: 'epoch-us', devicePath: '$.dev', seqPath: '$.n' })
    expect(us(enc({ ts: T, dev: 'tracker-7', n: '12' }))).toMatchObject({
      tUs: T,
      resolutionUs: 1,
      dev: 7,
      seq: 12,
    })
    const ms = decoder({ timestampPath: '$.ts', format: 'epoch-ms' })
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
    const d = decoder({ timestampPath: '$.o.t', format: 'iso8601', devicePath: '$.d', seqPath: '$.n' })
    const invalid = (reason: string) => ({ kind: 'invalid', reason })
    expect(d(enc({ o: {}, d: 1, n: 1 }))).toEqual(invalid('no-metadata'))
    expect(d(enc({ o: { t: 'yesterday' }, d: 1, n: 1 }))).toEqual(invalid('bad-metadata'))
    expect(d(enc({ o: { t: '1970-01-01T00:00:00.000Z' }, d: 1, n: 1 }))).toEqual(invalid('bad-metadata'))
    expect(d(enc({ o: { t: '2026-11-26T10:00:00.123Z' }, d: 1, n: -1 }))).toEqual(invalid('bad-metadata'))
    expect(d(enc('{not json'))).toEqual(invalid('not-json'))
  })
})

describe('envelopePath', () => {
  it('finds iotload’s envelope passed through, nested, with its warm-up flag and run', () => {
    const telemetry = JSON.parse(
      encodeJsonEnvelope('{"temperature":21}', { run: 'r1', dev: 3, seq: 9, t: T, ti: T - 5, warmup: true }),
    )
    const d = decoder({ envelopePath: '$.original.iotload' })
    const a = d(enc({ command: 'close-valve', original: telemetry }))
    expect(a).toEqual({
      kind: 'envelope',
      meta: { run: 'r1', dev: 3, seq: 9, t: T, ti: T - 5, warmup: true, tag: runTag('r1') },
      legs: undefined,
    })
    expect(d(enc({ original: {} }))).toEqual({ kind: 'invalid', reason: 'no-metadata' })
    expect(d(enc({ original: { iotload: { run: 'r1', dev: 'x' } } }))).toEqual({
      kind: 'invalid',
      reason: 'bad-metadata',
    })
  })
})

describe('correlationPath', () => {
  it('reads the {msgid} id back into run, device and seq; run ids may contain dashes', () => {
    const d = decoder({ correlationPath: '$.msgId' })
    expect(d(enc({ msgId: formatMsgId('run-with-dash', 42, 7) }))).toEqual({
      kind: 'correlation',
      run: 'run-with-dash',
      dev: 42,
      seq: 7,
      legs: undefined,
    })
    expect(d(enc({ msgId: 'no-id' }))).toEqual({ kind: 'invalid', reason: 'bad-metadata' })
    expect(d(enc({}))).toEqual({ kind: 'invalid', reason: 'no-metadata' })
    for (const bad of ['r--1', '-1-2', 'r-1-', 'r-x-2', 42, 'r-1-2.5'])
      expect(parseMsgId(bad), String(bad)).toBeUndefined()
  })
})

describe('legs', () => {
  it('reads the flow’s in and out stamps in their own formats; a missing one is left out', () => {
    const d = decoder({
      correlationPath: '$.id',
      legs: {
        'ipaas-in': { path: '$.in', format: 'epoch-us' },
        'ipaas-out': { path: '$.out', format: 'epoch-ms' },
      },
    })
    expect(d(enc({ id: 'r-1-2', in: T, out: 1_795_687_200_125 }))).toMatchObject({
      legs: { inUs: T, outUs: 1_795_687_200_125_000, resolutionUs: 1000 },
    })
    expect(d(enc({ id: 'r-1-2', in: T, out: 'later' }))).toMatchObject({
      legs: { inUs: T, outUs: undefined, resolutionUs: 1 },
    })
  })
})
