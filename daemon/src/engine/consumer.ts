import type { BrokerConnection, InboundMessage, Subscription } from '@iotload/sdk'
import type { Logger } from '../log/logger.ts'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import { type EngineClock, systemClock } from './clock.ts'
import { closeAll, openConnections } from './device-connections.ts'
import { compileExternalDecoder } from '../scenario/external-metadata.ts'
import type { RunRecorder } from './recorder.ts'
import { guard, type RunTelemetry } from './telemetry-hooks.ts'

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
    })
    this.connections = opened.connections
    if (opened.failed > 0) throw opened.firstError
    const group = c.group ?? (c.connections > 1 ? `iotload-${this.runId}` : undefined)
    const qos = c.qos ?? this.resolved.scenario.producer.qos
    const onReceive = guard(this.telemetry.onReceive?.bind(this.telemetry))
    const external = c.external ? compileExternalDecoder(c.external) : undefined
    if (external) this.recorder.useExternalTimestamps()
    const clock = this.clock
    const onMessage = external
      ? (msg: InboundMessage) => {
          const recvUs = clock.nowUs()
          const r = external(msg.payload)
          if (r.ok) this.recorder.onExternal(r.tUs, r.resolutionUs, r.dev, r.seq, recvUs)
          else this.recorder.onInvalid(r.reason)
        }
      : (msg: InboundMessage) => {
          // Stamp arrival before anything else runs: decoding time is not broker latency.
          const recvUs = clock.nowUs()
          const meta = this.recorder.onPayload(msg.payload, recvUs)
          if (meta && onReceive) onReceive({ meta, recvUs, topic: msg.topic, headers: msg.headers })
        }
    for (const conn of this.connections) {
      this.subscriptions.push(
        await conn.subscribe(this.resolved.consumerFilter, onMessage, { qos, ...(group ? { group } : {}) }),
      )
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.subscriptions.map((s) => s.unsubscribe().catch(() => {})))
    this.subscriptions = []
    await closeAll(this.connections)
    this.connections = []
  }
}
