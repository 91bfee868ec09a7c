import { describeError, runTag } from '@iotload/sdk'
import { createLogger, type Logger } from '../log/logger.ts'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import { secrets } from '../log/secret-registry.ts'
import type { ResultWriter, RunStatus } from '../store/result-store.ts'
import { BridgeRole } from './bridge-role.ts'
import { type ClockTimer, type EngineClock, sleepOn, systemClock } from './clock.ts'
import { ConsumerRole } from './consumer.ts'
import { addFaultFigures, judgeRecovery, recorderLoss } from './fault-summary.ts'
import { runErrorText } from './producer-fleet.ts'
import { runFaultTimeline } from './fault-timeline.ts'
import { createFleetProducer, GroupedProducer } from './grouped-producer.ts'
import { GroupBreakdown } from './group-breakdown.ts'
import { FanoutBreakdown, laneKey } from './fanout-breakdown.ts'
import { RunRecorder, type SecondReport } from './recorder.ts'
import { storeRunEnd } from './run-end-store.ts'
import { runTarget } from './run-target.ts'
import { buildSummary, type RunSummary, sendRate } from './summary.ts'
import { guard, type RunTelemetry } from './telemetry-hooks.ts'
import { type LastSecond, type LiveStatus, lastSecondOf, scheduleTimes } from './live-status.ts'
import { measuredSeconds, newRunId } from './run-window.ts'
import { startShardedRun } from './workers/sharded-run.ts'
import { workerPlan } from './workers/worker-count.ts'

export type { LiveStatus }

/** Options for `startRun`. */
export interface RunOptions {
  /** @default a random id */
  id?: string
  store?: ResultWriter
  logger?: Logger
  /** Called after each completed second, off the hot path. */
  onSecond?: (report: SecondReport) => void
  /** Metrics and tracing hooks (see @iotload/otel). */
  telemetry?: RunTelemetry
  /**
   * Time for the schedule, the stamps and the run's timers. Tests pass a `ManualClock` to run
   * without waiting; iotload's in-process bridge stamps its hops with the real clock, so a run
   * with a bridge needs the system clock for its legs to mean anything.
   * @default systemClock
   */
  clock?: EngineClock
}

/** A started run. `result` always resolves; a failed run has `run.status: 'failed'` and `error`. */
export interface RunHandle {
  id: string
  result: Promise<RunSummary>
  /** Stops sending, drains briefly and finishes with status `stopped`. Results are kept. */
  stop(): void
  live(): LiveStatus
}

/** Lead time between connecting and the first scheduled send, so second 0 starts on time. */
const START_LEAD_US = 200_000
/** Thrown inside a run when a stop arrives before its schedule started. */
const STOPPED_BEFORE_START = new Error('stopped before the schedule started')
const STOP_DRAIN_MS = 1000

export { measuredSeconds, newRunId } from './run-window.ts'

/**
 * Executes a resolved scenario: consumer → bridge → producer connect, open-loop schedule,
 * drain, summary; shutdown in reverse (stop schedule, drain subscriptions, close connections).
 */
export function startRun(resolved: ResolvedScenario, options: RunOptions = {}): RunHandle {
  // `run.workers` > 1: the fleet sharded across worker threads (engine/workers), on the real clock.
  const plan = options.clock ? { producers: 1 } : workerPlan(resolved, options.telemetry)
  if (plan.producers > 1) return startShardedRun(resolved, options, plan)
  if (resolved.scenario.run.workers !== 1 && !options.clock && !plan.note)
    (options.logger ?? createLogger()).warn(
      'run.workers: running on one thread (per-message hooks that cannot be sharded, or one device)',
    )
  const id = options.id ?? newRunId()
  const logger = (options.logger ?? createLogger()).child({ run: id })
  if (plan.note) logger.info(plan.note)
  const s = resolved.scenario
  const telemetry = options.telemetry ?? {}
  const clock = options.clock ?? systemClock
  // The fault timeline: setup/teardown and fault commands, and what recovery is measured from.
  const faults = runFaultTimeline(s, clock, logger, (text) => secrets.scrub(text))
  const onStatusTelemetry = guard(telemetry.onConnectionStatus?.bind(telemetry))
  const recorder = new RunRecorder(
    id,
    runTag(id),
    (status) => {
      faults.onConnectionStatus(status)
      onStatusTelemetry?.(status)
    },
    () => clock.nowUs(),
  )
  recorder.onPublishFailure = (err, sentUs) => faults.onPublishError(err, sentUs)
  const consumer = s.consumer.enabled
    ? new ConsumerRole(resolved, id, recorder, logger, telemetry, clock)
    : undefined
  const bridge = s.bridge ? new BridgeRole(resolved, id, recorder, logger, telemetry) : undefined
  const producer = createFleetProducer(resolved, id, recorder, logger, telemetry, { clock })
  const groups = s.grouped ? new GroupBreakdown(s.groups) : undefined
  recorder.groupTap = groups
  const fanout =
    consumer && s.consumer.mode === 'fanout' ? new FanoutBreakdown(s.consumer.connections) : undefined
  recorder.laneTap = fanout
  recorder.fanout = fanout ? s.consumer.connections : 1
  const onSecondTelemetry = guard(telemetry.onSecond?.bind(telemetry))
  const onRunEndTelemetry = guard(telemetry.onRunEnd?.bind(telemetry))
  let status: RunStatus = 'pending'
  let second = 0
  let stopRequested = false
  /** When stop() was called, µs since the epoch: the end of what was measured. */
  let stopAtUs: number | undefined
  let ticker: ClockTimer | undefined
  let startedAt: number | null = null
  let t0Us: number | null = null
  let lastSecond: LastSecond | null = null
  const store = options.store

  const setStatus = (next: RunStatus, extra: { startedAt?: number; endedAt?: number } = {}) => {
    status = next
    try {
      store?.updateRun(id, { status: next, ...extra })
    } catch (err) {
      logger.error('store update failed', { error: describeError(err) })
    }
  }

  // Each second carries what the schedule planned in it, so a ramp's target sits beside what was achieved.
  const withTarget = (r: SecondReport): SecondReport => ({
    ...r,
    targetRate: Math.round(producer.plannedInSecond(r.second) * 10) / 10,
  })

  const rollSecond = (t0: number) => {
    const warmup = second * 1e6 < s.producer.warmup * 1000
    const report = withTarget(recorder.rollSecond(second, warmup))
    report.generator = producer.health.rollSecond()
    faults.onSecond(report)
    if (groups) report.groups = groups.rollSecond()
    if (fanout) report.subscribers = fanout.rollSecond()
    second++
    lastSecond = lastSecondOf(report)
    try {
      store?.appendSecond(id, report)
    } catch (err) {
      logger.error('store write failed', { error: describeError(err) })
    }
    try {
      options.onSecond?.(report)
    } catch (err) {
      logger.warn('progress callback failed', { error: describeError(err) })
    }
    onSecondTelemetry?.(report)
    const nextAt = t0 + (second + 1) * 1e6
    ticker = clock.setTimeout(() => rollSecond(t0), (nextAt - clock.nowUs()) / 1000)
  }

  const drain = async () => {
    const limitMs = stopRequested ? STOP_DRAIN_MS : s.run.drain
    const untilUs = clock.nowUs() + limitMs * 1000
    const settled = () => {
      const t = recorder.total
      const errors = t.publishErrors
      // In a fan-out every subscriber owes every message.
      return recorder.uniqueSoFar + errors * recorder.fanout >= recorder.sentAllSoFar * recorder.fanout
    }
    while (
      clock.nowUs() < untilUs &&
      !(consumer && settled()) &&
      !(!consumer && producer.health.inFlight === 0)
    ) {
      await sleepOn(clock, 25)
    }
    await producer.settle(Math.max(0, (untilUs - clock.nowUs()) / 1000))
  }

  const execute = async (): Promise<RunSummary> => {
    let error: string | undefined
    secrets.openScope(id)
    // The scenario's secrets are scrubbed from logs while this run lasts, and forgotten with it.
    for (const value of resolved.secrets) secrets.add(value, id)
    try {
      store?.createRun({ id, name: s.name, scenario: resolved.redacted, createdAt: Date.now() })
      setStatus('connecting')
      await faults.setup()
      await consumer?.start()
      await bridge?.start()
      await producer.connect()
      if (stopRequested) throw STOPPED_BEFORE_START
      const t0 = clock.nowUs() + START_LEAD_US
      t0Us = t0
      startedAt = Math.round(t0 / 1000)
      setStatus('running', { startedAt })
      ticker = clock.setTimeout(() => rollSecond(t0), (t0 + 1e6 - clock.nowUs()) / 1000)
      faults.schedule(t0)
      await producer.run(t0)
      setStatus('draining')
      faults.cancel()
      await faults.settle()
      await drain()
    } catch (err) {
      // A stop asked for while connecting ends the run stopped (nothing measured), not failed.
      if (err === STOPPED_BEFORE_START) logger.info('run stopped before its schedule started')
      else {
        error = secrets.scrub(runErrorText(err, describeError))
        logger.error('run failed', { error })
      }
    } finally {
      clock.clearTimer(ticker)
      // A fault still running when the run failed finishes (bounded by its timeout) before teardown.
      faults.cancel()
      await faults.settle()
    }
    // What the broker still holds for the consumer, asked before anything unsubscribes.
    const queued = startedAt !== null && !error ? await consumer?.backlog() : undefined
    try {
      await producer.close()
      await bridge?.close()
      await consumer?.close()
    } finally {
      // Close the open second once the consumer stopped, so nothing it recorded (arrivals while
      // the roles closed included) is left out of the totals the sequence accounting is checked against.
      if (startedAt !== null) {
        const report = withTarget(recorder.rollSecond(second, second * 1e6 < s.producer.warmup * 1000))
        report.generator = producer.health.rollSecond()
        faults.onSecond(report)
        if (groups) report.groups = groups.rollSecond()
        if (fanout) report.subscribers = fanout.rollSecond()
        try {
          store?.appendSecond(id, report)
        } catch {}
        try {
          options.onSecond?.(report)
        } catch {}
        onSecondTelemetry?.(report)
      }
      await faults.teardown()
      // Nothing of this run can log a per-device password any more.
      secrets.closeScope(id)
    }
    const finalStatus: RunStatus = error ? 'failed' : stopRequested ? 'stopped' : 'completed'
    const p = s.producer
    const measuredS = measuredSeconds(startedAt !== null, producer.measureStartUs, p.duration, stopAtUs)
    // The target is what the schedule planned over the time measured: the rate itself when it is
    // constant, the mean of the curve under stages (and only up to the stop of a stopped run).
    const totalRate = producer.plannedRate(measuredS)
    // Without sequence numbers nothing tells a gap from a tail: everything missing stays `lost`.
    const sequenced = !recorder.externalMode || s.consumer.external?.seqPath !== undefined
    const undeliveredTo = (lane: number) =>
      sequenced
        ? producer.undeliveredTail((d) => recorder.sequences.highest(lane === 0 ? d : laneKey(d, lane)))
        : 0
    let undelivered = 0
    for (let lane = 0; lane < recorder.fanout; lane++) undelivered += undeliveredTo(lane)
    const { summary, rows, devices } = buildSummary({
      id,
      name: s.name,
      status: finalStatus,
      startedAt,
      ...runTarget(resolved, totalRate),
      recorder,
      generator:
        startedAt !== null && measuredS > 0
          ? producer.health.report(totalRate, sendRate(recorder, measuredS, producer.measureStartUs))
          : null,
      measuredS,
      undelivered,
      ...(queued !== undefined ? { queued } : {}),
      connections: producer.connectStats ?? null,
      bridge: bridge?.stats ?? null,
      slo: resolved.slo,
      consumerEnabled: consumer !== undefined,
      measureStartUs: producer.measureStartUs,
      ...(plan.note ? { runHints: [plan.note] } : {}),
      ...(error ? { error } : {}),
    })
    // Failed runs print no figures; a run without seqs (or a consumer) knows no loss per window,
    // nor does one with groups or fan-out yet (the window's sends are mapped as one even fleet).
    const knowsLoss = sequenced && !!consumer && !groups && !fanout
    if (t0Us !== null && !error)
      addFaultFigures(summary, faults, {
        t0Us,
        producer: p,
        lossBetween: recorderLoss(p, t0Us, recorder),
        knowsLoss,
      })
    judgeRecovery(summary, resolved.slo, summary.faults)
    if (groups && summary.run.measured) {
      const roles = producer instanceof GroupedProducer ? producer.roles : []
      const planned = (name: string) =>
        roles[s.groups.findIndex((g) => g.name === name)]?.plannedRate(measuredS) ?? 0
      summary.groups = groups.summary(devices, planned)
    }
    if (fanout && summary.run.measured)
      summary.subscribers = fanout.summary(recorder.total.sent, undeliveredTo)
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
      producer.stop()
    },
    live() {
      const t = recorder.total
      const progress = producer.connectProgress
      return {
        id,
        status,
        second,
        sent: recorder.sentSoFar,
        received: t.received,
        gaps: recorder.sequences.gaps,
        invalid: t.invalid,
        stopping: stopRequested,
        ...scheduleTimes(t0Us, clock.nowUs(), s.producer.warmup + s.producer.duration),
        targetRate: producer.targetRate,
        lastSecond,
        connect: progress.started ? progress.snapshot() : null,
      }
    },
  }
}
