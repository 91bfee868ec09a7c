import { Counters } from '../engine/counters.ts'
import { LatencyStream } from '../engine/latency-stream.ts'
import type { SqliteStore } from '../store/sqlite-store.ts'

/** A valid scenario against the local Mosquitto; tests override fields. */
export function mqttScenario(topic: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'api-test',
    broker: { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883' },
    producer: { devices: 10, rate: '10/s', duration: '3s', topic: `${topic}/{device}` },
    run: { drain: '1s' },
    ...extra,
  }
}

/**
 * Stores a run the way the engine would: record, `seconds` per-second e2e rows with real encoded
 * histograms, and (when `finished`) a summary with the cumulative histogram.
 */
export function seedRun(
  store: SqliteStore,
  id: string,
  options: { createdAt: number; seconds?: number; finished?: boolean; status?: 'completed' | 'interrupted' },
): void {
  store.createRun({
    id,
    name: `seed-${id}`,
    scenario: { broker: { plugin: 'mqtt', auth: { password: '[redacted]' } } },
    createdAt: options.createdAt,
  })
  const stream = new LatencyStream('e2e', true)
  for (let s = 0; s < (options.seconds ?? 3); s++) {
    for (let i = 1; i <= 100; i++) stream.record(i * 10 * (s + 1), i * 12 * (s + 1))
    const counters = new Counters()
    counters.sent = 100
    counters.received = 100
    store.appendSecond(id, {
      second: s,
      warmup: false,
      counters,
      gaps: 0,
      streams: [{ stream: 'e2e', snapshot: stream.rollSecond() }],
    })
  }
  const status = options.status ?? (options.finished === false ? 'interrupted' : 'completed')
  store.updateRun(id, { status, startedAt: options.createdAt + 100, endedAt: options.createdAt + 5000 })
  if (options.finished !== false) {
    const total = stream.cumulative()
    store.saveSummary(id, [
      {
        stream: 'e2e',
        sent: 300,
        received: 300,
        lost: 0,
        raw: total.raw,
        co: total.co!,
        rawHist: total.rawHist,
        coHist: total.coHist!,
      },
    ])
    store.updateRun(id, { summary: { run: { id, status } } })
  }
}
