import { describe, expect, it } from 'vitest'
import { BucketHistogram, bucketRange, LATENCY_BUCKETS_MS } from './latency-buckets.ts'
import { IotloadMetrics } from './metrics.ts'
import { serveMetrics } from './metrics-server.ts'
import { createRunTelemetry } from './run-telemetry.ts'

const T0 = 1_764_000_000_000_000
const labels = {
  system: 'mqtt',
  producerDestination: 'devices/{device}/telemetry',
  consumerDestination: 'actions/+',
  devices: 5,
}
const second = (sent: number, received: number, extra: Record<string, number> = {}) => ({
  second: 0,
  warmup: false,
  gaps: extra.gaps ?? 0,
  counters: {
    sent,
    received,
    duplicates: 0,
    invalid: 0,
    publishErrors: 0,
    reconnects: 0,
    disconnects: 0,
    ...extra,
  },
})

function sample(body: string, metric: string, match: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(metric) && l.includes(match))
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : undefined
}

describe('BucketHistogram', () => {
  it('puts a value on a bound into that bucket and beyond the last into +Inf', () => {
    const h = new BucketHistogram()
    h.record(0.1)
    h.record(0.100001)
    h.record(20_000)
    expect(h.counts[0]).toBe(1)
    expect(h.counts[1]).toBe(1)
    expect(h.counts[LATENCY_BUCKETS_MS.length]).toBe(1)
    expect(h.count).toBe(3)
    expect(bucketRange(4)).toEqual([3, 5])
    expect(bucketRange(0.05)).toEqual([0, 0.1])
  })
})

describe('IotloadMetrics', () => {
  it('exposes counters, gauges and the latency histograms with bounded run labels', async () => {
    const metrics = new IotloadMetrics()
    const t = createRunTelemetry({ ...labels, run: 'run-a', metrics })
    for (let i = 0; i < 100; i++) {
      t.onSend?.({
        dev: i % 5,
        seq: i,
        tUs: T0 + i,
        tiUs: T0 + i - (i === 50 ? 3000 : 0),
        topic: `devices/${i % 5}/telemetry`,
      })
      t.onReceive?.({
        meta: { dev: i % 5, seq: i, t: T0, ti: T0, hops: [{ in: T0 + 100, out: T0 + 150 }] },
        recvUs: T0 + (i + 1) * 100, // 0.1 … 10 ms
        topic: `actions/${i % 5}`,
        headers: undefined,
      })
    }
    // Warm-up arrivals are not latencies.
    t.onReceive?.({
      meta: { dev: 0, seq: 999, t: T0, ti: T0, warmup: true },
      recvUs: T0 + 9e6,
      topic: 'a',
      headers: undefined,
    })
    t.onSecond?.(
      second(100, 98, {
        duplicates: 2,
        invalid: 3,
        publishErrors: 1,
        disconnects: 2,
        reconnects: 1,
        gaps: 2,
      }),
    )
    const { body, contentType } = await metrics.text()
    expect(contentType).toContain('text/plain')
    const consumer =
      'run="run-a",role="consumer",messaging_system="mqtt",messaging_destination_name="actions/+"'
    const producer =
      'run="run-a",role="producer",messaging_system="mqtt",messaging_destination_name="devices/{device}/telemetry"'
    expect(sample(body, 'iotload_messages_sent_total', producer)).toBe(100)
    expect(sample(body, 'iotload_messages_received_total', consumer)).toBe(98)
    expect(sample(body, 'iotload_messages_duplicate_total', consumer)).toBe(2)
    expect(sample(body, 'iotload_messages_invalid_total', consumer)).toBe(3)
    expect(sample(body, 'iotload_publish_errors_total', producer)).toBe(1)
    expect(sample(body, 'iotload_connection_reconnects_total', producer)).toBe(1)
    expect(sample(body, 'iotload_devices_connected', producer)).toBe(4)
    expect(sample(body, 'iotload_messages_gaps', consumer)).toBe(2)
    expect(sample(body, 'iotload_generator_lag_milliseconds', producer)).toBe(3)
    expect(sample(body, 'iotload_e2e_latency_milliseconds_count', consumer)).toBe(100)
    expect(sample(body, 'iotload_e2e_latency_milliseconds_bucket', `${consumer},le="1"}`)).toBe(10)
    expect(sample(body, 'iotload_e2e_latency_milliseconds_bucket', `${consumer},le="+Inf"}`)).toBe(100)
    expect(sample(body, 'iotload_leg_latency_milliseconds_count', 'leg="bridge"')).toBe(100)
    // No per-device label anywhere.
    expect(body).not.toMatch(/devices\/\d|actions\/\d|device="/)

    t.onRunEnd?.({ run: { status: 'completed' }, streams: { e2e: { lost: 2 } } })
    const after = (await metrics.text()).body
    expect(sample(after, 'iotload_messages_lost_total', consumer)).toBe(2)
    expect(sample(after, 'iotload_devices_connected', producer)).toBe(0)
  })

  it('keeps only the most recent ended runs', async () => {
    const metrics = new IotloadMetrics({ retainEndedRuns: 2 })
    for (const run of ['a', 'b', 'c']) {
      const t = createRunTelemetry({ ...labels, run, metrics })
      t.onSecond?.(second(3, 3))
      // Scraped while running and after: a dropped run must not linger as a stale series.
      expect((await metrics.text()).body).toContain(`run="${run}"`)
      t.onRunEnd?.({ run: { status: 'completed' }, streams: {} })
      await metrics.text()
    }
    const { body } = await metrics.text()
    expect(body).not.toContain('run="a"')
    expect(sample(body, 'iotload_messages_sent_total{', 'run="b"')).toBe(3)
    expect(body).toContain('run="b"')
    expect(body).toContain('run="c"')
  })

  it('serves GET /metrics on its own port and 404s elsewhere', async () => {
    const metrics = new IotloadMetrics()
    createRunTelemetry({ ...labels, run: 'served', metrics }).onSecond?.(second(7, 7))
    const server = await serveMetrics(metrics.provide, { port: 0 })
    try {
      const res = await fetch(server.url)
      expect(res.status).toBe(200)
      expect(await res.text()).toContain('iotload_messages_sent_total{run="served"')
      expect((await fetch(server.url.replace('/metrics', '/other'))).status).toBe(404)
    } finally {
      await server.close()
    }
  })
})
