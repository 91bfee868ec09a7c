import { describe, expect, it } from 'vitest'
import type { ProducerReport } from './producer-task.ts'
import { clusterReceiveRate, clusterSendRate } from './rates.ts'

const report = (over: Partial<ProducerReport>): ProducerReport => ({
  status: 'completed',
  firstDevice: 0,
  devices: 200,
  sent: 1000,
  sentWarmup: 0,
  publishErrors: 0,
  generatorLimited: false,
  ...over,
})

describe('cluster rates', () => {
  it('adds the producers’ measured send rates; falls back to sent / duration when one is missing', () => {
    const two = new Map([
      ['a', report({ sendRate: 199.96 })],
      ['b', report({ sendRate: 200.02 })],
    ])
    expect(clusterSendRate(two, 4000, 10)).toBe(400)
    const failed = new Map([
      ['a', report({ sendRate: 200 })],
      ['b', report({ status: 'failed' })],
    ])
    expect(clusterSendRate(failed, 2500, 10)).toBe(250)
  })

  it('takes the receive rate over the earliest to the latest arrival of any consumer, never over less than the duration', () => {
    const s = 1_795_687_200_000_000
    const two = new Map([
      ['c1', { firstRecvUs: s, lastRecvUs: s + 12_000_000 }],
      ['c2', { firstRecvUs: s + 500_000, lastRecvUs: s + 20_000_000 }],
      ['dead', {}],
    ])
    expect(clusterReceiveRate(two, 8000, 10)).toBe(400) // 8000 over 20 s, not 10
    expect(
      clusterReceiveRate(new Map([['c1', { firstRecvUs: s, lastRecvUs: s + 2_000_000 }]]), 4000, 10),
    ).toBe(400)
    expect(clusterReceiveRate(new Map(), 0, 10)).toBe(0)
  })
})
