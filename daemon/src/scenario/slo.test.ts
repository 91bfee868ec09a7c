import { describe, expect, it } from 'vitest'
import { parseSlo } from './slo.ts'

describe('parseSlo', () => {
  it('maps the issue example: e2e.p99, bridge.p99 (bridge-processing leg) and loss', () => {
    expect(parseSlo({ 'e2e.p99': '10ms', 'bridge.p99': '2ms', loss: 0 })).toEqual([
      { key: 'e2e.p99', kind: 'latency', stream: 'e2e', corrected: false, stat: 'p99', maxUs: 10_000 },
      { key: 'bridge.p99', kind: 'latency', stream: 'bridge', corrected: false, stat: 'p99', maxUs: 2000 },
      { key: 'loss', kind: 'count', metric: 'loss', maxCount: 0 },
    ])
  })
  it('accepts corrected figures, p99.9, leg prefixes, aliases, µs and percentages', () => {
    const [co, p999, leg, total, budget, us] = parseSlo({
      'e2e.co.p99': '12ms',
      'e2e.p99.9': '20ms',
      'leg.bridge-consumer.p50': '3ms',
      'total.max': '1s',
      invalid: '0.5%',
      'e2e.p99': '1us',
    })
    expect(co).toMatchObject({ stream: 'e2e', corrected: true, stat: 'p99' })
    expect(p999).toMatchObject({ stream: 'e2e', stat: 'p999', maxUs: 20_000 })
    expect(leg).toMatchObject({ stream: 'bridge-consumer', stat: 'p50', maxUs: 3000 })
    expect(total).toMatchObject({ stream: 'e2e', stat: 'max', maxUs: 1_000_000 })
    expect(budget).toMatchObject({ metric: 'invalid', maxRatio: 0.005 })
    expect(us).toMatchObject({ maxUs: 1 })
  })
  it('an external iPaaS’s legs have their own names for the bridge’s streams', () => {
    const [inside, toIpaas, fromIpaas] = parseSlo({
      'ipaas.p99': '2ms',
      'producer-ipaas.co.p99': '5ms',
      'ipaas-consumer.p99': '3ms',
    })
    expect(inside).toMatchObject({ stream: 'bridge' })
    expect(toIpaas).toMatchObject({ stream: 'producer-bridge', corrected: true })
    expect(fromIpaas).toMatchObject({ stream: 'bridge-consumer' })
  })
  it('rejects unknown streams, uncorrectable legs, unitless latencies and bad budgets, naming the key', () => {
    expect(() => parseSlo({ 'e2f.p99': '10ms' })).toThrow(/slo\.e2f\.p99.*unknown stream 'e2f'/)
    expect(() => parseSlo({ 'bridge.co.p99': '2ms' })).toThrow(/no coordinated-omission/)
    expect(() => parseSlo({ 'e2e.p99': 10 })).toThrow(/with a unit/)
    expect(() => parseSlo({ 'e2e.p42': '10ms' })).toThrow(/expected <stream>/)
    expect(() => parseSlo({ loss: 'lots' })).toThrow(/slo\.loss/)
  })
})
