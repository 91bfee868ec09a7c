import type { IdentityOf } from './device-identity.ts'
import { fileLimitCause } from './fd-limit.ts'
import {
  type BrokerConnection,
  ClosedError,
  type ConnectionRole,
  ConnectionError,
  IotloadError,
  type PluginContext,
} from '@iotload/sdk'
import type { Logger } from '../log/logger.ts'
import type { ResolvedBroker } from '../scenario/load-scenario.ts'
import { secrets } from '../log/secret-registry.ts'
import { compileTextTemplate, templatePattern } from '../scenario/text-template.ts'
import { type EngineClock, systemClock } from './clock.ts'
import { connectAll } from './connect-all.ts'
import type { ConnectProgress } from './connect-progress.ts'
import { LatencyHistogram } from './histogram.ts'

/** Opens connections for a role, rendering client id and credentials per device. */
export interface OpenConnectionsOptions {
  broker: ResolvedBroker
  role: ConnectionRole
  runId: string
  count: number
  /** Device number of connection i (credentials and client ids are per device). */
  deviceOf: (i: number) => number
  clientIdTemplate: string
  concurrency: number
  logger: Logger
  onStatus: (status: string) => void
  signal?: AbortSignal
  /** New connections per second (a steady ramp); as fast as `concurrency` allows when absent. */
  connectRate?: number
  /** Paces the ramp and times each connect. @default systemClock */
  clock?: EngineClock
  /** Counts connections as they open or fail, for progress output. */
  progress?: ConnectProgress
  /** Connection i's own identity (client id, credentials, client certificate), where it has one. */
  identityOf?: IdentityOf
}

/** Samples of failed connects kept per phase, for the summary (the count has them all). */
export const FAILED_SAMPLES = 20

/** Connections that opened, and the first failure, if any. */
export interface OpenedConnections {
  connections: BrokerConnection[]
  /** Connection i at index i, a hole (undefined) where it failed. */
  slots: Array<BrokerConnection | undefined>
  failed: number
  firstError: unknown
  elapsedMs: number
  /** How long each connect took, µs (failures included). */
  connectLatency: LatencyHistogram
  /** Failed connects by cause: `unreachable`, `auth`, `tls`, `protocol`, `timeout`, `closed`, `other`. */
  failuresByCause: Record<string, number>
  /** The first few failures: which connection, why. */
  failedSamples: Array<{ index: number; cause: string; error: string }>
}

/** Why a connect failed, in a word (see OpenedConnections.failuresByCause). */
export function failureCause(err: unknown): string {
  const files = fileLimitCause(err)
  if (files) return files
  if (err instanceof ConnectionError) return err.kind
  if (err instanceof ClosedError) return 'closed'
  if (err instanceof IotloadError) return err.code.toLowerCase()
  return 'other'
}

/** Percentiles of a connect-time histogram, µs. */
export function connectLatencyStats(h: LatencyHistogram): {
  count: number
  p50: number
  p99: number
  max: number
} {
  const s = h.stats()
  return { count: s.count, p50: s.p50, p99: s.p99, max: s.max }
}

/**
 * The connect function of a role: connection i of device `deviceOf(i)`, its client id and
 * credentials rendered from the templates. A templated password registers its pattern for scrubbing.
 */
export function deviceConnector(
  o: Pick<
    OpenConnectionsOptions,
    'broker' | 'role' | 'runId' | 'deviceOf' | 'clientIdTemplate' | 'logger' | 'onStatus' | 'identityOf'
  >,
): (i: number) => Promise<BrokerConnection> {
  const clientId = compileTextTemplate(o.clientIdTemplate, 'clientId')
  const user = o.broker.auth?.username
    ? compileTextTemplate(o.broker.auth.username, 'broker.auth.username')
    : undefined
  const pass = o.broker.auth?.password
    ? compileTextTemplate(o.broker.auth.password, 'broker.auth.password')
    : undefined
  const token = o.broker.auth?.token
  // A templated password (`pass-{device}`) renders one secret per device: scrubbed as one pattern
  // for as long as the run's scope lasts.
  const template = o.broker.auth?.password
  if (template?.includes('{')) secrets.addPattern(templatePattern(template, o.runId), o.runId)
  return async (i) => {
    const vars = { device: o.deviceOf(i), run: o.runId }
    const ctx: PluginContext = {
      role: o.role,
      clientId: clientId(vars),
      logger: o.logger,
      onStatus: o.onStatus,
    }
    if (user || pass || token) {
      const password = pass?.(vars)
      ctx.credentials = {
        ...(user ? { username: user(vars) } : {}),
        ...(password !== undefined ? { password } : {}),
        ...(token !== undefined ? { token } : {}),
      }
    }
    if (o.identityOf) {
      const own = await o.identityOf(i, vars.device)
      if (own.clientId !== undefined) ctx.clientId = own.clientId
      if (own.credentials) ctx.credentials = { ...ctx.credentials, ...own.credentials }
      if (own.will) ctx.will = own.will
    }
    return o.broker.plugin.connect(o.broker.config, ctx)
  }
}

/** Opens `count` connections through the plugin with bounded concurrency (and a ramp, if asked). */
export async function openConnections(o: OpenConnectionsOptions): Promise<OpenedConnections> {
  const connect = deviceConnector(o)
  const connectLatency = new LatencyHistogram()
  const failuresByCause: Record<string, number> = {}
  const failedSamples: OpenedConnections['failedSamples'] = []
  const clock = o.clock ?? systemClock
  const started = clock.nowUs()
  o.progress?.begin(o.count)
  const { ok, failures } = await connectAll(o.count, o.concurrency, connect, {
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.connectRate !== undefined ? { ratePerS: o.connectRate } : {}),
    clock,
    onAttempt: (i, us, error) => {
      connectLatency.record(us)
      if (error === undefined) o.progress?.onOpened()
      else o.progress?.onFailed(error)
      if (error !== undefined) {
        const cause = failureCause(error)
        failuresByCause[cause] = (failuresByCause[cause] ?? 0) + 1
        if (failedSamples.length < FAILED_SAMPLES)
          failedSamples.push({
            index: i,
            cause,
            error: error instanceof Error ? error.message : String(error),
          })
      }
    },
  })
  return {
    connections: ok.filter((c): c is BrokerConnection => c !== undefined),
    slots: ok,
    failed: failures.length,
    firstError: failures[0]?.error,
    elapsedMs: Math.round((clock.nowUs() - started) / 1000),
    connectLatency,
    failuresByCause,
    failedSamples,
  }
}

/** Closes connections in parallel, ignoring errors (shutdown must always complete). */
export async function closeAll(connections: BrokerConnection[]): Promise<void> {
  await Promise.all(connections.map((c) => c.close().catch(() => {})))
}
