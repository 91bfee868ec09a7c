import { expect } from 'vitest'
import { type ChaosCluster, type DaemonName, runViews, topicAccounts } from './chaos-harness.ts'
import type { TestRun } from './cluster-test-helpers.ts'

/**
 * The checks every chaos test makes on a run that ended: per-topic accounting (no topic has more
 * first arrivals than sends, so nothing was counted twice; each gap's loss is its topic's), the
 * summary equal to the records in Redis, and the result stored exactly once (one daemon serves it,
 * its series adds up to the summary). `lossFree`: every message sent was received.
 */
export async function expectAccounting(
  c: ChaosCluster,
  id: string,
  stored: { name: DaemonName; run: TestRun },
  lossFree: boolean,
) {
  const s = stored.run.summary
  const e2e = s.streams.e2e
  const topics = await topicAccounts(c, id)
  expect(topics.length).toBe(s.target.devices)
  const twice = topics.filter((t) => t.received > t.sent)
  expect(twice, 'topics with more first arrivals than sends').toEqual([])
  expect(e2e.received).toBe(topics.reduce((a, t) => a + t.measuredReceived, 0))
  expect(e2e.lost).toBe(Math.max(0, e2e.sent - e2e.received))
  for (const g of s.cluster.gaps) {
    const t = topics.find((x) => x.topic === g.topic)!
    expect(g.lost, g.topic).toBe(t.sent - t.received)
  }
  if (lossFree) {
    expect(e2e.lost).toBe(0)
    expect(topics.filter((t) => t.received !== t.sent)).toEqual([])
  }
  const views = await runViews(c, id)
  const withSummary = [...views].filter(([, r]) => r?.summary)
  expect(withSummary.map(([n]) => n)).toEqual([stored.name])
  const series = (await (await fetch(`${c.d[stored.name].url}/v1/runs/${id}/series`)).json()) as {
    rows: Array<{ received?: number }>
  }
  expect(series.rows.reduce((a, r) => a + (r.received ?? 0), 0)).toBe(e2e.received)
  return { views, topics }
}
