import { describe, expect, it } from 'vitest'
import { latencyCorrectionUs, relativeOffset } from './clock.ts'

describe('clock offsets', () => {
  it('relates two daemons through the shared reference; uncertainties add', () => {
    const self = { offsetUs: 1500, uncertaintyUs: 100, atUs: 0 }
    const coord = { offsetUs: -500, uncertaintyUs: 50, atUs: 0 }
    expect(relativeOffset(self, coord)).toEqual({ offsetUs: 2000, uncertaintyUs: 150, atUs: 0 })
  })

  it('corrects a latency only when the offset exceeds its uncertainty', () => {
    const consumer = { offsetUs: 3000, uncertaintyUs: 200, atUs: 0 }
    const producer = { offsetUs: 1000, uncertaintyUs: 200, atUs: 0 }
    // recv + θc − (t + θp) = raw + (θc − θp)
    expect(latencyCorrectionUs(consumer, producer)).toBe(2000)
    expect(latencyCorrectionUs({ ...consumer, offsetUs: 1300 }, producer)).toBe(0)
  })
})
