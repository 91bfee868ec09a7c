import { randomBytes } from 'node:crypto'
import { describeError, nowUs, runTag } from '@iotload/sdk'
import { createLogger, type Logger } from '../log/logger.ts'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import { secrets } from '../scenario/secrets.ts'
import type { ResultStore, RunStatus } from '../store/result-store.ts'
import { BridgeRole } from './bridge-role.ts'
import { ConsumerRole } from './consumer.ts'
import { ProducerRole } from './producer.ts'
import { RunRecorder, type SecondReport } from './recorder.ts'
import { buildSummary, type RunSummary, sendRate } from './summary.ts'
import { guard, type RunTelemetry } from './telemetry-hooks.ts'

/** Options for `startRun`. */
export interface RunOptions {
  /** @default a random id */
  id?: string
  store?: ResultStore
  logger?: Logger
  /** Called after each completed second, off the hot path. */
  onSecond?: (report: SecondReport) => void
  /** Metrics and tracing hooks (see @iotload/otel). */
  telemetry?: RunTelemetry
}

/** Live view of a run, for progress lines and the API. */
export interface LiveStatus {
  id: string
  status: RunStatus
  second: number
  sent: number
  received: number
  gaps: number
  invalid: number
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
const STOP_DRAIN_MS = 1000

export function newRunId(): string {
  return randomBytes(6).toString('hex')
}

/**
 * Executes a resolved scenario: consumer → bridge → producer connect, open-loop schedule,
 * drain, summary; shutdown in reverse (stop schedule, drain subscriptions, close connections).
 */
export function startRun(resolved: ResolvedScenario, options: RunOptions = {}): RunHandle {
  const id = options.id ?? newRunId()
  const logger = (options.logger ?? createLogger()).child({ run: id })
  const s = resolved.scenario
  const telemetry = options.telemetry ?? {}
  const recorder = new RunRecorder(id, runTag(id), guard(telemetry.onConnectionStatus?.bind(telemetry)))
  const consumer = s.consumer.enabled
    ? new ConsumerRole(resolved, id, recorder, logger, telemetry)
    : undefined
  const bridge = s.bridge ? new BridgeRole(resolved, id, recorder, logger, telemetry) : undefined
  const producer = new ProducerRole(resolved, id, recorder, logger, telemetry)
  const onSecondTelemetry = guard(telemetry.onSecond?.bind(telemetry))
  const onRunEndTelemetry = guard(telemetry.onRunEnd?.bind(telemetry))
  let status: RunStatus = 'pending'
  let second = 0
  let stopRequested = false
  let ticker: NodeJS.Timeout | undefined
  let startedAt: number | null = null
  const store = options.store

  const setStatus = (next: RunStatus, extra: { startedAt?: number; endedAt?: number } = {}) => {
    status = next
    try {
      store?.updateRun(id, { status: next, ...extra })
    } catch (err) {
      logger.error('store update failed', { error: describeError(err) })
    }
  }

  const rollSecond = (t0: number) => {
    const warmup = second * 1e6 < s.producer.warmup * 1000
    const report = recorder.rollSecond(second, warmup)
    second++
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
    ticker = setTimeout(() => rollSecond(t0), Math.max(0, (nextAt - nowUs()) / 1000))
  }

  const drain = async () => {
    const limitMs = stopRequested ? STOP_DRAIN_MS : s.run.drain
    const until = Date.now() + limitMs
    const settled = () => {
      const t = recorder.total
      const errors = t.publishErrors
      return recorder.uniqueSoFar + errors >= recorder.sentAllSoFar
    }
    while (Date.now() < until && !(consumer && settled()) && !(!consumer && producer.health.inFlight === 0)) {
      await new Promise((r) => setTimeout(r, 25))
    }
    await producer.settle(Math.max(0, until - Date.now()))
  }

  const execute = async (): Promise<RunSummary> => {
    let error: string | undefined
    secrets.openScope(id)
    // The scenario's secrets are scrubbed from logs while this run lasts, and forgotten with it.
    for (const value of resolved.secrets) secrets.add(value, id)
    try {
      store?.createRun({ id, name: s.name, scenario: resolved.redacted, createdAt: Date.now() })
      setStatus('connecting')
      await consumer?.start()
      await bridge?.start()
      await producer.connect()
      if (stopRequested) throw new Error('stopped before the schedule started')
      const t0 = nowUs() + START_LEAD_US
      startedAt = Math.round(t0 / 1000)
      setStatus('running', { startedAt })
      ticker = setTimeout(() => rollSecond(t0), (t0 + 1e6 - nowUs()) / 1000)
      await producer.run(t0)
      setStatus('draining')
      await drain()
    } catch (err) {
      error = secrets.scrub(describeError(err))
      const failed = (err as { failedConnections?: number; totalConnections?: number }).failedConnections
      if (failed)
        error += ` (${failed} of ${(err as { totalConnections: number }).totalConnections} device connections failed)`
      logger.error('run failed', { error })
    } finally {
      if (ticker) clearTimeout(ticker)
    }
    // Close the open second so nothing recorded is left out of the totals.
    if (startedAt !== null) {
      const report = recorder.rollSecond(second, second * 1e6 < s.producer.warmup * 1000)
      try {
        store?.appendSecond(id, report)
      } catch {}
      options.onSecond?.(report)
      onSecondTelemetry?.(report)
    }
    try {
      await producer.close()
      await bridge?.close()
      await consumer?.close()
    } finally {
      // Nothing of this run can log a per-device password any more.
      secrets.closeScope(id)
    }
    const finalStatus: RunStatus = error ? 'failed' : stopRequested ? 'stopped' : 'completed'
    const p = s.producer
    const totalRate = producer.targetRate
    const { summary, rows } = buildSummary({
      id,
      name: s.name,
      status: finalStatus,
      startedAt,
      plugin: resolved.broker.pluginName,
      target: {
        plugin: resolved.broker.pluginName,
        devices: p.devices,
        ratePerDevice: totalRate / p.devices,
        totalRate,
        durationS: p.duration / 1000,
        warmupS: p.warmup / 1000,
        qos: p.qos,
        envelope: p.envelope,
      },
      recorder,
      generator:
        startedAt !== null
          ? producer.health.report(totalRate, sendRate(recorder, p.duration / 1000, producer.measureStartUs))
          : null,
      connections: producer.connectStats ?? null,
      bridge: bridge?.stats ?? null,
      slo: resolved.slo,
      consumerEnabled: consumer !== undefined,
      measureStartUs: producer.measureStartUs,
      ...(error ? { error } : {}),
    })
    status = finalStatus
    try {
      store?.saveSummary(id, rows)
      store?.updateRun(id, { status: finalStatus, endedAt: Date.now(), summary, error: error ?? null })
    } catch (err) {
      logger.error('store write failed', { error: describeError(err) })
    }
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
      producer.stop()
    },
    live() {
      const t = recorder.total
      return {
        id,
        status,
        second,
        sent: recorder.sentSoFar,
        received: t.received,
        gaps: recorder.sequences.gaps,
        invalid: t.invalid,
      }
    },
  }
}
