import { encodeJsonEnvelope, nowUs, runTag } from '@iotload/sdk'
import { describe, expect, it } from 'vitest'
import { RunRecorder } from './recorder.ts'

const T = 1_795_687_200_000_000
const payload = (hops: Array<{ by: string; in: number; out: number; host?: string }>, seq = 0) =>
  Buffer.from(encodeJsonEnvelope('{}', { run: 'r', dev: 1, seq, t: T, ti: T - 100, hops }))

describe('RunRecorder legs', () => {
  it('splits e2e into producer→bridge, bridge processing and bridge→consumer that add up exactly', () => {
    const r = new RunRecorder('r', runTag('r'))
    r.onSent(false, nowUs())
    r.onPayload(payload([{ by: 'bridge', in: T + 300, out: T + 5300 }]), T + 6000)
    r.rollSecond(0, false)
    const p50 = (s: string) => r.streams.get(s)!.cumulative().raw.p50
    expect(p50('producer-bridge')).toBe(300)
    // HdrHistogram keeps 3 significant digits.
    expect(Math.abs(p50('bridge') - 5000)).toBeLessThanOrEqual(5)
    expect(p50('bridge-consumer')).toBe(700)
    expect(Math.abs(p50('e2e') - 6000)).toBeLessThanOrEqual(6)
    expect(r.streams.get('producer-bridge')!.cumulative().co!.p50).toBe(400)
  })
  it('marks legs whose stamps come from different hosts; same-process bridge legs are not', () => {
    const local = new RunRecorder('r', runTag('r'))
    local.bridgeHost = local.host
    local.onPayload(payload([{ by: 'bridge', in: T + 1, out: T + 2 }]), T + 3)
    local.rollSecond(0, false)
    expect(local.legs().every((l) => l.crossHost === false)).toBe(true)

    const unknown = new RunRecorder('r', runTag('r'))
    unknown.onPayload(payload([{ by: 'bridge', in: T + 1, out: T + 2 }]), T + 3)
    expect(unknown.legs().find((l) => l.stream === 'bridge')!.crossHost).toBeUndefined()

    const remote = new RunRecorder('r', runTag('r'))
    remote.bridgeHost = 'edge-7'
    remote.onPayload(payload([{ by: 'bridge', in: T + 1, out: T + 2 }], 1), T + 3)
    remote.rollSecond(0, false)
    const legs = Object.fromEntries(remote.legs().map((l) => [l.stream, l.crossHost]))
    expect(legs).toEqual({
      e2e: false,
      'producer-bridge': true,
      bridge: false,
      'bridge-consumer': true,
    })
  })
  it('skips a negative leg (unsynchronised clocks) instead of recording it as ~0', () => {
    const r = new RunRecorder('r', runTag('r'))
    r.onPayload(payload([{ by: 'bridge', in: T - 500, out: T + 100 }]), T + 1000)
    r.rollSecond(0, false)
    expect(r.streams.get('producer-bridge')?.cumulative().raw.count ?? 0).toBe(0)
    expect(r.streams.get('bridge')!.cumulative().raw.count).toBe(1)
  })
})
