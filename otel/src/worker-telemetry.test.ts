import { describe, expect, it } from 'vitest'
import type { ReceiveInfo, SendInfo, SettleInfo } from './hooks.ts'
import { IotloadMetrics } from './metrics.ts'
import { createRunTelemetry } from './run-telemetry.ts'
import { workerSampling, workerTelemetry } from './worker-telemetry.ts'

const T0 = 1_764_000_000_000_000
const labels = { system: 'nats', producerDestination: 'd.{device}', devices: 4 }

/** A spread of latencies (0.05 ms … 12 s), bridge hops on every third, a warm-up one and a skewed one. */
function messages(): Array<{ send: SendInfo; settle: SettleInfo; receive: ReceiveInfo }> {
  const out = []
  for (let i = 0; i < 400; i++) {
    const latencyUs = Math.round(50 * 1.03 ** i)
    const hops = i % 3 === 0 ? [{ in: T0 + 20, out: T0 + 35 + i }] : undefined
    out.push({
      send: { dev: i % 4, seq: i, tUs: T0 + (i % 7) * 900, tiUs: T0, topic: `d.${i % 4}` },
      settle: { dev: i % 4, seq: i, tUs: T0, ackUs: T0 + 100 + i * 37, ok: i % 11 !== 0 },
      receive: {
        meta: { dev: i % 4, seq: i, t: T0, ti: T0 - (i % 5) * 1000, ...(hops ? { hops } : {}) },
        recvUs: T0 + latencyUs,
        topic: `d.${i % 4}`,
        headers: undefined,
      },
    })
  }
  out.push({
    ...out[0]!,
    receive: { ...out[0]!.receive, meta: { dev: 0, seq: 999, t: T0, ti: T0, warmup: true } },
  })
  out.push({ ...out[1]!, receive: { ...out[1]!.receive, recvUs: T0 - 5 } })
  return out
}

async function metricsText(metrics: IotloadMetrics): Promise<string> {
  return (
    (await metrics.text()).body
      .split('\n')
      .filter((l) => /latency|lag/.test(l) && !l.startsWith('#'))
      .map((l) => l.replace(/run="[^"]+"/, 'run="x"'))
      // Sums added in another order differ in their last bits: compare them to a nanosecond.
      .map((l) => l.replace(/(_sum\{.*\} )(\S+)$/, (_, k: string, v: string) => k + Number(v).toFixed(6)))
      .join('\n')
  )
}

describe('per-message metrics in worker threads', () => {
  it('give the same buckets, sums and lag as one thread fed every message', async () => {
    const one = new IotloadMetrics()
    const single = createRunTelemetry({ ...labels, run: 'single', metrics: one })
    const two = new IotloadMetrics()
    const sharded = createRunTelemetry({ ...labels, run: 'sharded', metrics: two })
    expect(single.sharding?.module).toMatch(/^file:.*worker-telemetry\.ts$/)
    // Two producer workers (devices split) and a consumer worker, posting every 100 messages.
    const producers = [workerTelemetry(), workerTelemetry()]
    const consumer = workerTelemetry()
    const all = messages()
    all.forEach((m, i) => {
      single.onSend?.(m.send)
      single.onPublishSettled?.(m.settle)
      single.onReceive?.(m.receive)
      const p = producers[m.send.dev % 2]!
      p.onSend?.(m.send)
      p.onPublishSettled?.(m.settle)
      consumer.onReceive?.(m.receive)
      if (i % 100 === 99) for (const w of [...producers, consumer]) sharded.sharding?.absorb(w.take())
    })
    for (const w of [...producers, consumer]) sharded.sharding?.absorb(w.take())
    const expected = await metricsText(one)
    expect(expected).toMatch(/iotload_e2e_latency_milliseconds_count\{.*\} 400$/m)
    expect(expected).toMatch(/iotload_generator_lag_milliseconds\{.*\} 5\.4$/m)
    expect(await metricsText(two)).toBe(expected)
  })

  it('take() starts afresh, and a foreign state is ignored', async () => {
    const w = workerTelemetry()
    w.onReceive?.(messages()[3]!.receive)
    expect(w.take().e2e.count).toBe(1)
    expect(w.take().e2e.count).toBe(0)
    const metrics = new IotloadMetrics()
    const t = createRunTelemetry({ ...labels, run: 'r', metrics })
    for (const junk of [undefined, null, 7, 'x', {}, { e2e: {} }, { e2e: { counts: [1] } }])
      expect(() => t.sharding?.absorb(junk)).not.toThrow()
    expect(await metricsText(metrics)).toMatch(/iotload_e2e_latency_milliseconds_count\{.*\} 0$/m)
  })

  it('a traced run shards only when a worker can set its exporter up again from the environment', () => {
    const tracing = (portable: boolean) =>
      ({
        tracerFor: () => ({}) as never,
        serviceName: (role: string) => `edge-${role}`,
        portable,
        forceFlush: async () => undefined,
      }) as never
    const run = (portable: boolean) =>
      createRunTelemetry({ ...labels, run: 't', metrics: new IotloadMetrics(), tracing: tracing(portable) })
    // A custom exporter object (tests) cannot cross into a worker thread.
    expect(run(false).sharding).toBeUndefined()
    expect(run(true).sharding?.options).toEqual({
      metrics: true,
      traces: {
        labels: {
          run: 't',
          system: 'nats',
          producerDestination: 'd.{device}',
          consumerDestination: 'd.{device}',
        },
        sampling: { kind: 'rate', perSecond: 10 },
        serviceName: 'edge',
      },
    })
  })

  it('shares a per-second sampling budget among the producer workers', () => {
    const rate = { kind: 'rate', perSecond: 10 } as const
    expect(workerSampling(rate, { role: 'producer', producers: 4 })).toEqual({ kind: 'rate', perSecond: 2.5 })
    expect(workerSampling(rate, { role: 'consumer', producers: 4 })).toEqual(rate)
    const ratio = { kind: 'ratio', ratio: 0.01 } as const
    expect(workerSampling(ratio, { role: 'producer', producers: 4 })).toEqual(ratio)
  })
})
