import type { BrokerConnection, InboundMessage, Subscription } from '@iotload/sdk'
import type { Logger } from '../log/logger.ts'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import { type EngineClock, systemClock } from './clock.ts'
import { closeAll, openConnections } from './device-connections.ts'
import { DEFAULT_CORRELATION_WINDOW, legStamps } from '../scenario/external-metadata.ts'
import { CorrelationTable } from './correlation-table.ts'
import { consumerReplier } from './command-replies.ts'
import { identityResolver } from './device-identity.ts'
import { compileExternalDecoder } from './external-decode.ts'
import type { RunRecorder } from './recorder.ts'
import { guard, type RunTelemetry } from './telemetry-hooks.ts'

/** How long the end-of-drain backlog question may take before it is given up (reported absent). */
const BACKLOG_TIMEOUT_MS = 5000

/** Subscribes where results are measured and feeds every arrival to the recorder. */
export class ConsumerRole {
  private connections: BrokerConnection[] = []
  private subscriptions: Subscription[] = []

  constructor(
    private readonly resolved: ResolvedScenario,
    private readonly runId: string,
    private readonly recorder: RunRecorder,
    private readonly logger: Logger,
    private readonly telemetry: RunTelemetry = {},
    /** Stamps arrivals; the producer's clock, so no latency mixes two. */
    private readonly clock: EngineClock = systemClock,
  ) {}

  /** Connects and subscribes; throws a ConnectionError when the broker refuses. */
  async start(): Promise<void> {
    const c = this.resolved.scenario.consumer
    const broker = this.resolved.bridgeBroker ?? this.resolved.broker
    const opened = await openConnections({
      broker,
      role: 'consumer',
      runId: this.runId,
      count: c.connections,
      deviceOf: (i) => i,
      clientIdTemplate: c.clientId,
      concurrency: 10,
      logger: this.logger,
      onStatus: (s) => this.recorder.onConnectionStatus(s),
      // A broker that wants a certificate per client gets one here too: connection k's `{device}` is k.
      ...(this.resolved.deviceTls && !this.resolved.bridgeBroker
        ? { identityOf: identityResolver(this.resolved, this.runId, 'consumer') }
        : {}),
    })
    this.connections = opened.connections
    if (opened.failed > 0) throw opened.firstError
    const fanout = c.mode === 'fanout'
    const group = fanout ? undefined : (c.group ?? (c.connections > 1 ? `iotload-${this.runId}` : undefined))
    const qos = c.qos ?? this.resolved.scenario.producer.qos
    const onReceive = guard(this.telemetry.onReceive?.bind(this.telemetry))
    const external = c.external ? this.useExternal(c.external) : undefined
    const clock = this.clock
    const onMessage = external
      ? (msg: InboundMessage) => {
          const recvUs = clock.nowUs()
          const a = external(msg.payload)
          const meta = this.recorder.onExternal(a, recvUs)
          if (meta && onReceive) onReceive({ meta, recvUs, topic: msg.topic, headers: msg.headers })
          else if (a.kind === 'invalid' && a.reason === 'no-metadata')
            this.recorder.noteNoMetadata(msg.payload)
        }
      : undefined
    // In a fan-out each connection is subscriber (lane) k, with a group of its own where the
    // plugin needs one to see every message (capabilities.fanout: 'group').
    // A command round trip: subscriber 0 answers each message to its device.
    const reply = consumerReplier(this.resolved, this.runId)
    const laneOf = (lane: number, conn: BrokerConnection) =>
      onMessage ??
      ((msg: InboundMessage) => {
        // Stamp arrival before anything else runs: decoding time is not broker latency.
        const recvUs = clock.nowUs()
        const meta = this.recorder.onPayload(msg.payload, recvUs, lane)
        if (meta && onReceive) onReceive({ meta, recvUs, topic: msg.topic, headers: msg.headers })
        if (meta && reply && lane === 0) reply(conn, msg, meta)
      })
    const ownGroup = fanout && broker.plugin.capabilities.fanout === 'group'
    const filters = this.resolved.consumerFilters ?? [this.resolved.consumerFilter]
    for (const [k, conn] of this.connections.entries()) {
      const g = ownGroup ? `iotload-${this.runId}-sub${k}` : group
      const handler = laneOf(fanout ? k : 0, conn)
      for (const filter of filters)
        this.subscriptions.push(await conn.subscribe(filter, handler, { qos, ...(g ? { group: g } : {}) }))
    }
  }

  /**
   * Messages the broker still holds for the consumer (see `Subscription.backlog`), asked before
   * unsubscribing; undefined when the plugin cannot tell, when any subscription could not answer
   * within `timeoutMs`, or when there is no subscription. Subscriptions sharing a group each answer
   * for the whole group, so the largest answer counts, never their sum.
   */
  async backlog(timeoutMs = BACKLOG_TIMEOUT_MS): Promise<number | undefined> {
    const subs = this.subscriptions
    if (subs.length === 0 || subs.some((s) => typeof s.backlog !== 'function')) return undefined
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs)
    })
    try {
      const answers = await Promise.race([
        Promise.all(subs.map((s) => Promise.resolve(s.backlog?.()).catch(() => undefined))),
        late,
      ])
      if (!answers || answers.some((n) => typeof n !== 'number' || !Number.isFinite(n))) return undefined
      // A fan-out's subscribers each hold their own backlog; a group's members answer for all of it.
      if (this.resolved.scenario.consumer.mode === 'fanout')
        return (answers as number[]).reduce((a, b) => a + b, 0)
      return Math.max(...(answers as number[]))
    } catch (err) {
      this.logger.warn('could not ask the broker for the consumer backlog', { error: String(err) })
      return undefined
    } finally {
      clearTimeout(timer)
    }
  }

  /** Readies the recorder for `consumer.external` and compiles the decoder. */
  private useExternal(external: NonNullable<ResolvedScenario['scenario']['consumer']['external']>) {
    const p = this.resolved.scenario.producer
    const legs = legStamps(external)
    this.recorder.legPaths = { in: legs['ipaas-in']?.path, out: legs['ipaas-out']?.path }
    if (external.timestampPath !== undefined)
      this.recorder.useExternalTimestamps(external.seqPath !== undefined, external.devicePath !== undefined)
    else if (external.correlationPath !== undefined) {
      const window = external.correlationWindow ?? DEFAULT_CORRELATION_WINDOW
      this.recorder.useCorrelation(new CorrelationTable(p.firstDevice, p.devices, window))
    } else this.recorder.externalVia = 'envelopePath'
    return compileExternalDecoder(external)
  }

  async close(): Promise<void> {
    await Promise.all(this.subscriptions.map((s) => s.unsubscribe().catch(() => {})))
    this.subscriptions = []
    await closeAll(this.connections)
    this.connections = []
  }
}
