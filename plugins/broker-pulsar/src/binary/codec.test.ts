import { describe, expect, it } from 'vitest'
import { Cmd, decodeFrame, decodePayloadSection, flowFrame, sendFrame } from './commands.ts'
import { crc32c } from './crc32c.ts'
import { FrameSplitter } from './frame-splitter.ts'
import { ProtoReader, ProtoWriter } from './protobuf.ts'

/** Every frame `bytes` holds, fed to a splitter `chunk` bytes at a time. */
function split(bytes: Buffer, chunk: number): Uint8Array[] {
  const frames: Uint8Array[] = []
  const s = new FrameSplitter((f) => frames.push(Uint8Array.from(f)))
  for (let i = 0; i < bytes.length; i += chunk) s.push(bytes.subarray(i, i + chunk))
  return frames
}

function fields(r: ProtoReader): Map<number, number | Uint8Array> {
  const out = new Map<number, number | Uint8Array>()
  while (r.next()) out.set(r.field, r.field === 1 || r.field === 2 || r.field === 3 ? r.uint() : r.bytes())
  return out
}

describe('crc32c', () => {
  it('matches the published check values, also when continued across calls', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283)
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa)
    const fox = Buffer.from('The quick brown fox jumps over the lazy dog')
    expect(crc32c(fox)).toBe(0x22620404)
    expect(crc32c(fox, 13, fox.length, crc32c(fox, 0, 13))).toBe(0x22620404)
  })
})

describe('protobuf writer and reader', () => {
  it('round-trip varints beyond 32 bits, strings and a nested message longer than 127 bytes', () => {
    const long = 'x'.repeat(300)
    const w = new ProtoWriter(8) // forces the buffer to grow
    w.uint(1, 2 ** 40 + 5).string(2, 'héllo')
    w.message(3, (n) => n.string(1, long).uint(2, 7))
    w.bool(4, true)
    const r = new ProtoReader(w.finish())
    const seen: unknown[] = []
    while (r.next()) {
      if (r.field === 1) seen.push(r.uint())
      else if (r.field === 2) seen.push(r.string())
      else if (r.field === 3) {
        const n = r.message()
        while (n.next()) seen.push(n.field === 1 ? n.string().length : n.uint())
      } else if (r.field === 4) seen.push(r.bool())
    }
    expect(seen).toEqual([2 ** 40 + 5, 'héllo', 300, 7, true])
  })

  it('throws on a truncated message instead of reading past it', () => {
    const w = new ProtoWriter().string(1, 'abcdef')
    const bytes = w.finish().subarray(0, 4)
    const r = new ProtoReader(bytes)
    r.next()
    expect(() => r.bytes()).toThrow(/past the message/)
  })
})

describe('frames', () => {
  const payload = Buffer.from('{"v":42}')
  const send = () =>
    sendFrame({
      producerId: 3,
      sequenceId: 99,
      producerName: Buffer.from('standalone-0-1'),
      publishTime: 1_700_000_000_000,
      key: 'dev-7',
      properties: { traceparent: '00-abc-def-01', n: '1' },
      payload,
    })

  it('a SEND frame carries its command, metadata, payload and a valid CRC-32C, however the stream is cut', () => {
    const bytes = Buffer.concat([send(), flowFrame(5, 1000)])
    for (const chunk of [1, 3, 7, bytes.length]) {
      const frames = split(bytes, chunk)
      expect(frames).toHaveLength(2)
      const f = decodeFrame(frames[0] as Uint8Array)
      expect(f.type).toBe(Cmd.SEND)
      expect(fields(f.body)).toEqual(
        new Map([
          [1, 3],
          [2, 99],
        ]),
      )
      const section = decodePayloadSection(f.payload)
      expect(section.checksumOk).toBe(true)
      expect(Buffer.from(section.body).toString()).toBe('{"v":42}')
      const meta = section.metadata
      const props: Record<string, string> = {}
      let key = ''
      let publishTime = 0
      while (meta.next()) {
        if (meta.field === 3) publishTime = meta.uint()
        else if (meta.field === 6) key = meta.string()
        else if (meta.field === 4) {
          const kv = meta.message()
          const pair: string[] = []
          while (kv.next()) pair.push(kv.string())
          props[pair[0] as string] = pair[1] as string
        } else meta.skip()
      }
      expect({ key, publishTime, props }).toEqual({
        key: 'dev-7',
        publishTime: 1_700_000_000_000,
        props: { traceparent: '00-abc-def-01', n: '1' },
      })
      const flow = decodeFrame(frames[1] as Uint8Array)
      expect(flow.type).toBe(Cmd.FLOW)
      expect(fields(flow.body)).toEqual(
        new Map([
          [1, 5],
          [2, 1000],
        ]),
      )
    }
  })

  it('a corrupted payload fails the checksum', () => {
    const frame = send()
    frame.writeUInt8((frame.at(-2) as number) ^ 0xff, frame.length - 2)
    const [bytes] = split(frame, frame.length)
    expect(decodePayloadSection(decodeFrame(bytes as Uint8Array).payload).checksumOk).toBe(false)
  })

  it('refuses a frame larger than Pulsar allows instead of buffering it', () => {
    const s = new FrameSplitter(() => undefined)
    const header = Buffer.alloc(4)
    header.writeUInt32BE(64 * 1024 * 1024)
    expect(() => s.push(header)).toThrow(/exceeds/)
  })
})
