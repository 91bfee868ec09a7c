import { describe, expect, it } from 'vitest'
import { appendBinaryHop, decodeBinaryEnvelope, encodeBinaryEnvelope } from './binary-envelope.ts'
import { decodeEnvelope } from './decode.ts'
import { decodeJsonEnvelope, encodeJsonEnvelope, setJsonMeta } from './json-envelope.ts'
import { type EnvelopeMeta, runTag } from './metadata.ts'

const T = 1_795_687_200_123_456
const bytes = (s: string) => Buffer.from(s, 'utf8')
const meta = (over: Partial<EnvelopeMeta> = {}): EnvelopeMeta => ({
  run: 'a1b2c3d4e5f6',
  dev: 7,
  seq: 12345,
  t: T,
  ti: T - 3,
  ...over,
})

/** A seeded xorshift, so the garbage below is the same on every run. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 2 ** 32
  }
}

describe('JSON envelope', () => {
  it('round-trips every metadata field, warm-up and hops with their host, and keeps the body', () => {
    const m = meta({ warmup: true, hops: [{ by: 'bridge', in: T + 100, out: T + 120, host: 'h-1' }] })
    const payload = bytes(encodeJsonEnvelope('{"temp": 21.5, "tags": ["a"]}', m))
    const r = decodeJsonEnvelope(payload)
    expect(r.ok && r.meta).toEqual(m)
    expect(r.ok && r.doc).toMatchObject({ temp: 21.5, tags: ['a'] })
    const d = decodeEnvelope(payload)
    expect(d.ok && d.meta).toEqual({ ...m, tag: runTag(m.run) })
  })

  it('carries a traced message’s traceparent, and ignores a tp that is not a short string', () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const r = decodeEnvelope(bytes(encodeJsonEnvelope('{"v":1}', meta({ tp }))))
    expect(r.ok && r.meta.tp).toBe(tp)
    const doc = decodeJsonEnvelope(bytes(encodeJsonEnvelope('{}', meta({ tp }))))
    if (!doc.ok) throw new Error(doc.reason)
    setJsonMeta(doc.doc, doc.meta)
    expect((doc.doc.iotload as { tp?: string }).tp).toBe(tp)
    for (const bad of [42, 'x'.repeat(129)]) {
      const text = JSON.stringify({ iotload: { run: 'r', dev: 1, seq: 2, t: T, ti: T, tp: bad } })
      const d = decodeEnvelope(bytes(text))
      expect(d.ok && d.meta.tp).toBeUndefined()
    }
  })

  it('accepts an empty body, and run ids that need JSON escaping', () => {
    const m = meta({ run: 'run "with} quotes\\' })
    const r = decodeEnvelope(bytes(encodeJsonEnvelope('{}', m)))
    expect(r.ok && r.meta.run).toBe(m.run)
    expect(r.ok && r.meta.seq).toBe(m.seq)
  })

  it('finds the metadata wherever an iPaaS put it and however it formatted the JSON', () => {
    const inner = { run: 'r', dev: 1, seq: 2, t: T, ti: T }
    for (const text of [
      JSON.stringify({ a: 1, iotload: inner }),
      JSON.stringify({ iotload: inner, a: 1 }, null, 2),
      ` \n${JSON.stringify({ iotload: inner })}\n`,
    ]) {
      const r = decodeEnvelope(bytes(text))
      expect(r.ok, text).toBe(true)
      expect(r.ok && r.meta.t).toBe(T)
    }
  })

  it('a bridge writing the metadata back with one more hop keeps it decodable', () => {
    const r = decodeJsonEnvelope(bytes(encodeJsonEnvelope('{"v":1}', meta())))
    if (!r.ok) throw new Error(r.reason)
    const next = { ...r.meta, hops: [{ by: 'bridge', in: T + 5, out: T + 9 }] }
    setJsonMeta(r.doc, next)
    const again = decodeEnvelope(bytes(JSON.stringify(r.doc)))
    expect(again.ok && again.meta.hops).toEqual(next.hops)
    expect(again.ok && again.meta.seq).toBe(12345)
  })

  it('names why a message cannot be measured, and never yields a latency for it', () => {
    const cases: Array<[string, string]> = [
      ['this is not json', 'not-json'],
      ['', 'not-json'],
      ['{"iotload":{"run":"r","dev":1,"seq":2,"t":1795687200123456,"ti":1795687200123456}', 'not-json'],
      ['[1,2]', 'no-metadata'],
      ['"text"', 'no-metadata'],
      ['null', 'no-metadata'],
      ['{"temperature":21}', 'no-metadata'],
      ['{"iotload":null}', 'bad-metadata'],
      ['{"iotload":[]}', 'bad-metadata'],
      [
        '{"iotload":{"run":"r","dev":"a","seq":2,"t":1795687200123456,"ti":1795687200123456}}',
        'bad-metadata',
      ],
      ['{"iotload":{"run":"r","dev":1,"seq":-1,"t":1795687200123456,"ti":1795687200123456}}', 'bad-metadata'],
      [
        '{"iotload":{"run":"r","dev":1,"seq":1.5,"t":1795687200123456,"ti":1795687200123456}}',
        'bad-metadata',
      ],
      ['{"iotload":{"run":"r","dev":1,"seq":2,"t":0,"ti":1795687200123456}}', 'bad-metadata'],
      ['{"iotload":{"run":"r","dev":1,"seq":2,"t":1795687200123,"ti":1795687200123456}}', 'bad-metadata'],
      ['{"iotload":{"run":"r","dev":1,"seq":2,"t":1795687200123456}}', 'bad-metadata'],
      ['{"iotload":{"dev":1,"seq":2,"t":1795687200123456,"ti":1795687200123456}}', 'bad-metadata'],
      [
        '{"iotload":{"run":"r","dev":1,"seq":2,"t":1795687200123456,"ti":1795687200123456,"hops":[{"by":"b","in":5}]}}',
        'bad-metadata',
      ],
    ]
    for (const [text, reason] of cases)
      expect(decodeEnvelope(bytes(text)), text).toEqual({ ok: false, reason })
  })
})

describe('binary envelope', () => {
  it('round-trips the header, warm-up, hops and the body bytes', () => {
    const body = Uint8Array.from([0, 1, 2, 250, 255])
    const m = { runTag: runTag('run-x'), dev: 42, seq: 2 ** 40, t: T, ti: T - 10, warmup: true }
    const payload = encodeBinaryEnvelope(m, body)
    const r = decodeBinaryEnvelope(payload)
    if (!r.ok) throw new Error(r.reason)
    expect(r.meta).toEqual(m)
    expect([...payload.subarray(r.bodyOffset)]).toEqual([...body])
    const hopped = appendBinaryHop(payload, { by: 'bridge', in: T + 1, out: T + 2 })!
    const h = decodeEnvelope(hopped)
    expect(h.ok && h.meta).toMatchObject({ tag: m.runTag, run: undefined, seq: 2 ** 40, warmup: true })
    expect(h.ok && h.meta.hops).toEqual([{ by: 'bridge', in: T + 1, out: T + 2 }])
  })

  it('carries a traceparent after the hops; a bridge keeps it or puts its own', () => {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const body = bytes('{"v":1}')
    const payload = encodeBinaryEnvelope({ runTag: 1, dev: 3, seq: 4, t: T, ti: T, tp }, body)
    const r = decodeBinaryEnvelope(payload)
    if (!r.ok) throw new Error(r.reason)
    expect(r.meta.tp).toBe(tp)
    expect(payload.subarray(r.bodyOffset).toString()).toBe('{"v":1}')
    const kept = decodeEnvelope(appendBinaryHop(payload, { by: 'bridge', in: T + 1, out: T + 2 })!)
    expect(kept.ok && kept.meta.tp).toBe(tp)
    const mine = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
    const replaced = decodeEnvelope(appendBinaryHop(payload, { by: 'bridge', in: T + 1, out: T + 2 }, mine)!)
    expect(replaced.ok && replaced.meta).toMatchObject({ tp: mine, hops: [{ in: T + 1, out: T + 2 }] })
    // A value that is not a version-00 traceparent is not written (there is no room for anything else).
    const none = decodeBinaryEnvelope(
      encodeBinaryEnvelope({ runTag: 1, dev: 3, seq: 4, t: T, ti: T, tp: 'junk' }, body),
    )
    expect(none.ok && none.meta.tp).toBeUndefined()
    expect(decodeEnvelope(payload.subarray(0, 50))).toEqual({ ok: false, reason: 'truncated' })
  })

  it('reports truncation and garbled fields instead of a latency', () => {
    const payload = encodeBinaryEnvelope({ runTag: 1, dev: 1, seq: 1, t: T, ti: T }, bytes('{}'))
    expect(decodeEnvelope(payload.subarray(0, 20))).toEqual({ ok: false, reason: 'truncated' })
    const badVersion = Buffer.from(payload)
    badVersion.writeUInt8(9, 4)
    expect(decodeEnvelope(badVersion)).toEqual({ ok: false, reason: 'bad-metadata' })
    const badTime = Buffer.from(payload)
    badTime.writeDoubleLE(Number.NaN, 24)
    expect(decodeEnvelope(badTime)).toEqual({ ok: false, reason: 'bad-metadata' })
    const moreHops = Buffer.from(payload)
    moreHops.writeUInt8(3, 6) // claims three hops the payload does not hold
    expect(decodeEnvelope(moreHops)).toEqual({ ok: false, reason: 'truncated' })
    expect(appendBinaryHop(bytes('not binary'), { by: 'b', in: T, out: T })).toBeNull()
  })
})

describe('the consumer’s quick read of the JSON metadata', () => {
  // decodeEnvelope reads iotload's own layout field by field; it must agree with the full parse.
  const full = (p: Uint8Array) => {
    const r = decodeJsonEnvelope(p)
    return r.ok ? { ok: true, meta: r.meta } : r
  }
  const quick = (p: Uint8Array) => {
    const r = decodeEnvelope(p)
    if (!r.ok) return r
    const { tag: _tag, ...meta } = r.meta
    return { ok: true, meta }
  }

  it('agrees with the full parse on every shape the encoder writes', () => {
    const rnd = random(7)
    const runs = ['a1b2c3d4e5f6', 'r', 'run "q"', 'ünï', 'back\\slash', 'x'.repeat(40)]
    const bodies = ['{}', '{"v":1}', '{"temp":21.5,"s":"}]{[","n":null}', `{"pad":"${'y'.repeat(300)}"}`]
    for (let i = 0; i < 3000; i++) {
      const m: EnvelopeMeta = {
        run: runs[i % runs.length]!,
        dev: Math.floor(rnd() * 1e6),
        seq: i % 7 === 0 ? 0 : Math.floor(rnd() * 2 ** 40),
        t: T + Math.floor(rnd() * 1e9),
        ti: T - Math.floor(rnd() * 1e6),
      }
      if (i % 3 === 0) m.warmup = true
      if (i % 4 === 1)
        m.hops = [{ by: 'bridge', in: T + 5, out: T + 9, ...(i % 8 === 1 ? { host: 'h]}"x' } : {}) }]
      if (i % 5 === 2) m.tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
      const payload = bytes(encodeJsonEnvelope(bodies[i % bodies.length]!, m))
      expect(quick(payload), payload.toString()).toEqual(full(payload))
      expect(quick(payload)).toEqual({ ok: true, meta: m })
    }
  })

  it('agrees on the invalid ones, and sends anything unusual to the full parse', () => {
    const ok = encodeJsonEnvelope('{"v":1}', meta())
    const variants = [
      ok,
      ok.replace('"dev":7', '"dev":07'),
      ok.replace('"dev":7', '"dev":-7'),
      ok.replace('"dev":7', '"dev":7.5'),
      ok.replace('"dev":7', '"dev":1e3'),
      ok.replace('"seq":12345', '"seq":99999999999999999'),
      ok.replace(`"t":${T}`, '"t":1795687200123'),
      ok.replace(`"ti":${T - 3}`, `"ti":${T - 3},"hops":[{"by":"b","in":5,"out":6}]`),
      ok.replace(`"ti":${T - 3}`, `"ti":${T - 3},"hops":"no"`),
      ok.replace(`"ti":${T - 3}`, `"ti":${T - 3},"w":1,"tp":42`),
      ok.replace('{"iotload":{', '{ "iotload": {'),
      ok.replace('"run":', '"run" :'),
      `${ok}   \n`,
    ]
    for (const v of variants) expect(quick(bytes(v)), v).toEqual(full(bytes(v)))
  })

  it('does not take a truncated payload for a good one', () => {
    const ok = encodeJsonEnvelope('{"v":1,"more":"text"}', meta())
    expect(decodeEnvelope(bytes(ok.slice(0, -5)))).toEqual({ ok: false, reason: 'not-json' })
    // Cut where the last byte still is a `}`: after the metadata, and inside a nested object.
    const nested = encodeJsonEnvelope('{"a":{"b":1}}', meta())
    for (const cut of [nested.indexOf(',"a"'), nested.length - 1])
      expect(decodeEnvelope(bytes(nested.slice(0, cut))), nested.slice(0, cut)).toEqual({
        ok: false,
        reason: 'not-json',
      })
  })
})

describe('decodeEnvelope on garbage', () => {
  it('never throws and never reports success for random bytes, whatever they start with', () => {
    const rnd = random(20261126)
    const prefixes = [Buffer.alloc(0), bytes('{"iotload":{'), Buffer.from([0x49, 0x4f, 0x54, 0x4c, 1])]
    for (let i = 0; i < 5000; i++) {
      const tail = Buffer.from(Array.from({ length: Math.floor(rnd() * 80) }, () => Math.floor(rnd() * 256)))
      const payload = Buffer.concat([prefixes[i % prefixes.length]!, tail])
      const r = decodeEnvelope(payload)
      expect(r.ok, payload.toString('hex')).toBe(false)
    }
  })
})
