import { describeError, nowUs } from '@iotload/sdk'
import type { GeneratorReport } from '../engine/generator-health.ts'
import { STREAM } from '../engine/recorder.ts'
import { startRun } from '../engine/run.ts'
import type { RunSummary } from '../engine/summary.ts'
import { compileTextTemplate } from '../scenario/text-template.ts'
import type { ResultWriter, StreamSummaryRow } from '../store/result-store.ts'
import { producerScenario, type RunPlan } from './plan.ts'
import { sendsByTopicTelemetry } from './sends-by-topic.ts'
import {
  epochLocalUs,
  RUN_KEY_TTL_S,
  readState,
  syncWithCoordinator,
  type TaskContext,
  waitForState,
  resolvePlanScenario,
} from './task-context.ts'

/** Final report of a producer daemon, at `run:{id}:tasks:producer`. */
export interface ProducerReport {
  status: string
  firstDevice: number
  devices: number
  sent: number
  sentWarmup: number
  publishErrors: number
  generatorLimited: boolean
  /** Measured sends per second over this daemon's own send window (warm-up excluded). */
  sendRate?: number
  /** This daemon's generator health, for the cluster summary. */
  generator?: GeneratorReport | null
  connections?: RunSummary['connections']
  /** Encoded publish-ack histogram (µs), when the broker acks: merged exactly by the coordinator. */
  publishAckHist?: string
  /** This daemon's worker threads, when `run.workers` sharded its devices. */
  workers?: RunSummary['workers']
  error?: string
}

/** A store that keeps nothing but the summary rows (the engine stores nothing else for a cluster producer). */
function summaryTap(onSummary: (rows: StreamSummaryRow[]) => void): ResultWriter {
  const noop = () => {}
  return { createRun: noop, updateRun: noop, appendSecond: noop, saveSummary: (_id, rows) => onSummary(rows) }
}

/**
 * A producer daemon's part of a cluster run: advertise its topics, wait for `go`, run the engine
 * on its device range (consumer off), and report sends per topic and per second to Redis.
 */
export async function runProducerTask(ctx: TaskContext, plan: RunPlan): Promise<void> {
  const { member, logger } = ctx
  const k = member.keys
  const redis = member.redis
  const slot = plan.producers.find((p) => p.member === member.id)
  if (!slot) return
  const report = async (r: Partial<ProducerReport> & { status: string }) => {
    await redis.hset(
      k.tasks(plan.id, 'producer'),
      member.id,
      JSON.stringify({ firstDevice: slot.firstDevice, devices: slot.devices, ...r }),
    )
  }
  try {
    const resolved = await resolvePlanScenario(ctx, producerScenario(plan.scenario, slot), plan.id)
    // Before advertising: consumers read this offset when they claim this producer's topics.
    const toCoordinator = await syncWithCoordinator(member, plan, logger)
    const p = resolved.scenario.producer
    const topicOf = compileTextTemplate(p.topic, 'producer.topic')
    const topics: string[] = []
    const adv: string[] = []
    for (let d = p.firstDevice; d < p.firstDevice + p.devices; d++) {
      const t = topicOf({ device: d, run: plan.id })
      topics.push(t)
      adv.push(t, JSON.stringify({ device: d, producer: member.id }))
    }
    await redis
      .multi()
      .hset(k.topics(plan.id), ...adv)
      .expire(k.topics(plan.id), RUN_KEY_TTL_S)
      .exec()
    await report({ status: 'advertised' })
    // `done` before `go`: the coordinator gave up on the run (it failed to start).
    const state = await waitForState(member, plan.id, ['go', 'stop', 'done'], 120_000)
    if (state !== 'go') {
      await report({ status: 'failed', error: `run never started (state ${state})` })
      return
    }

    const epochUs = epochLocalUs(plan, toCoordinator)
    const totals = { sentWarmup: 0, publishErrors: 0 }
    const sentByTopic = new Map<string, number>()
    const flushSent = async () => {
      if (sentByTopic.size === 0) return
      const m = redis.multi()
      for (const [t, n] of sentByTopic) m.hincrby(k.sent(plan.id), t, n)
      sentByTopic.clear()
      m.expire(k.sent(plan.id), RUN_KEY_TTL_S)
      await m.exec()
    }
    let publishAckHist: string | undefined
    const handle = startRun(resolved, {
      id: plan.id,
      logger,
      store: summaryTap((rows) => {
        publishAckHist = rows.find((r) => r.stream === STREAM.publishAck)?.rawHist
      }),
      telemetry: sendsByTopicTelemetry(sentByTopic),
      onSecond: (r) => {
        const c = r.counters
        totals.sentWarmup += c.sentWarmup
        totals.publishErrors += c.publishErrors
        // The engine's seconds start at its own t0; file them under the series' second that just ended.
        const s = Math.max(0, Math.floor((nowUs() - epochUs) / 1e6) - 1)
        void redis
          .hset(
            k.producerSeconds(plan.id),
            `${s}:${r.second}:${member.id}`,
            JSON.stringify({
              warmup: r.warmup,
              sent: c.sent,
              sentWarmup: c.sentWarmup,
              publishErrors: c.publishErrors,
            }),
          )
          .then(flushSent)
          .catch((err) => logger.debug('producer second write failed', { error: describeError(err) }))
      },
    })
    // A coordinator's stop (or its end of the run after a failure) reaches producers through the state key.
    const watch = setInterval(() => {
      if (ctx.signal?.aborted) handle.stop()
      void readState(member, plan.id)
        .then((s) => {
          if (s === 'stop' || s === 'done') handle.stop()
        })
        .catch(() => {})
    }, 500)
    const summary = await handle.result
    clearInterval(watch)
    await flushSent()
    const e2e = summary.streams.e2e
    await report({
      status: summary.run.status,
      sent: e2e?.sent ?? 0,
      sentWarmup: totals.sentWarmup,
      publishErrors: totals.publishErrors,
      generatorLimited: summary.generatorLimited,
      ...(e2e?.sendRate !== undefined ? { sendRate: e2e.sendRate } : {}),
      generator: summary.generator,
      connections: summary.connections,
      ...(publishAckHist ? { publishAckHist } : {}),
      ...(summary.workers ? { workers: summary.workers } : {}),
      ...(summary.error ? { error: summary.error } : {}),
    })
    logger.info('cluster producer task ended', { run: plan.id, status: summary.run.status })
  } catch (err) {
    logger.error('cluster producer task failed', { run: plan.id, error: describeError(err) })
    await report({ status: 'failed', error: describeError(err) }).catch(() => {})
  }
}
