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
