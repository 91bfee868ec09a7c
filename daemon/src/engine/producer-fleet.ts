import type { BrokerConnection } from '@iotload/sdk'
import type { Logger } from '../log/logger.ts'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import type { ProducerConfig } from '../scenario/schema.ts'
import { type ClockTimer, type EngineClock, sleepOn } from './clock.ts'
import { closeAll, connectLatencyStats, deviceConnector, openConnections } from './device-connections.ts'
import { ABSENT_CONNECTION } from './absent-connection.ts'
import { type IdentityOf, identityResolver } from './device-identity.ts'
import { reconnectStorm, type StormStats } from './reconnect-storm.ts'
import type { ConnectProgress } from './connect-progress.ts'

/** Connect statistics of the device fleet. */
export interface FleetConnectStats {
  devices: number
  connections: number
  failed: number
  connectMs: number
  /** `producer.connectRate`, when the connects were paced. */
  connectRate?: number
  /** How long each connect took, µs (failures included). */
  connectLatencyUs?: { count: number; p50: number; p99: number; max: number }
  /** Failed connects by cause (`unreachable`, `auth`, `tls`, `protocol`, `timeout`, …). */
  failuresByCause?: Record<string, number>
  /** The reconnect storm (`producer.reconnectStorm`), once it ran. */
  storm?: StormStats
  /** Failed connects the run went on without (`producer.maxConnectFailures`); those devices sent nothing. */
  tolerated?: number
  /** The first failed devices (up to 20): which, and why. */
  failedDevices?: Array<{ device: number; cause: string; error: string }>
}

/** `producer.maxConnectFailures` as a count of `connections`: a share rounds down. */
export function allowedConnectFailures(max: number | string | undefined, connections: number): number {
  if (max === undefined) return 0
  if (typeof max === 'number') return max
  return Math.floor((Number.parseFloat(max) / 100) * connections)
}

/** A producer's connection count: one per device, or its pool (never more than its devices). */
export function fleetConnectionCount(p: ProducerConfig): number {
  return p.connections === 'per-device' ? p.devices : Math.min(p.connections, p.devices)
}

/** A run's error text: the error, and how many device connections failed when that is why. */
export function runErrorText(err: unknown, describe: (err: unknown) => string): string {
  const text = describe(err)
  const e = err as { failedConnections?: number; totalConnections?: number }
  return e.failedConnections
    ? `${text} (${e.failedConnections} of ${e.totalConnections} device connections failed)`
    : text
}

/** A worker's slice of a fleet, as its connections see it. */
export interface FleetShard {
  /** Its first connection among the whole fleet's. */
  firstConnection: number
}

/** How long `close()` waits for a storm still reconnecting before closing what is open. */
const STORM_CLOSE_WAIT_MS = 10_000

/**
 * The producer's connections: opened once (as fast as `connectConcurrency` allows, or paced by
 * `connectRate`), dropped and reopened in a reconnect storm, closed at the end.
 */
export class ProducerFleet {
  /** One per device, or a shared pool; a storm replaces entries in place. */
  connections: BrokerConnection[] = []
  stats: FleetConnectStats | undefined
  private stormTimer: ClockTimer | undefined
  private storm: Promise<void> | undefined

  constructor(
    private readonly resolved: ResolvedScenario,
    private readonly runId: string,
    private readonly onStatus: (status: string) => void,
    private readonly logger: Logger,
    private readonly clock: EngineClock,
    /** Counts the first connect phase as it goes, for progress output. */
    private readonly progress?: ConnectProgress,
    /**
     * A worker's shard of a fleet: with a connection per device it may go on with none of its
     * own open, since the main thread judges the fleet's failures as a whole (sharded-run.ts),
     * and a reconnect storm picks its connections on the whole fleet's numbering.
     */
    private readonly shard?: FleetShard,
  ) {}

  private connectOptions() {
    const p = this.resolved.scenario.producer
    return {
      broker: this.resolved.broker,
      role: 'producer' as const,
      runId: this.runId,
      deviceOf: (i: number) => p.firstDevice + i,
      clientIdTemplate: p.clientId,
      logger: this.logger,
      onStatus: this.onStatus,
      ...(this.identityOf ? { identityOf: this.identityOf } : {}),
    }
  }

  /** Per-device identities (`producer.identities`, per-device certificates), compiled once. */
  private get identityOf(): IdentityOf | undefined {
    if (!this.identity) this.identity = { of: identityResolver(this.resolved, this.runId) }
    return this.identity.of
  }

  private identity: { of: IdentityOf | undefined } | undefined

  /** Connects every device; throws the first connection error when any device failed. */
  async connect(signal?: AbortSignal): Promise<void> {
    const p = this.resolved.scenario.producer
    const count = fleetConnectionCount(p)
    const opened = await openConnections({
      ...this.connectOptions(),
      count,
      concurrency: p.connectConcurrency,
      clock: this.clock,
      ...(p.connectRate !== undefined ? { connectRate: p.connectRate } : {}),
      ...(signal ? { signal } : {}),
      ...(this.progress ? { progress: this.progress } : {}),
    })
    const allowed = allowedConnectFailures(p.maxConnectFailures, count)
    const someOpen =
      opened.connections.length > 0 || (this.shard !== undefined && p.connections === 'per-device')
    const tolerated = opened.failed > 0 && opened.failed <= allowed && someOpen
    // A device whose connect failed (within maxConnectFailures) keeps its slot, absent: it sends nothing.
    this.connections =
      tolerated && p.connections === 'per-device'
        ? Array.from(opened.slots, (c) => c ?? ABSENT_CONNECTION)
        : opened.connections
    this.stats = {
      devices: p.devices,
      connections: count,
      failed: opened.failed,
      connectMs: opened.elapsedMs,
      ...(p.connectRate !== undefined ? { connectRate: p.connectRate } : {}),
      connectLatencyUs: connectLatencyStats(opened.connectLatency),
      failuresByCause: opened.failuresByCause,
      ...(tolerated ? { tolerated: opened.failed } : {}),
      ...(opened.failedSamples.length > 0
        ? {
            failedDevices: opened.failedSamples.map((f) => ({
              device: p.firstDevice + f.index,
              cause: f.cause,
              error: f.error,
            })),
          }
        : {}),
    }
    if (tolerated)
      this.logger.warn('going on without the devices that could not connect (producer.maxConnectFailures)', {
        failed: opened.failed,
        allowed,
        causes: opened.failuresByCause,
      })
    else if (opened.failed > 0)
      throw Object.assign(opened.firstError as Error, {
        failedConnections: opened.failed,
        totalConnections: count,
      })
  }

  /** Sets the reconnect storm's timer, when the scenario has one; `startUs` is the schedule's start. */
  scheduleStorm(startUs: number): void {
    const storm = this.resolved.scenario.producer.reconnectStorm
    if (!storm) return
    const atUs = storm.at * 1000
    this.stormTimer = this.clock.setTimeout(
      () => {
        this.storm = this.runStorm(atUs, storm.fraction)
      },
      (startUs + atUs - this.clock.nowUs()) / 1000,
    )
  }

  /** A storm not yet started will not start. */
  cancelStorm(): void {
    this.clock.clearTimer(this.stormTimer)
  }

  private async runStorm(atUs: number, fraction: number): Promise<void> {
    try {
      const stats = await reconnectStorm({
        connections: this.connections,
        fraction,
        firstIndex: this.shard?.firstConnection ?? 0,
        reopen: deviceConnector(this.connectOptions()),
        clock: this.clock,
        atUs,
      })
      if (this.stats) this.stats.storm = stats
      this.logger.info('reconnect storm over', {
        dropped: stats.dropped,
        reconnected: stats.reconnected,
        failed: stats.failed,
        reconnectMs: stats.reconnectMs,
      })
    } catch (err) {
      this.logger.warn('reconnect storm failed', { error: (err as Error).message })
    }
  }

  /** Closes every connection; a storm still reconnecting gets a few seconds to finish first. */
  async close(): Promise<void> {
    this.cancelStorm()
    if (this.storm) await Promise.race([this.storm, sleepOn(this.clock, STORM_CLOSE_WAIT_MS)])
    await closeAll(this.connections)
    this.connections = []
  }
}
