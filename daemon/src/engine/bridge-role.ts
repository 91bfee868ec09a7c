import type { BrokerConnection, RunningBridge, RunTelemetry } from '@iotload/sdk'
import type { Logger } from '../log/logger.ts'
import { loadBridge } from '../plugins/optional-packages.ts'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import { templateToFilter } from '../scenario/text-template.ts'
import { closeAll, openConnections } from './device-connections.ts'
import type { RunRecorder } from './recorder.ts'

/**
 * Runs iotload's reference bridge between the producer's topic and the consumer's. The bridge
 * package is loaded lazily (`loadBridge`): only a scenario with `bridge:` needs it installed.
 */
export class BridgeRole {
  private connections: BrokerConnection[] = []
  private bridge: RunningBridge | undefined

  constructor(
    private readonly resolved: ResolvedScenario,
    private readonly runId: string,
    private readonly recorder: RunRecorder,
    private readonly logger: Logger,
    private readonly telemetry: RunTelemetry = {},
  ) {}

  async start(): Promise<void> {
    const config = this.resolved.scenario.bridge
    if (!config) return
    const { startBridge } = await loadBridge()
    const open = async (role: 'bridge-in' | 'bridge-out', broker = this.resolved.broker) => {
      const opened = await openConnections({
        broker,
        role,
        runId: this.runId,
        count: 1,
        deviceOf: () => 0,
        clientIdTemplate: `iotload-{run}-${role}`,
        concurrency: 1,
        logger: this.logger,
        onStatus: (s) => this.recorder.onConnectionStatus(s),
      })
      this.connections.push(...opened.connections)
      if (opened.failed > 0) throw opened.firstError
      return opened.connections[0]!
    }
    const input = await open('bridge-in')
    const output = await open('bridge-out', this.resolved.bridgeBroker ?? this.resolved.broker)
    this.bridge = await startBridge({
      config,
      input,
      output,
      filter: templateToFilter(config.from, this.resolved.broker.wildcard.single),
      qos: this.resolved.scenario.producer.qos,
      logger: this.logger,
      ...(this.telemetry.onBridgeForward
        ? { onForward: this.telemetry.onBridgeForward.bind(this.telemetry) }
        : {}),
    })
    // Hops stamped by this in-process bridge share the recorder's clock and host.
    this.recorder.bridgeHost = this.bridge.stats.host
  }

  get stats() {
    return this.bridge?.stats
  }

  async close(): Promise<void> {
    await this.bridge?.stop().catch(() => {})
    await closeAll(this.connections)
    this.connections = []
  }
}
