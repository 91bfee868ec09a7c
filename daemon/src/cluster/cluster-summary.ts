import { measuredTargetRate } from '../engine/rate-curve.ts'
import { STREAM } from '../engine/recorder.ts'
import { sloPassed } from '../engine/slo-verdicts.ts'
import { evaluateSlo, type StreamSummary } from '../engine/summary.ts'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import type { RunStatus, StreamSummaryRow } from '../store/result-store.ts'
import type { AdoptionEvent } from './coordinator-types.ts'
import { e2eRow, encodeHistogram, type MergeOutput, stats } from './merge.ts'
import type { RunPlan } from './plan.ts'
import { mergeConnections, mergeGenerators, mergePublishAck } from './producer-merge.ts'
import { clusterReceiveRate, clusterSendRate } from './rates.ts'
import type { RunResults } from './read-run-results.ts'

/** What the coordinator knows about the run besides its results. */
export interface SummaryContext {
  plan: RunPlan
  resolved: ResolvedScenario
  startedAt: number
  coordinator: string
  adoptedFrom: string | undefined
  adoptions: AdoptionEvent[]
  status: RunStatus
}

/** The summary document and the stored summary rows of a merged cluster run. */
export function clusterSummary(
  c: SummaryContext,
  merged: MergeOutput,
  res: RunResults,
): { summary: Record<string, unknown>; rows: StreamSummaryRow[]; sent: number } {
  const { plan, resolved } = c
  const prods = res.producers
  const sent = [...prods.values()].reduce((s, x) => s + (x.sent ?? 0), 0)
  const p = resolved.scenario.producer
  const durationS = p.duration / 1000
  const lost = plan.consumers.length > 0 ? Math.max(0, sent - merged.total.received) : 0
  const rate = clusterReceiveRate(res.consumerWindows, merged.total.received, durationS)
  const row = e2eRow(merged, sent, lost, rate)
  const publishAck = mergePublishAck(prods)
  const legRows = [...(publishAck ? [[STREAM.publishAck, publishAck] as const] : []), ...merged.legs].map(
    ([stream, h]) => ({ stream, raw: stats(h), rawHist: encodeHistogram(h) }),
  )
  const uncertaintyUs = res.clocks.reduce((m, x) => Math.max(m, x.uncertaintyUs), 0)
  const ownersPerTopic = new Map<string, Set<string>>()
  for (const e of res.events) {
    const s = ownersPerTopic.get(`${e.role}:${e.topic}`) ?? new Set()
    s.add(e.member)
    ownersPerTopic.set(`${e.role}:${e.topic}`, s)
  }
  const streams: Record<string, StreamSummary> = {
    e2e: {
      sent,
      received: merged.total.received,
      lost,
      duplicates: merged.total.duplicates,
      reordered: merged.total.reordered,
      invalid: merged.total.invalid,
      rate,
      sendRate: clusterSendRate(prods, sent, durationS),
      latency: { raw: stats(merged.raw), co: stats(merged.co) },
    },
  }
  for (const l of legRows) streams[l.stream] = { latency: { raw: l.raw } }
  const generatorLimited = [...prods.values()].some((x) => x.generatorLimited)
  // A failed cluster run keeps what reached Redis, but no SLO verdict is drawn from it.
  const measured = c.status !== 'failed' && sent > 0
  const slo = evaluateSlo(resolved.slo, streams, { measured, generatorLimited })
  const summary = {
    run: {
      id: plan.id,
      name: resolved.scenario.name,
      status: c.status,
      startedAt: new Date(c.startedAt).toISOString(),
      endedAt: new Date().toISOString(),
      measuredSeconds: durationS,
      measured,
    },
    target: {
      plugin: resolved.broker.pluginName,
      devices: p.devices,
      ratePerDevice: measuredTargetRate(p) / p.devices,
      totalRate: measuredTargetRate(p),
      durationS,
      warmupS: p.warmup / 1000,
      qos: p.qos,
      envelope: p.envelope,
    },
    streams,
    invalid: { ...merged.total.invalidByReason },
    generator: mergeGenerators(prods),
    generatorLimited,
    connections: mergeConnections(prods),
    bridge: null,
    clockSkew: merged.total.clockSkew,
    slo,
    sloPassed: sloPassed(slo),
    cluster: {
      coordinator: c.coordinator,
      /** The coordinator that planned the run and died; clock offsets are relative to it. */
      ...(c.adoptedFrom ? { adoptedFrom: c.adoptedFrom } : {}),
      /** Every adoption of the run (stalled or dead coordinators, hand-overs on shutdown). */
      adoptions: c.adoptions,
      producers: plan.producers.map((x) => ({
        ...x,
        status: prods.get(x.member)?.status ?? 'lost',
        sent: prods.get(x.member)?.sent ?? 0,
        generatorLimited: prods.get(x.member)?.generatorLimited ?? false,
        ...workersOf(prods.get(x.member)?.workers),
      })),
      consumers: plan.consumers,
      bridges: plan.bridges,
      topics: {
        advertised: res.producerTopics,
        measured: merged.topics.length,
        claimed: [...ownersPerTopic.keys()].filter((x) => x.startsWith('consumer:')).length,
        reclaimed: [...ownersPerTopic.entries()].filter(([x, s]) => x.startsWith('consumer:') && s.size > 1)
          .length,
      },
      clocks: res.clocks,
      /** Latencies between two daemons are uncertain by up to this much (largest member uncertainty). */
      clockUncertaintyUs: uncertaintyUs,
      gaps: merged.gaps,
      firstSecondEpoch: merged.firstSecond,
    },
  }
  return { summary, rows: [row, ...legRows], sent }
}

/**
 * A producer's worker threads as its report in Redis gave them: numbers only, so a report (any
 * cluster member can write one) puts nothing else into the stored summary.
 */
export function workersOf(w: unknown): { workers?: { producers: number; threads: number; mergeMs: number } } {
  if (typeof w !== 'object' || w === null) return {}
  const { producers, threads, mergeMs } = w as Record<string, unknown>
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0)
  return typeof producers === 'number'
    ? { workers: { producers: n(producers), threads: n(threads), mergeMs: n(mergeMs) } }
    : {}
}
