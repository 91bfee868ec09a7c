import { runTag, type WorkerSlot, type WorkerTelemetry } from '@iotload/sdk'
import type { Logger } from '../../log/logger.ts'
import type { ResolvedBroker, ResolvedScenario } from '../../scenario/load-scenario.ts'
import { readDevicePem } from '../../scenario/device-tls.ts'
import { loadScenarioPlugin } from '../../scenario/plugin-policy.ts'
import { compileRecordedPayload } from '../../scenario/recorded-payload.ts'
import type { ProducerConfig } from '../../scenario/schema.ts'
import { parseSlo } from '../../scenario/slo.ts'
import { systemClock } from '../clock.ts'
import { type DeviceShard, groupShards, wholeFleet } from '../device-shard.ts'
import { GroupedProducer } from '../grouped-producer.ts'
import { producerCurve } from '../rate-curve.ts'
import { ProducerRole } from '../producer.ts'
import { allowedConnectFailures, fleetConnectionCount } from '../producer-fleet.ts'
import { RunRecorder } from '../recorder.ts'
import type { RunTelemetry } from '../telemetry-hooks.ts'
import type { WorkerEventLog } from './worker-events.ts'
import type { WorkerBroker, WorkerInit } from './worker-protocol.ts'

/** Loads a broker's plugin again inside the worker, under the main thread's own policy. */
async function brokerOf(b: WorkerBroker, path: string, init: WorkerInit): Promise<ResolvedBroker> {
  const plugin = await loadScenarioPlugin(b.pluginName, path, init.policy)
  return {
    pluginName: b.pluginName,
    plugin,
    config: b.config,
    auth: b.auth,
    wildcard: plugin.wildcardSyntax ?? { single: '+', multi: '#' },
  }
}

/**
 * A shard's whole share of `n` (a pool's connections, the connect concurrency): cumulative, so the
 * shares of a fleet's shards add up to `n` (each at least 1) however unevenly the fleet is cut.
 */
export function shareOf(n: number, shard: DeviceShard): number {
  const upTo = (devices: number) => Math.floor((n * devices) / shard.fleet)
  return Math.max(1, upTo(shard.from + shard.count) - upTo(shard.from))
}

/**
 * A shard's first connection among its whole fleet's (a reconnect storm picks on that numbering):
 * its first device's, or where its share of a shared pool starts (the same cut as `shareOf`).
 */
export function firstConnectionOf(p: ProducerConfig, shard: DeviceShard): number {
  if (typeof p.connections !== 'number') return shard.from
  return Math.floor((p.connections * shard.from) / shard.fleet)
}

/** A producer config cut to a shard of it: its devices, and its share of the pool and connect pace. */
function cutToShard(p: ProducerConfig, shard: DeviceShard): void {
  // maxConnectFailures is the fleet's: each worker may go on up to the fleet's allowance, and the
  // main thread checks the fleet's total once every worker connected (sharded-run.ts).
  if (p.maxConnectFailures !== undefined)
    p.maxConnectFailures = allowedConnectFailures(
      p.maxConnectFailures,
      fleetConnectionCount({ ...p, devices: shard.fleet }),
    )
  p.firstDevice += shard.from
  p.devices = shard.count
  // A shared pool keeps its share of connections (at least one per worker).
  if (typeof p.connections === 'number') p.connections = shareOf(p.connections, shard)
  // The workers connect in parallel: each paces its share, so the fleet keeps the asked rate.
  if (p.connectRate !== undefined) p.connectRate = (p.connectRate * shard.count) / shard.fleet
  p.connectConcurrency = shareOf(p.connectConcurrency, shard)
}

/** The ResolvedScenario a worker runs its role on: the producer's devices cut to its shard. */
export async function resolvedFor(init: WorkerInit): Promise<ResolvedScenario> {
  const scenario = structuredClone(init.scenario)
  const shard = init.shard
  if (init.role === 'producer' && shard) {
    // Device groups: each group the shard reaches, cut to its slice (the fleet summary is only read).
    if (scenario.grouped)
      scenario.groups = groupShards(scenario.groups, shard).map(({ group, shard: slice }) => {
        cutToShard(group.config, slice)
        return group
      })
    else cutToShard(scenario.producer, shard)
  }
  const identities = init.identities
  return {
    scenario,
    redacted: {},
    ...(identities ? { identities } : {}),
    broker: await brokerOf(init.broker, 'broker.plugin', init),
    bridgeBroker: init.bridgeBroker
      ? await brokerOf(init.bridgeBroker, 'bridge.broker.plugin', init)
      : undefined,
    slo: parseSlo(scenario.slo),
    consumerFilter: init.consumerFilter,
    ...(init.consumerFilters ? { consumerFilters: init.consumerFilters } : {}),
    ...(init.deviceTls ? { deviceTls: init.deviceTls } : {}),
    ...(init.recordedPayload
      ? {
          recordedPayload: compileRecordedPayload(
            init.recordedPayload,
            init.recordedPayload.data,
            'producer.payload',
            scenario.run.seed,
          ),
        }
      : {}),
    // Read as each device connects, under the policy the main thread resolved the scenario with.
    readDevicePem: (path, field) => readDevicePem(path, field, init.policy),
    env: { applied: [], unknown: [] },
    secrets: init.secrets,
    policy: init.policy,
  }
}

/**
 * The worker's per-message telemetry: the module the main thread's telemetry named (its own
 * package file, never scenario input), or none. A module that fails to load fails the worker.
 */
export async function workerTelemetryOf(init: WorkerInit): Promise<WorkerTelemetry | undefined> {
  const t = init.telemetry
  if (t === undefined) return undefined
  if (!t.module.startsWith('file:')) throw new Error(`telemetry module must be a file: URL, not ${t.module}`)
  const mod = (await import(t.module)) as {
    workerTelemetry?: (options: unknown, slot: WorkerSlot) => WorkerTelemetry
  }
  if (typeof mod.workerTelemetry !== 'function')
    throw new Error('telemetry module exports no workerTelemetry()')
  return mod.workerTelemetry(t.options, { role: init.role, producers: t.producers })
}

/** A recorder on the system clock, as `startRun` makes one, its connection changes and failed publishes logged. */
export function workerRecorder(runId: string, events: WorkerEventLog): RunRecorder {
  const recorder = new RunRecorder(
    runId,
    runTag(runId),
    (status) => events.onConnectionStatus(status, systemClock.nowUs()),
    () => systemClock.nowUs(),
  )
  recorder.onPublishFailure = (err, sentUs) => events.onPublishFailure(err, sentUs)
  return recorder
}

/**
 * The producer role of a worker: its shard of the fleet on the whole fleet's schedule; with device
 * groups, each group's slice on that group's whole schedule.
 */
export function shardProducer(
  resolved: ResolvedScenario,
  init: WorkerInit,
  recorder: RunRecorder,
  logger: Logger,
  telemetry: RunTelemetry,
): ProducerRole | GroupedProducer {
  if (resolved.scenario.grouped) {
    const whole = new Map(init.scenario.groups.map((g) => [g.name, g.config]))
    const slices = new Map(
      groupShards(init.scenario.groups, init.shard ?? wholeFleet(init.scenario.producer.devices)).map(
        ({ group, shard }) => [group.name, shard],
      ),
    )
    return new GroupedProducer(resolved, init.runId, recorder, logger, telemetry, {}, (g) => {
      const config = whole.get(g.name) ?? g.config
      const shard = slices.get(g.name) ?? wholeFleet(g.config.devices)
      return { shard, curve: producerCurve(config), firstConnection: firstConnectionOf(config, shard) }
    })
  }
  const shard = init.shard
  return new ProducerRole(resolved, init.runId, recorder, logger, telemetry, {
    ...(shard
      ? {
          shard,
          curve: producerCurve(init.scenario.producer),
          firstConnection: firstConnectionOf(init.scenario.producer, shard),
        }
      : {}),
  })
}
