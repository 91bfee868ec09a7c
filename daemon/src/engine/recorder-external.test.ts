import { runTag } from '@iotload/sdk'
import { describe, expect, it } from 'vitest'
import type { ExternalArrival, ExternalLegStamps } from './external-decode.ts'
import { RunRecorder } from './recorder.ts'

const S = 1_795_687_200_000_000 // the first send, µs
const ms = (us: number) => Math.floor(us / 1000) * 1000

function stamp(
  tUs: number,
  resolutionUs = 1000,
  dev?: number,
  seq?: number,
  legs?: ExternalLegStamps,
): ExternalArrival {
  return { kind: 'timestamp', tUs: resolutionUs === 1 ? tUs : ms(tUs), resolutionUs, dev, seq, legs }
}

function recorder(external: 'timestamp' | 'sequenced' | 'none' = 'timestamp', now = () => S) {
  const r = new RunRecorder('run-1', runTag('run-1'), undefined, now)
  if (external !== 'none') r.useExternalTimestamps(external === 'sequenced')
  return r
}

describe('external timestamps: stale messages', () => {
  it('a timestamp before the run’s first send is invalid: stale — never reorder, loss or latency', () => {
    const r = recorder()
    r.onExternal(stamp(S - 60e6), S - 100) // before anything was sent at all
    r.onSent(false, S)
    r.onExternal(stamp(S - 3600e6), S + 500) // an hour-old leftover
    r.onExternal(stamp(S), S + 900)
    r.rollSecond(0, false)
    expect(r.total.invalidByReason).toEqual({ stale: 2 })
    expect(r.total).toMatchObject({ received: 1, reordered: 0, duplicates: 0 })
    expect(r.streams.get('e2e')!.cumulative().raw.count).toBe(1)
  })
})

describe('external timestamps: the warm-up boundary', () => {
  it('epoch-ms at 20 sends per ms: every arrival is placed, never more received than sent', () => {
    // 2,000 warm-up sends then 20,000 measured, 50 µs apart (20,000 msg/s): 20 share each ms.
    // The boundary falls inside a millisecond (offset 30 µs), as it does in a real run.
    const r = recorder()
    const sends: Array<{ t: number; warmup: boolean }> = []
    for (let i = 0; i < 22_000; i++) sends.push({ t: S + 30 + i * 50, warmup: i < 2000 })
    for (const s of sends) r.onSent(s.warmup, s.t)
    // Arrivals come back in send order, each stamped with its send time truncated to the ms.
    for (const s of sends) r.onExternal(stamp(s.t), s.t + 3000)
    r.rollSecond(0, false)
    expect(r.total.sent).toBe(20_000)
    expect(r.total.received).toBe(20_000)
    expect(r.total.receivedWarmup).toBe(2000)
    expect(r.total.duplicates).toBe(0)
    // Only the boundary's millisecond needed the count.
    expect(r.externalAmbiguous).toBeGreaterThan(0)
    expect(r.externalAmbiguous).toBeLessThanOrEqual(20)
  })

  it('without seqs, an arrival beyond the measured sends is a duplicate, not a 20,001st receive', () => {
    const r = recorder()
    for (let i = 0; i < 3; i++) r.onSent(false, S + i * 1000)
    for (let i = 0; i < 3; i++) r.onExternal(stamp(S + i * 1000), S + 5000)
    r.onExternal(stamp(S + 2000), S + 6000) // the flow delivered one twice
    r.rollSecond(0, false)
    expect(r.total).toMatchObject({ sent: 3, received: 3, duplicates: 1 })
  })

  it('with device and seq, warm-up is the producer’s own record, and a seq never sent is foreign', () => {
    const r = recorder('sequenced')
    // Device 4: seqs 0–1 warm-up, 2–3 measured, all within one ms (the timestamp cannot tell).
    for (let seq = 0; seq < 4; seq++) r.onSent(seq < 2, S + seq * 10, 4, seq)
    for (let seq = 0; seq < 4; seq++) r.onExternal(stamp(S + seq * 10, 1000, 4, seq), S + 2000)
    r.onExternal(stamp(S, 1000, 4, 3), S + 2100) // a duplicate
    r.onExternal(stamp(S, 1000, 4, 9), S + 2200) // never sent by this run
    r.onExternal(stamp(S, 1000, 5, 0), S + 2300) // a device this run does not have
    r.rollSecond(0, false)
    expect(r.total).toMatchObject({ sent: 2, received: 2, receivedWarmup: 2, duplicates: 1 })
    expect(r.total.invalidByReason).toEqual({ 'foreign-run': 2 })
    const dev4 = r.deviceFigures().find((d) => d.device === 4)!
    expect(dev4).toMatchObject({ sent: 2, received: 2, lost: 0, duplicates: 1, count: 2 })
  })
})

describe('external timestamps: per-second loss estimate without seqs', () => {
  it('rises while nothing arrives and says nothing on a clean path', () => {
    let now = S
    const r = recorder('timestamp', () => now)
    const estimates: number[] = []
    for (let second = 0; second < 12; second++) {
      for (let i = 0; i < 100; i++) {
        const t = S + second * 1e6 + i * 10_000
        r.onSent(false, t)
        // Seconds 5–8: the flow delivers nothing.
        if (second < 5 || second > 8) r.onExternal(stamp(t), t + 2000)
      }
      now = S + (second + 1) * 1e6
      estimates.push(r.rollSecond(second, false).lostEstimate!)
    }
    expect(estimates.slice(0, 5)).toEqual([0, 0, 0, 0, 0])
    // Each silent second becomes due once the allowance (250 ms here) has passed: +100 per second.
    expect(estimates.slice(5, 10)).toEqual([0, 100, 200, 300, 400])
    expect(r.total.sent - r.total.received).toBe(400)
  })
})

describe('external legs', () => {
  it('splits producer → iPaaS, inside the iPaaS and iPaaS → consumer from the flow’s own stamps', () => {
    const r = recorder('timestamp')
    r.onSent(false, S)
    r.onExternal(
      stamp(S, 1, undefined, undefined, { inUs: S + 800, outUs: S + 1300, resolutionUs: 1 }),
      S + 2000,
    )
    // A flow clock behind iotload's: the negative leg is left out, and said so.
    r.onSent(false, S + 10)
    r.onExternal(
      stamp(S + 10, 1, undefined, undefined, { inUs: S + 5, outUs: S + 400, resolutionUs: 1 }),
      S + 900,
    )
    r.rollSecond(0, false)
    const p50 = (s: string) => r.streams.get(s)?.cumulative().raw
    expect(p50('producer-bridge')).toMatchObject({ count: 1, p50: 800 })
    expect(p50('bridge')).toMatchObject({ count: 2 })
    expect(p50('bridge-consumer')).toMatchObject({ count: 2 })
    expect(r.legs().find((l) => l.stream === 'bridge')).toMatchObject({ from: 'ipaas-in', to: 'ipaas-out' })
    r.legPaths = { in: '$.receivedAt' }
    expect(r.hints()).toEqual([expect.stringMatching(/^1 leg values came out negative/)])
  })
})

describe('external timestamps: the step that holds the warm-up boundary', () => {
  it('a warm-up arrival placed before any measured send counts against its step, whatever comes later', () => {
    const r = recorder()
    const step = S + 5000 // a millisecond boundary
    // Warm-up rendered at step + 300 µs, and its copy arrives before anything measured was sent.
    r.onSent(true, step + 300, 0, 0, step + 300, step + 300)
    r.onExternal(stamp(step + 300), step + 800)
    // Then a measured send renders in the same millisecond, and its copy arrives.
    r.onSent(false, step + 700, 1, 0, step + 700, step + 700)
    r.onExternal(stamp(step + 700), step + 900)
    r.rollSecond(0, false)
    expect(r.total.receivedWarmup).toBe(1)
    expect(r.total.received).toBe(1)
  })
})
