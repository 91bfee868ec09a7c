import { describeError } from '@iotload/sdk'
import { createLogger, type Logger } from '../../log/logger.ts'
import { secrets } from '../../log/secret-registry.ts'
import type { ResolvedBroker, ResolvedScenario } from '../../scenario/load-scenario.ts'
import type { ProducerConfig } from '../../scenario/schema.ts'
import type { ResultWriter, RunStatus } from '../../store/result-store.ts'
import { systemClock } from '../clock.ts'
import { Counters } from '../counters.ts'
import { lossBetween as faultLoss } from '../fault-loss.ts'
import { addFaultFigures, faultLossWindows, judgeRecovery } from '../fault-summary.ts'
import { runFaultTimeline } from '../fault-timeline.ts'
import { identitiesOfShard, splitFleet } from '../device-shard.ts'
import { type LastSecond, type LiveStatus, lastSecondOf, scheduleTimes } from '../live-status.ts'
import { allowedConnectFailures, fleetConnectionCount, runErrorText } from '../producer-fleet.ts'
import { GroupBreakdown } from '../group-breakdown.ts'
import { producerCurve } from '../rate-curve.ts'
import type { SecondReport } from '../recorder.ts'
import { measuredSeconds, newRunId } from '../run-window.ts'
import { storeRunEnd } from '../run-end-store.ts'
import { runTarget } from '../run-target.ts'
import { SequenceTracker } from '../sequence-tracker.ts'
import { buildSummary, type RunSummary, ratePerSecond } from '../summary.ts'
import { guard, type RunTelemetry } from '../telemetry-hooks.ts'
import { MergedRecorderView, mergeWorkerConnections, mergeWorkerGenerators } from './merged-summary.ts'
import { SecondMerger } from './second-merger.ts'
import type { WorkerPlan } from './worker-count.ts'
import type { WorkerEvents } from './worker-events.ts'
import type { ConsumerFinal, ProducerFinal, WorkerBroker } from './worker-protocol.ts'
import { WorkerThread } from './worker-thread.ts'

/** What a sharded run takes of `startRun`'s options (the clock is always the system's). */
export interface ShardedRunOptions {
  id?: string
  store?: ResultWriter
  logger?: Logger
  onSecond?: (report: SecondReport) => void
  telemetry?: RunTelemetry
}

/** The same handle `startRun` returns. */
export interface ShardedRunHandle {
  id: string
  result: Promise<RunSummary>
  stop(): void
  live(): LiveStatus
}

const START_LEAD_US = 200_000
const STOP_DRAIN_MS = 1000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const brokerOf = (b: ResolvedBroker): WorkerBroker => ({
  pluginName: b.pluginName,
  config: b.config,
  auth: b.auth,
})

/**
 * `producer.maxConnectFailures` over the whole fleet: each worker went on within the fleet's
 * allowance, so together they may have exceeded it. Throws as a single-thread run's connect does.
 */
function checkFleetConnectFailures(threads: WorkerThread[], p: ProducerConfig): void {
  const producers = threads.filter((t) => t.init.role === 'producer')
  const fleet = mergeWorkerConnections(producers.map((t) => t.readyConnections))
  if (!fleet || fleet.failed === 0) return
  // Judged as one thread judges its fleet: against the asked connections, and never with none open.
  const count = fleetConnectionCount(p)
  if (fleet.failed <= allowedConnectFailures(p.maxConnectFailures, count) && fleet.failed < count) return
  const first = fleet.failedDevices?.[0]?.error ?? 'device connections failed'
  throw Object.assign(new Error(first), { failedConnections: fleet.failed, totalConnections: count })
}

/**
 * A run whose device fleet is sharded across `plan.producers` worker threads (a device lives in one),
 * with the consumer and iotload's bridge in a worker of their own. Each worker records its own
 * histograms; every second the main thread merges their encoded histograms exactly (as the cluster
 * merges daemons), so the store, live lines, telemetry and SLOs see one run, percentiles included.
 * A worker that dies fails the run with its error; the seconds completed before are kept.
 */
export function startShardedRun(
  resolved: ResolvedScenario,
  options: ShardedRunOptions,
  plan: WorkerPlan,
): ShardedRunHandle {
  const id = options.id ?? newRunId()
  const logger = (options.logger ?? createLogger()).child({ run: id })
  if (plan.note) logger.info(plan.note)
  const s = resolved.scenario
  const p = s.producer
  const clock = systemClock
  const store = options.store
  const telemetry = options.telemetry ?? {}
  const onSecondTelemetry = guard(telemetry.onSecond?.bind(telemetry))
  const onRunEndTelemetry = guard(telemetry.onRunEnd?.bind(telemetry))
  // The fleet's planned rate: its groups' own curves added (one group without `producers:`).
  const groupCurves = s.groups.map((g) => ({ name: g.name, curve: producerCurve(g.config) }))
  const curve = {
    meanRate: (fromUs: number, toUs: number) =>
      groupCurves.reduce((n, g) => n + g.curve.meanRate(fromUs, toUs), 0),
  }
  const shards = splitFleet(p.devices, plan.producers)
  const policy = resolved.policy
  if (!policy) throw new Error('a sharded run needs the policy its scenario was resolved under')
  const recorded = resolved.recordedPayload
  const base = {
    runId: id,
    // What the scenario holds compiled (a recorded payload's renderers) cannot cross threads: its
    // rows go instead, and each worker compiles them again.
    // Identities go to each producer worker as its own rows only.
    scenario: { ...s, groups: s.groups.map(({ recorded: _, identities: __, ...g }) => g) },
    ...(resolved.deviceTls ? { deviceTls: resolved.deviceTls } : {}),
    ...(recorded
      ? { recordedPayload: { file: recorded.file, order: recorded.order, data: recorded.data } }
      : {}),
    broker: brokerOf(resolved.broker),
    bridgeBroker: resolved.bridgeBroker ? brokerOf(resolved.bridgeBroker) : undefined,
    consumerFilter: resolved.consumerFilter,
    ...(resolved.consumerFilters ? { consumerFilters: resolved.consumerFilters } : {}),
    policy,
    secrets: resolved.secrets,
    ...(telemetry.sharding
      ? {
          telemetry: {
            module: telemetry.sharding.module,
            options: telemetry.sharding.options,
            producers: shards.length,
          },
        }
      : {}),
  }
  const absorbTelemetry = guard(telemetry.sharding?.absorb.bind(telemetry.sharding))
  // The fault timeline runs here, fed the workers' connection changes and failed publishes; its
  // loss windows are answered by the consumer worker, which holds the sequences.
  const faults = runFaultTimeline(s, clock, logger, (text) => secrets.scrub(text))
  const onEvents = (e: WorkerEvents) => {
    for (const c of e.connections) faults.addConnectionEvent(c.status, c.tUs)
    for (const x of e.publishErrors) faults.addPublishErrors(x.cause, x.tUs, x.n)
  }
  const threads: WorkerThread[] = []
  const total = new Counters()
  let status: RunStatus = 'pending'
  let t0Us: number | null = null
  let startedAt: number | null = null
  let stopRequested = false
  let stopAtUs: number | undefined
  let lastSecond: LastSecond | null = null
  let gaps = 0
  let released = 0
  let failure: string | undefined
  let merger: SecondMerger | undefined

  const setStatus = (next: RunStatus, extra: { startedAt?: number; endedAt?: number } = {}) => {
    status = next
    try {
      store?.updateRun(id, { status: next, ...extra })
    } catch (err) {
      logger.error('store update failed', { error: describeError(err) })
    }
  }
  const emit = (reports: SecondReport[]) => {
    for (const r of reports) {
      r.targetRate = Math.round(curve.meanRate(r.second * 1e6, (r.second + 1) * 1e6) * 10) / 10
      faults.onSecond(r)
      total.add(r.counters)
      gaps = r.gaps
      released = r.second + 1
      lastSecond = lastSecondOf(r)
      try {
        store?.appendSecond(id, r)
      } catch (err) {
        logger.error('store write failed', { error: describeError(err) })
      }
      try {
        options.onSecond?.(r)
      } catch (err) {
        logger.warn('progress callback failed', { error: describeError(err) })
      }
      onSecondTelemetry?.(r)
    }
  }
  const onSecond = (index: number, r: SecondReport) => {
    if (merger) emit(merger.add(index, r))
  }
  const onFailure = (index: number, error: string) => {
    const label = threads[index]?.label ?? `worker ${index}`
    failure ??= `${label} failed: ${error}`
    logger.error('run worker failed', { worker: index, error })
    // Its completed seconds stay; the others are stopped and report what they have.
    if (merger) emit(merger.end(index))
    for (const t of threads) t.post({ type: 'stop' })
  }

  const progress = () => {
    let sentAll = 0
    let sent = 0
    let unique = 0
    let errors = 0
    let inFlight = 0
    for (const t of threads) {
      const x = t.progress
      if (t.init.role === 'producer') {
        sentAll += x.sentAll
        sent += x.sent
        errors += x.publishErrors
        inFlight += x.inFlight
      } else unique += x.unique
    }
    return { sentAll, sent, unique, errors, inFlight }
  }

  // In a fan-out every subscriber owes every message.
  const fanout = s.consumer.enabled && s.consumer.mode === 'fanout' ? s.consumer.connections : 1
  const drain = async (consumerOn: boolean) => {
    const untilUs = clock.nowUs() + (stopRequested ? STOP_DRAIN_MS : s.run.drain) * 1000
    while (clock.nowUs() < untilUs && !failure) {
      const x = progress()
      if (consumerOn ? x.unique + x.errors * fanout >= x.sentAll * fanout : x.inFlight === 0) break
      await sleep(25)
    }
    return Math.max(0, (untilUs - clock.nowUs()) / 1000)
  }

  /**
   * The fault timeline's loss windows, answered by the consumer worker (it holds the sequences);
   * undefined when there is none to ask, or it could not answer.
   */
  const consumerLoss = async (consumer: WorkerThread | undefined, issued: number) => {
    if (t0Us === null || !consumer) return undefined
    const windows = faultLossWindows(faults, { t0Us, producer: p })
    if (windows.length === 0) return undefined
    const results = await consumer.askLoss(t0Us, issued, windows)
    if (!results || results.length !== windows.length) return undefined
    const byWindow = new Map(windows.map(([from, to], i) => [`${from} ${to}`, results[i]!]))
    return (from: number, to: number) => byWindow.get(`${from} ${to}`) ?? { sent: 0, lost: null }
  }

  const execute = async (): Promise<RunSummary> => {
    secrets.openScope(id)
    for (const value of resolved.secrets) secrets.add(value, id)
    let error: string | undefined
    const consumerOn = s.consumer.enabled || s.bridge !== undefined
    let producerFinals: ProducerFinal[] = []
    let consumerFinal: ConsumerFinal | undefined
    let stoppedEarly = false
    try {
      store?.createRun({ id, name: s.name, scenario: resolved.redacted, createdAt: Date.now() })
      setStatus('connecting')
      await faults.setup()
      const handlers = {
        onSecond,
        onFailure,
        onEvents,
        ...(absorbTelemetry ? { onTelemetry: absorbTelemetry } : {}),
      }
      if (consumerOn) threads.push(new WorkerThread({ ...base, index: 0, role: 'consumer' }, handlers))
      for (const shard of shards)
        threads.push(
          new WorkerThread(
            {
              ...base,
              index: threads.length,
              role: 'producer',
              shard,
              ...(resolved.identities ? { identities: identitiesOfShard(resolved.identities, shard) } : {}),
            },
            handlers,
          ),
        )
      merger = new SecondMerger(threads.length)
      // The consumer subscribes before any device connects, as in a single-thread run.
      if (consumerOn) await threads[0]!.whenReady()
      await Promise.all(threads.map((t) => t.whenReady()))
      checkFleetConnectFailures(threads, p)
      // A stop asked for while the workers connect ends the run stopped (nothing measured), not failed.
      if (stopRequested) stoppedEarly = true
      else {
        const t0 = clock.nowUs() + START_LEAD_US
        t0Us = t0
        startedAt = Math.round(t0 / 1000)
        setStatus('running', { startedAt })
        for (const t of threads) t.post({ type: 'start', t0 })
        faults.schedule(t0)
        await Promise.all(threads.filter((t) => t.init.role === 'producer').map((t) => t.whenScheduled()))
        faults.cancel()
        await faults.settle()
        if (!failure) {
          setStatus('draining')
          const leftMs = await drain(consumerOn)
          for (const t of threads)
            if (t.init.role === 'producer') t.post({ type: 'finish', settleMs: leftMs })
        }
      }
    } catch (err) {
      error = secrets.scrub(runErrorText(err, describeError))
      logger.error('run failed', { error })
    } finally {
      // A fault still running when the run failed finishes (bounded by its timeout) before teardown.
      faults.cancel()
      await faults.settle()
    }
    // Producers first (their sends are the consumer's per-device accounting), then the consumer.
    for (const t of threads)
      if (t.init.role === 'producer' && (error || failure || stoppedEarly))
        t.post({ type: 'finish', settleMs: 0 })
    producerFinals = (
      await Promise.all(threads.filter((t) => t.init.role === 'producer').map((t) => t.whenFinal()))
    ).filter((f): f is ProducerFinal => f?.role === 'producer')
    const measureStartUs = producerFinals[0]?.measureStartUs ?? 0
    const measuredS = measuredSeconds(startedAt !== null, measureStartUs, p.duration, stopAtUs)
    const fromUs = p.warmup * 1000
    // Planned sends per second over the measured time (the whole schedule when nothing was measured).
    const plannedOver = (c: { meanRate(fromUs: number, toUs: number): number }) =>
      c.meanRate(fromUs, fromUs + (measuredS > 0 ? measuredS * 1e6 : p.duration * 1000))
    const groupTargets = Object.fromEntries(groupCurves.map((g) => [g.name, plannedOver(g.curve)]))
    const consumerThread = threads.find((t) => t.init.role === 'consumer')
    if (consumerThread) {
      consumerThread.post({
        type: 'finish',
        settleMs: 0,
        sends: producerFinals.flatMap((f) => f.sends),
        sentMeasured: producerFinals.reduce((n, f) => n + f.sentMeasured, 0),
        ...(s.grouped ? { groupTargets } : {}),
        askBacklog: startedAt !== null && !error && !failure,
      })
      const f = await consumerThread.whenFinal()
      if (f?.role === 'consumer') consumerFinal = f
    }
    if (merger) emit(merger.flush())
    // Every send of the fleet (warm-up included), in the schedule's order, as lossBetween counts them.
    const issued = producerFinals.reduce((n, f) => n + f.sends.reduce((k, d) => k + d.lastSentSeq + 1, 0), 0)
    // A consumer of a failed run, or only a bridge's, holds no figures worth the wait; nor does a
    // fan-out's or a grouped fleet's (their windows' loss is unknown, as in a single-thread run).
    const lossBetween =
      !error && !failure && s.consumer.enabled && fanout === 1 && !s.grouped
        ? await consumerLoss(consumerThread, issued)
        : undefined
    await Promise.all(threads.map((t) => t.terminate()))
    await faults.teardown()
    secrets.closeScope(id)
    error ??= failure
    const finalStatus: RunStatus = error ? 'failed' : stopRequested ? 'stopped' : 'completed'
    const totalRate = plannedOver(curve)
    const view = new MergedRecorderView(
      total,
      merger ?? new SecondMerger(0),
      producerFinals,
      consumerFinal,
      fanout,
    )
    const generator = mergeWorkerGenerators(
      producerFinals.map((g, k) => ({ label: `worker ${k + (consumerOn ? 1 : 0)}`, g: g.generator })),
    )
    if (generator)
      generator.achievedSendRate =
        Math.round(ratePerSecond(total.sent, measuredS, measureStartUs, view.lastMeasuredSendUs) * 10) / 10
    const { summary, rows, devices } = buildSummary({
      id,
      name: s.name,
      status: finalStatus,
      startedAt,
      ...runTarget(resolved, totalRate),
      recorder: view,
      // A worker that died took its figures with it: no verdict from the survivors alone.
      generator: startedAt !== null && measuredS > 0 && !failure ? generator : null,
      measuredS,
      undelivered: consumerFinal?.undelivered ?? 0,
      ...(consumerFinal?.queued !== undefined ? { queued: consumerFinal.queued } : {}),
      connections: mergeWorkerConnections(producerFinals.map((f) => f.connections)),
      bridge: (consumerFinal?.bridge as Parameters<typeof buildSummary>[0]['bridge']) ?? null,
      slo: resolved.slo,
      consumerEnabled: s.consumer.enabled,
      measureStartUs,
      ...(plan.note ? { runHints: [plan.note] } : {}),
      ...(error ? { error } : {}),
    })
    // Without the consumer's answer, a window's sends still follow from the schedule, but its
    // loss is unknown (null), never zero.
    if (t0Us !== null && !error) {
      const start = t0Us
      addFaultFigures(summary, faults, {
        t0Us,
        producer: p,
        lossBetween:
          lossBetween ?? ((from, to) => faultLoss(p, start, issued, new SequenceTracker(), from, to)),
        knowsLoss: lossBetween !== undefined && s.consumer.enabled,
      })
    }
    judgeRecovery(summary, resolved.slo, summary.faults)
    if (consumerFinal?.subscribers && summary.run.measured) summary.subscribers = consumerFinal.subscribers
    // Without a consumer worker (no consumer, no bridge), the groups' targets still stand, as on one thread.
    const groupSummaries =
      consumerFinal?.groups ??
      (s.grouped ? new GroupBreakdown(s.groups).summary([], (name) => groupTargets[name] ?? 0) : undefined)
    if (groupSummaries && summary.run.measured) summary.groups = groupSummaries
    summary.workers = {
      producers: shards.length,
      threads: threads.length,
      mergeMs: Math.round((merger?.mergeUs ?? 0) / 100) / 10,
    }
    status = finalStatus
    storeRunEnd(store, logger, id, {
      status: finalStatus,
      summary,
      rows,
      devices,
      faults: faults.records,
      ...(error ? { error } : {}),
    })
    onRunEndTelemetry?.(summary)
    return summary
  }

  const result = execute()
  return {
    id,
    result,
    stop() {
      if (stopRequested) return
      stopRequested = true
      stopAtUs = clock.nowUs()
      for (const t of threads) t.post({ type: 'stop' })
    },
    live() {
      const x = progress()
      return {
        id,
        status,
        second: released,
        sent: x.sent,
        received: total.received,
        gaps,
        invalid: total.invalid,
        stopping: stopRequested,
        ...scheduleTimes(t0Us, clock.nowUs(), p.warmup + p.duration),
        targetRate: curve.meanRate(p.warmup * 1000, (p.warmup + p.duration) * 1000),
        lastSecond,
        connect: null,
      }
    },
  }
}
