import { ConfigError, type ConnectionRole } from '@iotload/sdk'
import type { ZeromqConfig } from './config.ts'

/** Which ZeroMQ socket one connection opens, derived from its role and the config. */
export interface SocketPlan {
  /** Producers and bridge-out send (PUB/PUSH); consumers, bridge-in and probes receive (SUB/PULL). */
  direction: 'send' | 'receive'
  side: 'bind' | 'connect'
  addresses: string[]
  waitForPeer: boolean
  /** Config path of the entry, for error messages. */
  path: string
}

const SENDING_ROLES: ReadonlySet<ConnectionRole> = new Set(['producer', 'bridge-out'])

/**
 * Picks the socket for `role`. Throws a `ConfigError` naming the missing path when the config has
 * no endpoint for that role (the schema cannot know which roles a scenario uses).
 */
export function planSocket(config: ZeromqConfig, role: ConnectionRole): SocketPlan {
  const direction = SENDING_ROLES.has(role) ? 'send' : 'receive'
  if (config.endpoint !== undefined) {
    if (role === 'bridge-in' || role === 'bridge-out') {
      throw new ConfigError(
        'broker.endpoints',
        `a bridge needs two endpoints (bridge-in and bridge-out); replace broker.endpoint with broker.endpoints`,
        { source: 'broker-zeromq' },
      )
    }
    const binder = config.bind ?? 'consumer'
    return {
      direction,
      side: role === binder ? 'bind' : 'connect',
      addresses: [config.endpoint],
      waitForPeer: true,
      path: 'broker.endpoint',
    }
  }
  const path = `broker.endpoints.${role}`
  const entry = config.endpoints?.[role]
  if (!entry) {
    throw new ConfigError(path, `no endpoint for role '${role}': add { bind: ... } or { connect: ... }`, {
      source: 'broker-zeromq',
    })
  }
  const side = entry.bind !== undefined ? 'bind' : 'connect'
  const value = entry.bind ?? entry.connect ?? []
  return {
    direction,
    side,
    addresses: typeof value === 'string' ? [value] : value,
    waitForPeer: entry.waitForPeer,
    path,
  }
}
