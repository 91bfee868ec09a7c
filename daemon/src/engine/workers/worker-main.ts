/**
 * A run's worker thread: one role of the run (a shard of the producer fleet, or the consumer with
 * iotload's bridge), its own recorder and histograms, and each completed second posted to the main
 * thread, which merges every worker's encoded histograms into the run's one series.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { describeError } from '@iotload/sdk'
import { createLogger } from '../../log/logger.ts'
import { secrets } from '../../log/secret-registry.ts'
import { BridgeRole } from '../bridge-role.ts'
import { type ClockTimer, systemClock } from '../clock.ts'
import { ConsumerRole } from '../consumer.ts'
import { FanoutBreakdown, laneKey } from '../fanout-breakdown.ts'
import { GroupBreakdown } from '../group-breakdown.ts'
import type { GroupedProducer } from '../grouped-producer.ts'
import type { ProducerRole } from '../producer.ts'
import { type FleetConnectStats, runErrorText } from '../producer-fleet.ts'
import { lossBetween } from '../fault-loss.ts'
import type { SecondReport } from '../recorder.ts'
import { measuredSeconds } from '../run-window.ts'
import { sendRate } from '../summary.ts'
import type {
  ConsumerFinal,
  DeviceSends,
  FromWorker,
  ProducerFinal,
  ToWorker,
  WorkerInit,
} from './worker-protocol.ts'
import { type WorkerEvents, WorkerEventLog } from './worker-events.ts'
import { resolvedFor, shardProducer, workerRecorder, workerTelemetryOf } from './worker-roles.ts'

const init = workerData as WorkerInit
const port = parentPort!
const post = (m: FromWorker) => port.postMessage(m)
const logger = createLogger().child({ run: init.runId, worker: init.index })
const clock = systemClock
secrets.openScope(init.runId)
for (const s of init.secrets) secrets.add(s, init.runId)

const resolved = await resolvedFor(init)
const s = resolved.scenario
const events = new WorkerEventLog()
const recorder = workerRecorder(init.runId, events)
const telemetry = await workerTelemetryOf(init)
const producer: ProducerRole | GroupedProducer | undefined =
  init.role === 'producer' ? shardProducer(resolved, init, recorder, logger, telemetry ?? {}) : undefined
const consumer =
  init.role === 'consumer' && init.scenario.consumer.enabled
    ? new ConsumerRole(resolved, init.runId, recorder, logger, telemetry ?? {}, clock)
    : undefined
// Device groups: producers count each group's sends, the consumer its arrivals and latencies.
const groups = s.grouped ? new GroupBreakdown(init.scenario.groups) : undefined
recorder.groupTap = groups
// A fan-out's subscribers are lanes of this recorder, as in a single-thread run (run.ts).
const fanout =
  consumer && s.consumer.mode === 'fanout' ? new FanoutBreakdown(s.consumer.connections) : undefined
recorder.laneTap = fanout
recorder.fanout = fanout ? s.consumer.connections : 1
const bridge =
  init.role === 'consumer' && s.bridge
    ? new BridgeRole(resolved, init.runId, recorder, logger, telemetry ?? {})
    : undefined
let second = 0
let ticker: ClockTimer | undefined
let progress: ReturnType<typeof setInterval> | undefined
let started = false
let stopAtUs: number | undefined

const warmupOf = (n: number) => n * 1e6 < s.producer.warmup * 1000
const roll = (): SecondReport => {
  const report = recorder.rollSecond(second, warmupOf(second))
  if (producer) report.generator = producer.health.rollSecond()
  if (groups) report.groups = groups.rollSecond()
  if (fanout) report.subscribers = fanout.rollSecond()
  second++
  return report
}
const rollEach = (t0: number) => {
  post({ type: 'second', report: roll(), ...telemetryTaken(), ...eventsTaken() })
  ticker = clock.setTimeout(() => rollEach(t0), (t0 + (second + 1) * 1e6 - clock.nowUs()) / 1000)
}
/** What the worker's telemetry recorded since the last post (nothing without telemetry). */
const telemetryTaken = (): { telemetry?: unknown } => {
  if (!telemetry) return {}
  try {
    return { telemetry: telemetry.take() }
  } catch {
    return {}
  }
}
const eventsTaken = (): { events?: WorkerEvents } => {
  const e = events.take()
  return e ? { events: e } : {}
}
const postProgress = () => {
  const t = recorder.total
  post({
    type: 'progress',
    sentAll: recorder.sentAllSoFar,
    sent: recorder.sentSoFar,
    unique: recorder.uniqueSoFar,
    publishErrors: t.publishErrors,
    inFlight: producer?.health.inFlight ?? 0,
  })
}

async function start(t0: number): Promise<void> {
  started = true
  ticker = clock.setTimeout(() => rollEach(t0), (t0 + 1e6 - clock.nowUs()) / 1000)
  progress = setInterval(postProgress, 100)
  if (!producer) return
  await producer.run(t0)
  postProgress()
  post({ type: 'scheduled' })
}

function sendsOf(p: ProducerRole | GroupedProducer): DeviceSends[] {
  return p.deviceSends()
}

async function finish(m: Extract<ToWorker, { type: 'finish' }>): Promise<void> {
  if (producer) await producer.settle(m.settleMs)
  const queued = consumer && m.askBacklog ? await consumer.backlog() : undefined
  clock.clearTimer(ticker)
  clearInterval(progress)
  await producer?.close()
  await bridge?.close()
  await consumer?.close()
  await telemetry?.close?.().catch(() => undefined)
  const report = started ? roll() : undefined
  let final: ProducerFinal | ConsumerFinal
  if (producer) {
    const measuredS = measuredSeconds(started, producer.measureStartUs, s.producer.duration, stopAtUs)
    const target = producer.shardPlannedRate(measuredS)
    final = {
      role: 'producer',
      sends: sendsOf(producer),
      lastMeasuredSendUs: recorder.lastMeasuredSendUs,
      measureStartUs: producer.measureStartUs,
      generator:
        started && measuredS > 0
          ? producer.health.report(target, sendRate(recorder, measuredS, producer.measureStartUs))
          : null,
      connections: scrubbed(producer.connectStats),
      sentMeasured: recorder.total.sent,
    }
  } else {
    for (const d of m.sends ?? [])
      recorder.devices.absorbSends(d.dev, d.sent, d.firstMeasuredSeq, d.lastSentSeq)
    const sequenced = !recorder.externalMode || s.consumer.external?.seqPath !== undefined
    // Measured sends after a subscriber's last delivery from their device (lane 0: the consumer).
    const undeliveredTo = (lane: number) => {
      let n = 0
      if (sequenced)
        for (const d of m.sends ?? []) {
          if (d.firstMeasuredSeq < 0) continue
          const key = lane === 0 ? d.dev : laneKey(d.dev, lane)
          const from = Math.max(d.firstMeasuredSeq, recorder.sequences.highest(key) + 1)
          if (d.lastSentSeq >= from) n += d.lastSentSeq - from + 1
        }
      return n
    }
    let undelivered = 0
    for (let lane = 0; lane < recorder.fanout; lane++) undelivered += undeliveredTo(lane)
    const devices = recorder.deviceFigures()
    final = {
      role: 'consumer',
      devices,
      undelivered,
      firstMeasuredRecvUs: recorder.firstMeasuredRecvUs,
      lastMeasuredRecvUs: recorder.lastMeasuredRecvUs,
      legs: recorder.legs(),
      hints: recorder.hints(),
      externalMode: recorder.externalMode,
      externalVia: recorder.externalVia,
      timestampResolutionUs: recorder.timestampResolutionUs,
      externalAmbiguous: recorder.externalAmbiguous,
      correlationExpired: recorder.correlationExpired,
      queued,
      bridge: bridge?.stats ?? null,
      ...(fanout ? { subscribers: fanout.summary(m.sentMeasured ?? 0, undeliveredTo) } : {}),
      // As one thread: a bridge without a consumer measures no device's arrivals.
      ...(groups
        ? { groups: groups.summary(s.consumer.enabled ? devices : [], (name) => m.groupTargets?.[name] ?? 0) }
        : {}),
    }
  }
  post({ type: 'final', report, final, ...telemetryTaken(), ...eventsTaken() })
  secrets.closeScope(init.runId)
  // The consumer stays for the fault timeline's loss windows; the main thread ends every worker.
  if (producer) port.close()
}

/** Loss in each of the fault timeline's windows, from this consumer's sequences. */
function answerLoss(m: Extract<ToWorker, { type: 'loss' }>): void {
  const p = s.producer
  const results = m.windows.map(([from, to]) =>
    lossBetween(p, m.t0Us, m.issued, recorder.sequences, from, to),
  )
  post({ type: 'loss', results })
}

const fail = (err: unknown) =>
  post({ type: 'failed', error: secrets.scrub(runErrorText(err, describeError)) })

/**
 * Connection figures as they leave the worker: a failed device's error may quote its rendered
 * credentials, which only this thread's secret registry knows (per-device templates).
 */
function scrubbed(stats: FleetConnectStats | undefined): FleetConnectStats | null {
  if (!stats) return null
  if (!stats.failedDevices) return stats
  return {
    ...stats,
    failedDevices: stats.failedDevices.map((f) => ({ ...f, error: secrets.scrub(f.error) })),
  }
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'start') start(m.t0).catch(fail)
  else if (m.type === 'stop') {
    stopAtUs ??= clock.nowUs()
    producer?.stop()
  } else if (m.type === 'finish') finish(m).catch(fail)
  else if (m.type === 'loss') {
    try {
      answerLoss(m)
    } catch (err) {
      fail(err)
    }
  }
})

try {
  await consumer?.start()
  await bridge?.start()
  await producer?.connect()
  post({ type: 'ready', connections: scrubbed(producer?.connectStats) })
} catch (err) {
  fail(err)
}
