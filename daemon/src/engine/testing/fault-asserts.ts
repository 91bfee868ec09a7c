import { expect } from 'vitest'
import type { FaultReport } from '../fault-timeline.ts'
import type { RunSummary, StreamSummary } from '../summary.ts'

/**
 * The books of a run with a fault balance exactly: every measured send was received once, or is
 * lost (a gap), or undelivered (after its device's last arrival); repeats are counted apart.
 */
export function expectExactBooks(summary: RunSummary, sent: number): StreamSummary {
  const e2e = summary.streams.e2e!
  expect(e2e.sent).toBe(sent)
  expect(e2e.received! + e2e.lost! + (e2e.undelivered ?? 0)).toBe(sent)
  expect(e2e.invalid).toBe(0)
  expect(e2e.duplicates).toBeGreaterThanOrEqual(0)
  return e2e
}

/**
 * The run's one fault dropped connections, they came back, the received rate recovered, and the
 * messages missing from the whole run were all intended inside the fault's window.
 */
export function expectRecovered(summary: RunSummary, context = ''): FaultReport {
  const faults = summary.faults?.faults ?? []
  expect(faults, context).toHaveLength(1)
  const f = faults[0]!
  const e2e = summary.streams.e2e!
  const why = `${JSON.stringify(f)}\n${context}`
  expect(f.firstDisconnectMs, why).not.toBeNull()
  expect(f.firstReconnectMs, why).not.toBeNull()
  expect(f.recoveryMs, why).not.toBeNull()
  expect(f.lost, why).toBe(e2e.lost! + (e2e.undelivered ?? 0))
  // The fault's duplicates are the run's (no repeats outside its window), none counted twice.
  expect(f.duplicates, why).toBeLessThanOrEqual(e2e.duplicates!)
  return f
}
