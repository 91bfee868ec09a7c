import type { ConnectionCredentials, ConnectionStatus, PluginContext } from '@iotload/sdk'
import { createCollectingLogger } from '@iotload/sdk/conformance'

let seq = 0

/** A plugin context for tests, with a unique client id and the status calls it received. */
export function testContext(
  credentials?: ConnectionCredentials,
): PluginContext & { statuses: ConnectionStatus[]; lines: string[] } {
  const statuses: ConnectionStatus[] = []
  const logger = createCollectingLogger()
  return {
    role: 'producer',
    clientId: `nats-test-${process.pid}-${++seq}`,
    credentials,
    logger,
    lines: logger.lines,
    statuses,
    onStatus: (s) => statuses.push(s),
  }
}
