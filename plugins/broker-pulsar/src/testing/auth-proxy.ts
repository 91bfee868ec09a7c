import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

/** Port of the token-auth WebSocket proxy scripts/services/pulsar.sh starts in front of the broker. */
export const AUTH_PROXY_PORT = Number(process.env.PULSAR_AUTH_WS_PORT ?? 8081)

/** Port of the token-auth Pulsar proxy (binary protocol) pulsar.sh starts with the same secret. */
export const AUTH_BINARY_PROXY_PORT = Number(process.env.PULSAR_AUTH_BINARY_PORT ?? 6652)

/** The valid token pulsar.sh minted for that proxy (PULSAR_TEST_TOKEN_FILE overrides the path). */
export function readTestToken(): string {
  const file =
    process.env.PULSAR_TEST_TOKEN_FILE ??
    join(process.env.IOTLOAD_CACHE ?? join(homedir(), '.cache', 'iotload'), 'pulsar-run', 'auth', 'token')
  return readFileSync(file, 'utf8').trim()
}
