import { describe, expect, it } from 'vitest'
import type { GeneratorReport } from '../engine/generator-health.ts'
import { decodeHistogram, LatencyHistogram, statsOf } from '../engine/histogram.ts'
import { mergeConnections, mergeGenerators, mergePublishAck } from './producer-merge.ts'
import type { ProducerReport } from './producer-task.ts'

const generator = (over: Partial<GeneratorReport>): GeneratorReport => ({
  limited: false,
  reasons: [],
  lagUs: { p50: 10, p99: 100, max: 1000 },
  finalLagP99Us: 50,
  eventLoopDelayUs: { p50: 20, p99: 200, max: 2000 },
  inFlightPeak: 5,
  targetRate: 200,
  achievedSendRate: 200,
  ...over,
})

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

describe('merging producer daemons for the cluster summary', () => {
  it('keeps the worst producer’s lag, sums rates and names who was limited', () => {
    const g = mergeGenerators(
      new Map([
        ['a', report({ generator: generator({}) })],
        [
          'b',
          report({
            generator: generator({
              limited: true,
              reasons: ['send lag grew'],
              lagUs: { p50: 5, p99: 900, max: 800 },
              achievedSendRate: 150.04,
            }),
          }),
        ],
        ['c', report({ status: 'failed' })], // no generator report: ignored
      ]),
    )
    expect(g).toMatchObject({
      limited: true,
      reasons: ['b: send lag grew'],
      lagUs: { p50: 10, p99: 900, max: 1000 },
      targetRate: 400,
      achievedSendRate: 350,
    })
    expect(mergeGenerators(new Map([['a', report({})]]))).toBeNull()
  })

  it('sums connections and takes the slowest connect time', () => {
    const c = (devices: number, connectMs: number) => ({
      devices,
      connections: devices,
      failed: 1,
      connectMs,
      disconnects: 2,
      reconnects: 3,
    })
    expect(
      mergeConnections(
        new Map([
          ['a', report({ connections: c(200, 300) })],
          ['b', report({ connections: c(100, 900) })],
        ]),
      ),
    ).toEqual({ devices: 300, connections: 300, failed: 2, connectMs: 900, disconnects: 4, reconnects: 6 })
  })

  it('merges publish-ack histograms exactly', () => {
    const a = new LatencyHistogram(64)
    const b = new LatencyHistogram(64)
    const all = new LatencyHistogram(64)
    for (let i = 1; i <= 500; i++) {
      a.record(i * 3)
      all.record(i * 3)
    }
    for (let i = 1; i <= 300; i++) {
      b.record(i * 40)
      all.record(i * 40)
    }
    const merged = mergePublishAck(
      new Map([
        ['a', report({ publishAckHist: a.encode() })],
        ['b', report({ publishAckHist: b.encode() })],
        ['c', report({})],
      ]),
    )
    // Same as one histogram of every ack (through the same encoding: a decoded max is its bucket's top).
    expect(statsOf(merged!)).toEqual(statsOf(decodeHistogram(all.encode())))
    expect(mergePublishAck(new Map([['a', report({})]]))).toBeUndefined()
  })
})
