import { createServer } from 'node:net'
import type {
  BrokerConnection,
  ConnectionRole,
  ConnectionStatus,
  InboundMessage,
  PluginContext,
  PluginLogger,
} from '@iotload/sdk'
import { zeromqConfigSchema } from '../config.ts'
import plugin from '../plugin.ts'
import { freePort } from '@iotload/sdk/testing'

/** Whether something still listens on the port (a leaked bound socket would). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer()
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
}

/** Logger that remembers warnings and errors for assertions. */
export function memoryLogger(): PluginLogger & { lines: string[] } {
  const lines: string[] = []
  const keep = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    lines.push(`${level} ${msg} ${fields ? JSON.stringify(fields) : ''}`)
  }
  return { lines, debug: () => {}, info: () => {}, warn: keep('warn'), error: keep('error') }
}

/** Context for one test connection, recording status changes. */
export function testContext(role: ConnectionRole, statuses: ConnectionStatus[] = []): PluginContext {
  return {
    role,
    clientId: `zmq-test-${role}-${Math.random().toString(36).slice(2, 8)}`,
    logger: memoryLogger(),
    onStatus: (s) => statuses.push(s),
  }
}

/** Parses a raw config and connects one role. */
export function connectRole(
  raw: unknown,
  role: ConnectionRole,
  statuses?: ConnectionStatus[],
): Promise<BrokerConnection> {
  return plugin.connect(zeromqConfigSchema.parse(raw), testContext(role, statuses))
}

/** Resolves once `predicate` holds, polling; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** Collects delivered messages. */
export function inbox(): { messages: InboundMessage[]; push: (m: InboundMessage) => void } {
  const messages: InboundMessage[] = []
  return { messages, push: (m) => messages.push(m) }
}

/** A unique topic namespace per test run. */
export const runId = `r${Date.now().toString(36)}`

export { freePort }
