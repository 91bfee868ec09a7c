import type { ConnectionCredentials, ConnectionRole, ConnectionStatus, PluginContext } from '../plugin.ts'
import { type CollectingLogger, createCollectingLogger } from './collecting-logger.ts'

/** A plugin context that remembers what the plugin reported through it. */
export interface TestContext extends PluginContext {
  logger: CollectingLogger
  /** Every `onStatus` call, in order. */
  readonly statuses: ConnectionStatus[]
  /** Every logged line (`level msg fields-as-JSON`), to assert no secret was ever written. */
  readonly lines: string[]
}

/** Options for `createTestContext`. */
export interface TestContextOptions {
  /** @default 'probe' */
  role?: ConnectionRole
  /** @default a unique id per call: `iotload-test-<pid>-<n>` */
  clientId?: string
  credentials?: ConnectionCredentials
}

let seq = 0

/**
 * A `PluginContext` for a plugin's own tests: a unique client id, a collecting logger and the
 * status changes in order.
 *
 * @example
 * const ctx = createTestContext({ credentials: { username: 'u', password: 'p' } })
 * const conn = await plugin.connect(config, ctx)
 * expect(ctx.statuses).toEqual(['connected'])
 */
export function createTestContext(options: TestContextOptions = {}): TestContext {
  const statuses: ConnectionStatus[] = []
  const logger = createCollectingLogger()
  const ctx: TestContext = {
    role: options.role ?? 'probe',
    clientId: options.clientId ?? `iotload-test-${process.pid}-${++seq}`,
    logger,
    lines: logger.lines,
    statuses,
    onStatus: (status) => {
      statuses.push(status)
    },
  }
  if (options.credentials) ctx.credentials = options.credentials
  return ctx
}
