import { randomUUID } from 'node:crypto'
import { type MemoryBus, memoryBus } from '@iotload/broker-memory'
import type { BrokerConnection, BrokerPlugin, OutboundMessage } from '@iotload/sdk'
import { createLogger, type Logger } from '../../log/logger.ts'
import { type ResolvedScenario, resolveScenario } from '../../scenario/load-scenario.ts'

/** A resolved scenario on a bus of its own, and that bus (for faults and the open-connection count). */
export interface MemoryScenario {
  resolved: ResolvedScenario
  bus: MemoryBus
}

/**
 * Resolves `scenario` with `broker: { plugin: memory, bus: <fresh name>, ...broker }`, ignoring the
 * process environment, so engine tests need no broker and cannot see each other's messages.
 *
 * @example
 * const { resolved, bus } = await memoryScenario({ producer: { devices: 2, rate: '10/s', duration: '1s' } })
 */
export async function memoryScenario(
  scenario: Record<string, unknown>,
  broker: Record<string, unknown> = {},
): Promise<MemoryScenario> {
  const bus = `engine-${randomUUID()}`
  const resolved = await resolveScenario(
    { name: 'engine test', ...scenario, broker: { plugin: 'memory', bus, ...broker } },
    { env: {} },
  )
  return { resolved, bus: memoryBus(bus) }
}

/** The same scenario with its broker plugin replaced (a spy, a plugin that fails on purpose). */
export function withPlugin(resolved: ResolvedScenario, plugin: BrokerPlugin): ResolvedScenario {
  return { ...resolved, broker: { ...resolved.broker, plugin } }
}

/** One publish a plugin was asked to make. */
export interface PublishCall {
  clientId: string
  topic: string
  msg: OutboundMessage
}

/** Hooks of `spyPlugin`; either may throw to simulate a failure. */
export interface SpyHooks {
  /** Before each connect. */
  onConnect?: (clientId: string) => void
  /** Before each publish is handed on: a throw here is a plugin that throws instead of rejecting. */
  onPublish?: (call: PublishCall) => void
}

/** Wraps a plugin so every publish is recorded (and then handed on). */
export function spyPlugin(plugin: BrokerPlugin, calls: PublishCall[], hooks: SpyHooks = {}): BrokerPlugin {
  return {
    ...plugin,
    async connect(config, ctx): Promise<BrokerConnection> {
      hooks.onConnect?.(ctx.clientId)
      const conn = await plugin.connect(config, ctx)
      return {
        publish: (topic, msg) => {
          const call = { clientId: ctx.clientId, topic, msg }
          calls.push(call)
          hooks.onPublish?.(call)
          return conn.publish(topic, msg)
        },
        subscribe: (filter, onMessage, options) => conn.subscribe(filter, onMessage, options),
        close: () => conn.close(),
      }
    },
  }
}

/** A logger that keeps its lines (secrets already scrubbed) instead of writing them. */
export function collectingLogger(
  level: 'debug' | 'info' | 'warn' | 'error' = 'warn',
): Logger & { lines: string[] } {
  const lines: string[] = []
  return Object.assign(createLogger({ level, write: (l) => lines.push(l) }), { lines })
}
