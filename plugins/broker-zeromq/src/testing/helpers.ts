import type { BrokerConnection, ConnectionRole, ConnectionStatus } from '@iotload/sdk'
import { createTestContext } from '@iotload/sdk/testing'
import { zeromqConfigSchema } from '../config.ts'
import plugin from '../plugin.ts'

/** Parses a raw config and connects one role; status changes go to `statuses` when given. */
export function connectRole(
  raw: unknown,
  role: ConnectionRole,
  statuses?: ConnectionStatus[],
): Promise<BrokerConnection> {
  const ctx = createTestContext({
    role,
    clientId: `zmq-test-${role}-${Math.random().toString(36).slice(2, 8)}`,
  })
  if (statuses) ctx.onStatus = (s) => statuses.push(s)
  return plugin.connect(zeromqConfigSchema.parse(raw), ctx)
}

/** A unique topic namespace per test run. */
export const runId = `r${Date.now().toString(36)}`

const open: BrokerConnection[] = []

/**
 * Connects one role like `connectRole`, and closes it after the test (the hook is registered by
 * the test file that imports this one).
 */
export async function conn(raw: unknown, role: ConnectionRole, statuses?: ConnectionStatus[]) {
  const c = await connectRole(raw, role, statuses)
  open.push(c)
  return c
}

/** Closes what `conn` opened during the test. */
export async function closeOpened(): Promise<void> {
  await Promise.all(open.splice(0).map((c) => c.close()))
}

export const enc = new TextEncoder()
export const dec = new TextDecoder()
/** A TCP endpoint on loopback. */
export const tcp = (port: number) => `tcp://127.0.0.1:${port}`
