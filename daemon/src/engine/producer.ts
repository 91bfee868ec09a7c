import {
  TRACEPARENT_HEADER,
  encodeBinaryEnvelope,
  encodeJsonEnvelopeAfter,
  jsonEnvelopePrefix,
  type OutboundMessage,
  type PublishCallback,
  runTag,
} from '@iotload/sdk'
import type { Logger } from '../log/logger.ts'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import { compilePayloadTemplate, createRandom } from '../scenario/payload-template.ts'
import { rowFor } from '../scenario/recorded-payload.ts'
import { compileTextTemplate } from '../scenario/text-template.ts'
import { ABSENT_CONNECTION } from './absent-connection.ts'
import { subscribeReplies } from './command-replies.ts'
import { type ClockTimer, type EngineClock, sleepOn, systemClock } from './clock.ts'
import { ConnectProgress } from './connect-progress.ts'
import { type EventLoopDelaySource, GeneratorHealth } from './generator-health.ts'
import type { DeviceShard } from './device-shard.ts'
import { producerCurve, type RateCurve } from './rate-curve.ts'
import { type FleetConnectStats, ProducerFleet } from './producer-fleet.ts'
import type { RunRecorder } from './recorder.ts'
import { OpenLoopScheduler } from './scheduler.ts'
import { guard, type RunTelemetry } from './telemetry-hooks.ts'

export type { FleetConnectStats }

/** Options for `ProducerRole` besides the scenario; tests inject time here. */
export interface ProducerRoleOptions {
  /** @default systemClock */
  clock?: EngineClock
  /** @default Node's event-loop delay monitor */
  eventLoopDelay?: EventLoopDelaySource
  /** One generator verdict for several device groups sharing this process. @default a new one */
  health?: GeneratorHealth
  /** Run only this slice of the fleet (a worker thread's devices) on the fleet's schedule. */
  shard?: DeviceShard
  /** The whole fleet's rate curve, for a shard (its own scenario holds only its devices). */
  curve?: RateCurve
  /**
   * A shard's first connection among the whole fleet's, where a reconnect storm's choice starts:
   * with a shared pool, where its share of the pool starts. @default the shard's first device
   */
  firstConnection?: number
}

/**
 * The emulated device fleet: one connection per device (or a shared pool), an open-loop
 * schedule, and the envelope stamped at the last moment before `publish`.
 */
export class ProducerRole {
  readonly health: GeneratorHealth
  private readonly fleet: ProducerFleet
  private scheduler: OpenLoopScheduler | undefined
  private readonly topics: string[]
  private readonly keys: string[]
  /** Per device index: where the consumer answers (`producer.replyTopic`). */
  private readonly replyTopics: string[] | undefined
  /** Per device: its JSON envelope up to the seq, made once (a send writes only what changes). */
  private readonly jsonPrefixes: string[]
  /** The payload template's variables, one object reused by every send (rendering is synchronous). */
  private readonly vars = { device: 0, seq: 0, run: '', nowUs: 0 }
  private readonly render: (v: { device: number; seq: number; run: string }) => string
  private readonly binaryBody: Uint8Array | undefined
  private readonly qos: 0 | 1 | 2
  private readonly tag: number
  private readonly recordAcks: boolean
  private readonly onSend: RunTelemetry['onSend']
  private readonly onSettled: RunTelemetry['onPublishSettled']
  private warmupEndUs = 0
  private finalPhaseUs = 0
  /** Per device index: the last seq sent, and the first seq sent after warm-up (-1: none yet). */
  private readonly lastSeq: Int32Array
  private readonly firstMeasuredSeq: Int32Array
  private warmupTimer: ClockTimer | undefined
  private readonly clock: EngineClock
  /** The fleet's rate over the whole schedule (warm-up included), from its start. */
  readonly curve: RateCurve
  /** The fleet's connect phase as it goes (opened, failed by cause, rate). */
  readonly connectProgress = new ConnectProgress()
  private readonly shard: DeviceShard | undefined

  constructor(
    private readonly resolved: ResolvedScenario,
    private readonly runId: string,
    private readonly recorder: RunRecorder,
    logger: Logger,
    telemetry: RunTelemetry = {},
    options: ProducerRoleOptions = {},
  ) {
    this.clock = options.clock ?? systemClock
    this.fleet = new ProducerFleet(
      resolved,
      runId,
      (s) => recorder.onConnectionStatus(s),
      logger,
      this.clock,
      this.connectProgress,
      options.shard ? { firstConnection: options.firstConnection ?? options.shard.from } : undefined,
    )
    this.onSend = guard(telemetry.onSend?.bind(telemetry))
    this.onSettled = guard(telemetry.onPublishSettled?.bind(telemetry))
    const p = resolved.scenario.producer
    const g = resolved.scenario.run.generator
    this.health =
      options.health ??
      new GeneratorHealth(
        {
          maxLagUs: g.maxLag * 1000,
          maxEventLoopDelayUs: g.maxEventLoopDelay * 1000,
          maxInFlight: g.maxInFlight,
        },
        options.eventLoopDelay ? { eventLoopDelay: options.eventLoopDelay } : {},
      )
    const topic = compileTextTemplate(p.topic, 'producer.topic')
    this.topics = Array.from({ length: p.devices }, (_, k) =>
      topic({ device: p.firstDevice + k, run: runId }),
    )
    this.keys = Array.from({ length: p.devices }, (_, k) => String(p.firstDevice + k))
    if (p.replyTopic !== undefined) {
      const reply = compileTextTemplate(p.replyTopic, 'producer.replyTopic')
      this.replyTopics = Array.from({ length: p.devices }, (_, k) =>
        reply({ device: p.firstDevice + k, run: runId }),
      )
    }
    this.jsonPrefixes = this.keys.map((_, k) => jsonEnvelopePrefix(runId, p.firstDevice + k))
    this.vars.run = runId
    this.lastSeq = new Int32Array(p.devices).fill(-1)
    this.firstMeasuredSeq = new Int32Array(p.devices).fill(-1)
    const seed = resolved.scenario.run.seed
    const recorded = resolved.recordedPayload
    // Recorded messages: each device replays the rows in order (or a seeded pick of them).
    this.render = recorded
      ? (v) => recorded.render(rowFor(recorded.order, recorded.rows, seed, v.device, v.seq), v)
      : compilePayloadTemplate(p.payload, 'producer.payload', seed)
    if (p.envelope === 'binary' && p.payloadSize !== undefined) {
      const rnd = createRandom(resolved.scenario.run.seed)
      this.binaryBody = Uint8Array.from({ length: p.payloadSize }, () => Math.floor(rnd() * 256))
    }
    this.qos = p.qos
    this.tag = runTag(runId)
    this.recordAcks = resolved.broker.plugin.capabilities.publishAck && p.qos > 0
    this.curve = options.curve ?? producerCurve(p)
    this.shard = options.shard
  }

  /** Fleet-wide target rate, sends per second: the constant rate, or the stages' mean over the measured part. */
  get targetRate(): number {
    const p = this.resolved.scenario.producer
    return this.curve.meanRate(p.warmup * 1000, (p.warmup + p.duration) * 1000)
  }

  /**
   * Sends planned per second over the first `measuredS` seconds after warm-up: what the achieved
   * rate is judged against (the target itself at a constant rate).
   */
  plannedRate(measuredS: number): number {
    if (measuredS <= 0) return this.targetRate
    const fromUs = this.resolved.scenario.producer.warmup * 1000
    return this.curve.meanRate(fromUs, fromUs + measuredS * 1e6)
  }

  /** This role's share of `plannedRate`: its shard's devices of the fleet's (all of it without a shard). */
  shardPlannedRate(measuredS: number): number {
    const share = this.shard ? this.shard.count / this.shard.fleet : 1
    return this.plannedRate(measuredS) * share
  }

  /** Sends planned in second `second` of the schedule (0-based): that second's target rate. */
  plannedInSecond(second: number): number {
    return this.curve.meanRate(second * 1e6, (second + 1) * 1e6)
  }

  /** Connects every device (and subscribes each to its reply topic); throws the first connection error. */
  async connect(signal?: AbortSignal): Promise<void> {
    await this.fleet.connect(signal)
    if (this.replyTopics)
      await subscribeReplies(this.fleet.connections, this.replyTopics, {
        runId: this.runId,
        recorder: this.recorder,
        clock: this.clock,
        qos: this.qos,
      })
  }

  /** Connect statistics (and the reconnect storm's, once it ran); undefined before `connect`. */
  get connectStats(): FleetConnectStats | undefined {
    return this.fleet.stats
  }

  /** When measuring starts (end of warm-up), µs since the epoch; 0 before `run`. */
  get measureStartUs(): number {
    return this.warmupEndUs
  }

  /** Runs the schedule from `startUs`; resolves once the last send was issued (or on stop). */
  run(startUs: number): Promise<void> {
    const p = this.resolved.scenario.producer
    this.warmupEndUs = startUs + p.warmup * 1000
    const endUs = this.warmupEndUs + p.duration * 1000
    this.finalPhaseUs = endUs - p.duration * 100
    const resolutionUs = this.resolved.scenario.run.scheduleResolution * 1000
    this.scheduler = new OpenLoopScheduler(
      this.shard
        ? { startUs, curve: this.curve, devices: this.shard.fleet, endUs, shard: this.shard, resolutionUs }
        : { startUs, curve: this.curve, devices: p.devices, endUs, resolutionUs },
      this.fire,
      this.clock,
    )
    this.fleet.scheduleStorm(startUs)
    this.health.start()
    if (p.warmup > 0)
      this.warmupTimer = this.clock.setTimeout(
        () => this.health.resetEventLoopDelay(),
        (this.warmupEndUs - this.clock.nowUs()) / 1000,
      )
    this.scheduler.start()
    return this.scheduler.done
  }

  stop(): void {
    this.scheduler?.stop()
    this.fleet.cancelStorm()
  }

  /** Waits until every publish settled, or `timeoutMs` passed. */
  async settle(timeoutMs: number): Promise<void> {
    const untilUs = this.clock.nowUs() + timeoutMs * 1000
    while (this.health.inFlight > 0 && this.clock.nowUs() < untilUs) await sleepOn(this.clock, 20)
  }

  async close(): Promise<void> {
    this.stop()
    this.clock.clearTimer(this.warmupTimer)
    this.health.stop()
    await this.fleet.close()
  }

  /**
   * Completion of a fire-and-forget send (no ack latency to record, no telemetry waiting for it):
   * one function for every send, so such a send allocates no closure and no promise.
   */
  private readonly settledQuietly: PublishCallback = (err) => {
    this.health.publishSettled()
    // Shared by every quiet send, so it knows no send time: a fire-and-forget failure is reported
    // at once, and the fault timeline files it under now.
    if (err) this.recorder.onPublishError(err, this.clock.nowUs())
  }

  private readonly fire = (dev: number, seq: number, tiUs: number): void => {
    const device = this.keys[dev]!
    const devNum = this.resolved.scenario.producer.firstDevice + dev
    const warmup = tiUs < this.warmupEndUs
    const conns = this.fleet.connections
    const conn = conns.length === this.topics.length ? conns[dev]! : conns[dev % conns.length]!
    // A device that could not connect (within producer.maxConnectFailures) sends nothing.
    if (conn === ABSENT_CONNECTION) return
    const topic = this.topics[dev]!
    let payload: Uint8Array
    let t: number
    let headers: Record<string, string> | undefined
    // The time payload placeholders render; kept for placing external copies of it (see onSent).
    const renderUs = this.clock.nowUs()
    const vars = this.vars
    vars.device = devNum
    vars.seq = seq
    vars.nowUs = renderUs
    if (this.binaryBody === undefined && this.resolved.scenario.producer.envelope === 'json') {
      const body = this.render(vars)
      t = this.clock.nowUs()
      headers = this.onSend?.({ dev: devNum, seq, tUs: t, tiUs, topic })
      // A traced message carries its traceparent in the envelope too, for header-less paths.
      const tp = headers?.[TRACEPARENT_HEADER]
      const meta = { seq, t, ti: tiUs, warmup }
      payload = Buffer.from(
        encodeJsonEnvelopeAfter(this.jsonPrefixes[dev]!, body, tp ? { ...meta, tp } : meta),
      )
    } else {
      const body = this.binaryBody ?? Buffer.from(this.render(vars))
      t = this.clock.nowUs()
      headers = this.onSend?.({ dev: devNum, seq, tUs: t, tiUs, topic })
      const tp = headers?.[TRACEPARENT_HEADER]
      const meta = { runTag: this.tag, dev: devNum, seq, t, ti: tiUs, warmup }
      payload = encodeBinaryEnvelope(tp ? { ...meta, tp } : meta, body)
    }
    // Warm-up exists to let connections, JIT and caches settle: its lag is not the generator's verdict.
    if (!warmup) {
      this.health.recordLag(t - tiUs, tiUs >= this.finalPhaseUs)
      if (this.firstMeasuredSeq[dev]! < 0) this.firstMeasuredSeq[dev] = seq
    } else this.health.recordWarmupLag(t - tiUs)
    this.lastSeq[dev] = seq
    this.recorder.onSent(warmup, t, devNum, seq, tiUs, renderUs)
    this.health.publishStarted()
    const msg: OutboundMessage = { payload, qos: this.qos, key: device }
    if (headers) msg.headers = headers
    if (this.replyTopics) msg.responseTopic = this.replyTopics[dev]!
    const quiet = !this.recordAcks && this.onSettled === undefined
    if (conn.publishWith) {
      try {
        conn.publishWith(
          topic,
          msg,
          quiet ? this.settledQuietly : (err) => this.settled(err, warmup, devNum, seq, t),
        )
      } catch (err) {
        // A plugin that throws instead of reporting: the same publish error, counted and survived.
        this.settled(err as Error, warmup, devNum, seq, t)
      }
      return
    }
    let published: Promise<void>
    try {
      published = conn.publish(topic, msg)
    } catch (err) {
      published = Promise.reject(err)
    }
    published.then(
      () => this.settled(undefined, warmup, devNum, seq, t),
      (err: Error) => this.settled(err ?? new Error('publish failed'), warmup, devNum, seq, t),
    )
  }

  /** A publish settled: in-flight count, ack latency or error, telemetry. */
  private settled(err: Error | undefined, warmup: boolean, dev: number, seq: number, t: number): void {
    this.health.publishSettled()
    const ackUs = this.clock.nowUs()
    if (err) this.recorder.onPublishError(err, t)
    else if (this.recordAcks) this.recorder.onPublishAck(ackUs - t, warmup)
    this.onSettled?.({ dev, seq, tUs: t, ackUs, ok: !err })
  }

  /**
   * Measured sends above their device's highest arrival: not delivered by now, though maybe still
   * queued. The rest of what is missing sits in gaps behind later arrivals: lost.
   * @param highest the highest seq received from a device number, -1 for none
   */
  undeliveredTail(highest: (device: number) => number): number {
    const first = this.resolved.scenario.producer.firstDevice
    let n = 0
    for (let k = 0; k < this.lastSeq.length; k++) {
      const start = this.firstMeasuredSeq[k]!
      const last = this.lastSeq[k]!
      if (start < 0) continue
      const from = Math.max(start, highest(first + k) + 1)
      if (last >= from) n += last - from + 1
    }
    return n
  }

  /** Every device's sends (device number, measured count, first measured and last seq), for a merge. */
  deviceSends(): Array<{ dev: number; sent: number; firstMeasuredSeq: number; lastSentSeq: number }> {
    const first = this.resolved.scenario.producer.firstDevice
    return Array.from(this.lastSeq, (last, k) => {
      const from = this.firstMeasuredSeq[k]!
      return {
        dev: first + k,
        sent: from < 0 ? 0 : last - from + 1,
        firstMeasuredSeq: from,
        lastSentSeq: last,
      }
    })
  }

  /** Sends issued and planned so far. */
  progress(): { issued: number; planned: number; backlog: number } {
    return {
      issued: this.scheduler?.issued ?? 0,
      planned: this.scheduler?.planned ?? 0,
      backlog: this.scheduler?.backlog() ?? 0,
    }
  }
}
