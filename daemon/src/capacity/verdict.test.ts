import { describe, expect, it } from 'vitest'
import type { RunSummary } from '../engine/summary.ts'
import { buildResult } from './result.ts'
import { curvePoint, judgeProbe } from './verdict.ts'

const stats = (p99: number) => ({
  count: 100,
  min: 1,
  mean: 10,
  p50: 10,
  p90: 50,
  p99,
  p999: p99 * 2,
  max: p99 * 3,
})

/** A probe summary at `target` msg/s with the given deviations. */
function summary(
  target: number,
  o: {
    status?: string
    sent?: number
    recv?: number
    lost?: number
    undelivered?: number
    finalLagUs?: number
    finalLagP99Us?: number
    slo?: ReadonlyArray<{ key: string; pass: boolean }>
  } = {},
): RunSummary {
  return {
    run: { id: `run-${target}`, status: o.status ?? 'completed' },
    streams: {
      e2e: {
        sent: 1000,
        received: 1000,
        lost: o.lost ?? 0,
        undelivered: o.undelivered ?? 0,
        rate: o.recv ?? target,
        sendRate: o.sent ?? target,
        latency: { raw: stats(900), co: stats(1200) },
      },
    },
    generator: {
      limited: false,
      reasons: [],
      lagUs: { p50: 1, p99: 2, max: 3 },
      finalLagP50Us: o.finalLagUs ?? 100,
      finalLagP99Us: o.finalLagP99Us ?? o.finalLagUs ?? 100,
      eventLoopDelayUs: { p50: 0, p99: 5, max: 9 },
      inFlightPeak: 10,
      targetRate: target,
      achievedSendRate: o.sent ?? target,
    },
    slo: (o.slo ?? []).map((s) => ({
      key: s.key,
      threshold: '≤ 10.000ms',
      actual: '12.000ms',
      result: s.pass ? 'pass' : 'fail',
      pass: s.pass,
    })),
    ...(o.status === 'failed' ? { error: 'broker unreachable' } : {}),
  } as unknown as RunSummary
}

describe('judgeProbe', () => {
  it('holds when nothing is lost, both rates reach 97% and the generator kept up at the end', () => {
    expect(judgeProbe(summary(1000, { sent: 971, recv: 970 }), 1000)).toEqual({
      ok: true,
      limit: null,
      reasons: [],
    })
  })

  it.each([
    [{ lost: 3 }, 'loss', /3 messages lost/],
    [{ recv: 900 }, 'broker-lag', /received 900\/s, below 97% of the 1,000\/s target/],
    [{ undelivered: 40 }, 'broker-lag', /40 messages still undelivered/],
    [{ slo: [{ key: 'e2e.p99', pass: false }] }, 'latency', /SLO e2e\.p99 12\.000ms/],
    [{ slo: [{ key: 'loss', pass: false }] }, 'loss', /SLO loss/],
    [{ sent: 900 }, 'generator', /sent 900\/s, below 97%/],
    [{ finalLagUs: 80_000 }, 'generator', /send lag p50 still 80\.0ms at the end/],
    [{ status: 'failed' }, 'error', /broker unreachable/],
  ] as const)('%j fails with limit %s', (o, limit, reason) => {
    const v = judgeProbe(summary(1000, o), 1000)
    expect(v.ok).toBe(false)
    expect(v.limit).toBe(limit)
    expect(v.reasons.join('; ')).toMatch(reason)
  })

  it('the generator comes first: with it behind, what the path did proves nothing about the path', () => {
    const v = judgeProbe(
      summary(1000, { sent: 800, recv: 800, lost: 5, slo: [{ key: 'e2e.p99', pass: false }] }),
      1000,
    )
    expect(v.limit).toBe('generator')
    expect(v.reasons).toHaveLength(4)
  })

  it('a latency failure notes a late event loop, which stamps arrivals late too', () => {
    const s = summary(1000, { slo: [{ key: 'e2e.p99', pass: false }] })
    s.generator!.eventLoopDelayUs.p99 = 25_000
    expect(judgeProbe(s, 1000).reasons).toEqual([
      'SLO e2e.p99 12.000ms (threshold ≤ 10.000ms)',
      'event-loop delay p99 25.0ms in iotload itself: arrivals may be stamped up to that late',
    ])
  })

  it('a brief stall at the end (another process took the CPU) is not the generator falling behind', () => {
    expect(judgeProbe(summary(1000, { finalLagUs: 2000, finalLagP99Us: 150_000 }), 1000).ok).toBe(true)
  })

  it('a stricter final-lag limit and ratio can be asked for', () => {
    const s = summary(1000, { sent: 985, finalLagUs: 20_000 })
    expect(judgeProbe(s, 1000).ok).toBe(true)
    expect(judgeProbe(s, 1000, { maxFinalLagUs: 10_000 }).limit).toBe('generator')
    expect(judgeProbe(s, 1000, { minRatio: 0.99 }).reasons[0]).toMatch(/below 99%/)
  })
})

describe('buildResult', () => {
  const bounds = { floor: 1000, ceiling: 1e6, precision: 0.05, maxProbes: 20, maxTimeMs: 1e7, probeMs: 1000 }
  const point = (rate: number, o: Parameters<typeof summary>[1] = {}) => {
    const s = summary(rate, o)
    return curvePoint(s, rate, judgeProbe(s, rate), 0.8)
  }

  it('a generator-limited knee is a lower bound for the broker, and says so', () => {
    const points = [
      point(1000),
      point(2000),
      point(4000, { sent: 3000 }),
      point(3000),
      point(3100, { sent: 2900 }),
    ]
    const r = buildResult({ status: 'found', sustained: 3000, failing: 3100 }, points, bounds, 12_345)
    expect(r).toMatchObject({ limitedBy: 'generator', lowerBound: true, sustainedRate: 3000, gap: 0.0333 })
    expect(r.failure).toMatchObject({ rate: 3100, limit: 'generator', runId: 'run-3100' })
    expect(r.message).toMatch(
      /sustained 3,000 msg\/s; fails at 3,100 msg\/s — the generator set the limit .*a lower bound for the broker/,
    )
    expect(r.curve.map((p) => p.rate)).toEqual([1000, 2000, 3000, 3100, 4000])
    expect(r.curve[0]).toMatchObject({
      e2e: { raw: { p50: 10, p99: 900, p999: 1800 }, co: { p99: 1200 } },
      cpu: 0.8,
    })
    expect(r.elapsedS).toBe(12.3)
  })

  it('a broker knee, a floor that fails, a ceiling that holds, a bounded search', () => {
    const broker = buildResult(
      { status: 'found', sustained: 3000, failing: 3100 },
      [point(3000), point(3100, { lost: 9 })],
      bounds,
      1,
    )
    expect(broker).toMatchObject({ limitedBy: 'broker', lowerBound: false })
    expect(broker.message).toMatch(/the broker set the limit \(loss: 9 messages lost\)/)
    const floor = buildResult(
      { status: 'floor-fails', sustained: null, failing: 1000 },
      [point(1000, { recv: 10 })],
      bounds,
      1,
    )
    expect(floor.message).toMatch(/^fails at the floor rate 1,000 msg\/s \(broker-lag: received 10\/s/)
    const ceiling = buildResult(
      { status: 'ceiling', sustained: 8000, failing: null },
      [point(8000)],
      bounds,
      1,
    )
    expect(ceiling).toMatchObject({ limitedBy: 'ceiling', lowerBound: true })
    expect(ceiling.message).toMatch(/^holds 8,000 msg\/s, within 5% of the ceiling 1,000,000 msg\/s/)
    const bounded = buildResult(
      { status: 'bounded', bound: 'probes', sustained: 2000, failing: 4000 },
      [point(2000), point(4000, { lost: 1 })],
      bounds,
      1,
    )
    expect(bounded.message).toMatch(/search ended by its probe budget 100% apart/)
  })
})
