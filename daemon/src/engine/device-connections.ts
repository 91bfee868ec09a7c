import type { BrokerConnection, ConnectionRole, PluginContext } from '@iotload/sdk'
import type { Logger } from '../log/logger.ts'
import type { ResolvedBroker } from '../scenario/load-scenario.ts'
import { secrets } from '../log/secret-registry.ts'
import { compileTextTemplate, templatePattern } from '../scenario/text-template.ts'
import { connectAll } from './connect-all.ts'

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
}

/** Connections that opened, and the first failure, if any. */
export interface OpenedConnections {
  connections: BrokerConnection[]
  failed: number
  firstError: unknown
  elapsedMs: number
}

/** Opens `count` connections through the plugin with bounded concurrency. */
export async function openConnections(o: OpenConnectionsOptions): Promise<OpenedConnections> {
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
  const started = performance.now()
  const { ok, failures } = await connectAll(
    o.count,
    o.concurrency,
    (i) => {
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
      return o.broker.plugin.connect(o.broker.config, ctx)
    },
    o.signal,
  )
  return {
    connections: ok.filter((c): c is BrokerConnection => c !== undefined),
    failed: failures.length,
    firstError: failures[0]?.error,
    elapsedMs: Math.round(performance.now() - started),
  }
}

/** Closes connections in parallel, ignoring errors (shutdown must always complete). */
export async function closeAll(connections: BrokerConnection[]): Promise<void> {
  await Promise.all(connections.map((c) => c.close().catch(() => {})))
}
