import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'
import type { RunSummary } from './summary.ts'

/** Test fixtures shared by the cross-broker integration tests. */
export const example = (name: string): string =>
  fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url))

/** The example, shortened and moved to fresh topics through the documented env overrides. */
export function overrides(root: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    IOTLOAD_PRODUCER_DEVICES: '5',
    IOTLOAD_PRODUCER_DURATION: '3s',
    IOTLOAD_PRODUCER_WARMUP: '1s',
    IOTLOAD_PRODUCER_TOPIC: `${root}/devices/{device}/telemetry`,
    IOTLOAD_BRIDGE_FROM: `${root}/devices/{device}/telemetry`,
    ...extra,
  }
}

/** 5 devices × 10/s × 3 s all arrive, and every leg has a figure for every message. */
export function expectLegs(summary: RunSummary): void {
  expect(summary.run.status).toBe('completed')
  const e2e = summary.streams.e2e!
  expect(e2e.sent).toBe(5 * 10 * 3)
  expect(e2e.received).toBe(e2e.sent)
  expect(e2e.lost).toBe(0)
  expect(e2e.invalid).toBe(0)
  for (const leg of ['publish-ack', 'producer-bridge', 'bridge', 'bridge-consumer'])
    expect(summary.streams[leg]!.latency.raw.count, leg).toBe(leg === 'publish-ack' ? e2e.sent : e2e.received)
  expect(summary.bridge).toMatchObject({ publishErrors: 0, transformErrors: 0, overflowDropped: 0 })
}
