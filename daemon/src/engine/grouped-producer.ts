import type { Logger } from '../log/logger.ts'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import type { ProducerGroup } from '../scenario/schema.ts'
import type { ConnectSnapshot } from './connect-progress.ts'
import { GeneratorHealth } from './generator-health.ts'
import { type FleetConnectStats, ProducerRole, type ProducerRoleOptions } from './producer.ts'
import type { RunRecorder } from './recorder.ts'
import type { RunTelemetry } from './telemetry-hooks.ts'

/** What a run needs of its device fleet: one `ProducerRole`, or a `GroupedProducer`. */
export type FleetProducer = Pick<
  ProducerRole,
  | 'health'
  | 'targetRate'
  | 'plannedRate'
  | 'plannedInSecond'
  | 'connect'
  | 'connectStats'
  | 'measureStartUs'
  | 'run'
  | 'stop'
  | 'settle'
  | 'close'
  | 'undeliveredTail'
> & { readonly connectProgress: { readonly started: boolean; snapshot(): ConnectSnapshot } }

/** The scenario as one group's `ProducerRole` sees it: the group's producer and credentials. */
export function groupScenario(resolved: ResolvedScenario, group: ProducerGroup): ResolvedScenario {
  return {
    ...resolved,
    scenario: { ...resolved.scenario, producer: group.config },
    broker: group.auth ? { ...resolved.broker, auth: group.auth } : resolved.broker,
    ...(group.identities ? { identities: group.identities } : {}),
    ...(group.recorded ? { recordedPayload: group.recorded } : {}),
  }
}

/**
 * A fleet of device groups (`producers:`): one `ProducerRole` per group, on one schedule start,
 * sharing the recorder and one generator verdict (they share the process and its event loop).
 * Groups connect one after the other, each at its own `connectConcurrency`/`connectRate`.
 */
export class GroupedProducer implements FleetProducer {
  readonly health: GeneratorHealth
  readonly roles: ProducerRole[]
  readonly connectProgress: { readonly started: boolean; snapshot(): ConnectSnapshot }

  constructor(
    resolved: ResolvedScenario,
    runId: string,
    recorder: RunRecorder,
    logger: Logger,
    telemetry: RunTelemetry = {},
    options: ProducerRoleOptions = {},
    /** A group's own options (a worker's shard of it, on the group's whole schedule). */
    groupOptions: (group: ProducerGroup) => ProducerRoleOptions = () => ({}),
  ) {
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
    this.roles = resolved.scenario.groups.map(
      (group) =>
        new ProducerRole(
          groupScenario(resolved, group),
          runId,
          recorder,
          logger.child({ group: group.name }),
          telemetry,
          { ...options, ...groupOptions(group), health: this.health },
        ),
    )
    const roles = this.roles
    this.connectProgress = {
      get started() {
        return roles.some((r) => r.connectProgress.started)
      },
      snapshot: () => mergeSnapshots(roles.map((r) => r.connectProgress.snapshot())),
    }
  }

  get targetRate(): number {
    return this.sum((r) => r.targetRate)
  }

  plannedRate(measuredS: number): number {
    return this.sum((r) => r.plannedRate(measuredS))
  }

  plannedInSecond(second: number): number {
    return this.sum((r) => r.plannedInSecond(second))
  }

  shardPlannedRate(measuredS: number): number {
    return this.sum((r) => r.shardPlannedRate(measuredS))
  }

  /** Every group's devices' sends, for the per-device accounting of a sharded run. */
  deviceSends(): ReturnType<ProducerRole['deviceSends']> {
    return this.roles.flatMap((r) => r.deviceSends())
  }

  /** Connects group after group; the first group with a failure stops the rest (its error is thrown). */
  async connect(signal?: AbortSignal): Promise<void> {
    for (const role of this.roles) await role.connect(signal)
  }

  /** The groups' connect statistics added up; connect latencies are the slowest group's. */
  get connectStats(): FleetConnectStats | undefined {
    const all = this.roles.map((r) => r.connectStats).filter((s): s is FleetConnectStats => s !== undefined)
    if (all.length === 0) return undefined
    const causes: Record<string, number> = {}
    for (const s of all)
      for (const [k, n] of Object.entries(s.failuresByCause ?? {})) causes[k] = (causes[k] ?? 0) + n
    const lat = all.map((s) => s.connectLatencyUs).filter((l) => l !== undefined)
    return {
      devices: all.reduce((n, s) => n + s.devices, 0),
      connections: all.reduce((n, s) => n + s.connections, 0),
      failed: all.reduce((n, s) => n + s.failed, 0),
      connectMs: all.reduce((n, s) => n + s.connectMs, 0),
      ...(lat.length > 0
        ? {
            connectLatencyUs: {
              count: lat.reduce((n, l) => n + l.count, 0),
              p50: Math.max(...lat.map((l) => l.p50)),
              p99: Math.max(...lat.map((l) => l.p99)),
              max: Math.max(...lat.map((l) => l.max)),
            },
          }
        : {}),
      failuresByCause: causes,
      ...(all.some((s) => s.tolerated) ? { tolerated: all.reduce((n, s) => n + (s.tolerated ?? 0), 0) } : {}),
      ...(all.some((s) => s.failedDevices)
        ? { failedDevices: all.flatMap((s) => s.failedDevices ?? []).slice(0, 20) }
        : {}),
    }
  }

  get measureStartUs(): number {
    return this.roles[0]?.measureStartUs ?? 0
  }

  async run(startUs: number): Promise<void> {
    await Promise.all(this.roles.map((r) => r.run(startUs)))
  }

  stop(): void {
    for (const r of this.roles) r.stop()
  }

  async settle(timeoutMs: number): Promise<void> {
    // One health counts every group's publishes in flight: settling one settles all.
    await this.roles[0]?.settle(timeoutMs)
  }

  async close(): Promise<void> {
    await Promise.all(this.roles.map((r) => r.close()))
  }

  undeliveredTail(highest: (device: number) => number): number {
    return this.sum((r) => r.undeliveredTail(highest))
  }

  private sum(f: (r: ProducerRole) => number): number {
    return this.roles.reduce((n, r) => n + f(r), 0)
  }
}

function mergeSnapshots(snaps: ConnectSnapshot[]): ConnectSnapshot {
  const causes: Record<string, number> = {}
  for (const s of snaps)
    for (const [k, n] of Object.entries(s.failuresByCause)) causes[k] = (causes[k] ?? 0) + n
  const target = snaps.reduce((n, s) => n + s.target, 0)
  const opened = snaps.reduce((n, s) => n + s.opened, 0)
  const failed = snaps.reduce((n, s) => n + s.failed, 0)
  const elapsedS = snaps.reduce((n, s) => n + s.elapsedS, 0)
  const ratePerS = elapsedS > 0 ? (opened + failed) / elapsedS : 0
  const left = target - opened - failed
  return {
    target,
    opened,
    failed,
    failuresByCause: causes,
    elapsedS: Math.round(elapsedS * 10) / 10,
    ratePerS: Math.round(ratePerS * 10) / 10,
    remainingS: left <= 0 ? 0 : ratePerS > 0 ? Math.round((left / ratePerS) * 10) / 10 : null,
    done: snaps.every((s) => s.done),
  }
}

/** The run's fleet: a plain `ProducerRole` for one `producer:`, a `GroupedProducer` for `producers:`. */
export function createFleetProducer(
  resolved: ResolvedScenario,
  runId: string,
  recorder: RunRecorder,
  logger: Logger,
  telemetry: RunTelemetry = {},
  options: ProducerRoleOptions = {},
): FleetProducer {
  return resolved.scenario.grouped
    ? new GroupedProducer(resolved, runId, recorder, logger, telemetry, options)
    : new ProducerRole(resolved, runId, recorder, logger, telemetry, options)
}
