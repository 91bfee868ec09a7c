import { describe, expect, it } from 'vitest'
import { RunRecorder } from './recorder.ts'
import { receiveRate, sendRate } from './summary.ts'

const T0 = 1_800_000_000_000_000

function recorderWith(sends: number[], arrivals: number[]): RunRecorder {
  const r = new RunRecorder('run', 1)
  for (const t of sends) r.onSent(false, t)
  r.onMeta({ run: 'run', tag: 1, dev: 0, seq: 0, t: T0, ti: T0 }, arrivals[0]!)
  for (let i = 1; i < arrivals.length; i++)
    r.onMeta({ run: 'run', tag: 1, dev: 0, seq: i, t: T0, ti: T0 }, arrivals[i]!)
  r.rollSecond(0, false)
  return r
}

describe('achieved rates', () => {
  it('equal the target when sends and arrivals fit in the duration', () => {
    const sends = Array.from({ length: 100 }, (_, i) => T0 + i * 100_000)
    const r = recorderWith(
      sends,
      sends.map((t) => t + 500),
    )
    expect(sendRate(r, 10, T0)).toBe(10)
    expect(receiveRate(r, 10)).toBe(10)
  })

  it('drop when the generator fell behind and sent the schedule late', () => {
    // 100 sends planned over 10 s, but the last one only went out at 20 s.
    const sends = Array.from({ length: 100 }, (_, i) => T0 + i * 200_000)
    const r = recorderWith(
      sends,
      sends.map((t) => t + 500),
    )
    expect(sendRate(r, 10, T0)).toBeCloseTo(100 / 19.8, 3)
  })

  it('drop when the broker delivered a backlog late', () => {
    const sends = Array.from({ length: 100 }, (_, i) => T0 + i * 100_000)
    const arrivals = sends.map((t, i) => (i < 50 ? t + 500 : T0 + 30_000_000 + i))
    const r = recorderWith(sends, arrivals)
    expect(receiveRate(r, 10)).toBeLessThan(4)
  })
})
