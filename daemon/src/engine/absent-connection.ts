import { type BrokerConnection, ConnectionError } from '@iotload/sdk'

/**
 * The slot of a device that could not connect and that the run goes on without
 * (`producer.maxConnectFailures`): the producer skips its sends, so nothing it never sent counts
 * as lost. A reconnect storm may still connect it (its reopen replaces the slot).
 */
export const ABSENT_CONNECTION: BrokerConnection = {
  publish: () => Promise.reject(new ConnectionError('unreachable', 'this device could not connect')),
  subscribe: () => Promise.reject(new ConnectionError('unreachable', 'this device could not connect')),
  close: async () => {},
}
