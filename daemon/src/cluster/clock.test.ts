import { describe, expect, it } from 'vitest'
import { latencyCorrectionUs } from './clock.ts'

describe('clock correction', () => {
  it('corrects a latency only when the offset difference exceeds its uncertainty', () => {
    const consumer = { offsetUs: 3000, uncertaintyUs: 200 }
    const producer = { offsetUs: 1000, uncertaintyUs: 200 }
    // recv + θc − (t + θp) = raw + (θc − θp)
    expect(latencyCorrectionUs(consumer, producer)).toBe(2000)
    expect(latencyCorrectionUs({ ...consumer, offsetUs: 1300 }, producer)).toBe(0)
  })
})
