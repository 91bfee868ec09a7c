import { describe, expect, it } from 'vitest'
import { detectOutages, type FaultSecond, type RecoveryInput, recoveryFigures } from './fault-recovery.ts'
import { LatencyHistogram } from './histogram.ts'

const T0 = 1_000_000_000_000
const sec = (second: number, received: number, extra: Partial<FaultSecond> = {}): FaultSecond => ({
  second,
  warmup: false,
  sent: 100,
  received,
  duplicates: 0,
  disconnects: 0,
  target: 100,
  ...extra,
})

function histOf(valueUs: number, n: number): string {
  const h = new LatencyHistogram()
  for (let i = 0; i < n; i++) h.record(valueUs)
  return h.encode()
}

function input(seconds: FaultSecond[], extra: Partial<RecoveryInput> = {}): RecoveryInput {
  return {
    seconds,
    disconnects: [],
    reconnects: [],
    publishErrors: [],
    t0Us: T0,
    scheduleSeconds: seconds.length,
    lossBetween: () => ({ sent: 0, lost: 0 }),
    ...extra,
  }
}

describe('recoveryFigures', () => {
  it('measures the dip: first reconnect, recovery at the first second back at ≥ 95 %, p99 before and during', () => {
    const before = histOf(2000, 100)
    const during = histOf(80_000, 50)
    const seconds = [
      ...[0, 1, 2, 3, 4].map((s) => sec(s, 100, { e2eHist: before })),
      sec(5, 40, { disconnects: 3, duplicates: 2, e2eHist: during }),
      sec(6, 0),
      sec(7, 94, { e2eHist: during }),
      sec(8, 100, { e2eHist: before }),
      sec(9, 100),
    ]
    let asked: [number, number] | undefined
    const f = recoveryFigures(
      T0 + 5_300_000,
      T0 + 5_400_000,
      input(seconds, {
        disconnects: [{ tUs: T0 + 1_000_000 }, { tUs: T0 + 5_350_000 }],
        reconnects: [{ tUs: T0 + 7_100_000 }],
        publishErrors: [
          { tUs: T0 + 5_500_000, cause: 'PUBLISH_FAILED: client disconnecting' },
          { tUs: T0 + 5_600_000, cause: 'PUBLISH_FAILED: client disconnecting' },
          { tUs: T0 + 9_500_000, cause: 'CLOSED: late' },
        ],
        lossBetween: (a, b) => {
          asked = [a, b]
          return { sent: 270, lost: 123 }
        },
      }),
    )
    expect(f.firstDisconnectMs).toBe(50)
    expect(f.firstReconnectMs).toBe(1800)
    // Second 7 is 94 %: not yet; second 8 starts 2.7 s after the fault began.
    expect(f.recoveryMs).toBe(2700)
    // Sends from a second before it began: what was in flight when it hit.
    expect(f.window).toEqual({ fromS: 4.3, toS: 8 })
    expect(asked).toEqual([T0 + 4_300_000, T0 + 8_000_000])
    expect(f).toMatchObject({ sent: 270, lost: 123, duplicates: 2 })
    expect(f.publishErrors).toEqual({ 'PUBLISH_FAILED: client disconnecting': 2 })
    expect(f.p99BeforeUs).toBeGreaterThan(1990)
    expect(f.p99BeforeUs).toBeLessThan(2010)
    expect(f.p99DuringUs).toBeGreaterThan(79_000)
  })

  it('a fault that never dented the rate recovers in 0, over the command’s own time', () => {
    const seconds = [0, 1, 2, 3, 4, 5].map((s) => sec(s, 100))
    const f = recoveryFigures(T0 + 2_000_000, T0 + 2_500_000, input(seconds))
    expect(f.recoveryMs).toBe(0)
    expect(f.window).toEqual({ fromS: 1, toS: 3 })
    expect(f.firstReconnectMs).toBeNull()
  })

  it('a path that never came back is reported as not recovered, its window to the end of the schedule', () => {
    const seconds = [sec(0, 100), sec(1, 100), sec(2, 10), sec(3, 0), sec(4, 0)]
    const f = recoveryFigures(T0 + 2_000_000, T0 + 2_100_000, input(seconds))
    expect(f.recoveryMs).toBeNull()
    expect(f.window.toS).toBe(5)
  })
})

describe('detectOutages', () => {
  const scan = { receivedBelow: 0.5, disconnects: 1, covered: [] }
  it('reports each drop once, from its first second, and ignores warm-up and the drain', () => {
    const seconds = [
      sec(0, 0, { warmup: true }),
      sec(1, 100),
      sec(2, 30),
      sec(3, 20),
      sec(4, 100),
      sec(5, 100, { disconnects: 2 }),
      sec(6, 100),
      sec(7, 0, { target: 0 }),
    ]
    expect(detectOutages(input(seconds, { scheduleSeconds: 7 }), scan)).toEqual([2, 5])
  })

  it('a drop inside a fault’s window is the fault, not an outage', () => {
    const seconds = [sec(0, 100), sec(1, 20), sec(2, 100)]
    expect(detectOutages(input(seconds), { ...scan, covered: [{ fromS: 1, toS: 2 }] })).toEqual([])
  })

  it('a dip above the threshold share is not an outage', () => {
    expect(detectOutages(input([sec(0, 100), sec(1, 60), sec(2, 100)]), scan)).toEqual([])
  })
})

describe('publishErrorCause', () => {
  it('keeps the code and what the client said, without the plugin prefix or topic names', async () => {
    const { publishErrorCause } = await import('./fault-timeline.ts')
    const { PublishError } = await import('@iotload/sdk')
    expect(
      publishErrorCause(
        new PublishError("publish to 'dev/7/t' failed: client disconnecting", { source: 'broker-mqtt' }),
      ),
    ).toBe("PUBLISH_FAILED: publish to '…' failed: client disconnecting")
    expect(publishErrorCause(new PublishError('devices/7/telemetry: not confirmed (channel closed)'))).toBe(
      'PUBLISH_FAILED: not confirmed (channel closed)',
    )
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })
    expect(publishErrorCause(new PublishError('x', { cause: refused }))).toBe('PUBLISH_FAILED: ECONNREFUSED')
    expect(publishErrorCause('boom')).toBe('error: boom')
  })
})
