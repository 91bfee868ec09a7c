import { randomUUID } from 'node:crypto'
import type { BrokerConnection } from '@iotload/sdk'
import { createTestContext } from '@iotload/sdk/testing'
import { afterAll } from 'vitest'
import { amqpConfigSchema } from '../config.ts'
import { amqpPlugin } from '../plugin.ts'

// What the amqp-*.int.test.ts files share: the shared RabbitMQ, names unique to this run, and
// connections that are closed after the file's tests.

export const HOST = '127.0.0.1'
export const PORT = 5672
export const URL = `amqp://${HOST}:${PORT}`
/** A short id unique to this test file's run, in every queue and topic name. */
export const run = randomUUID().slice(0, 8)
/** A topic of this run. */
export const topic = (suffix: string) => `it-${run}/${suffix}`
export const enc = new TextEncoder()
export const dec = new TextDecoder()

/** A parsed plugin config for the shared RabbitMQ. */
export const config = (raw: Record<string, unknown> = {}) => amqpConfigSchema.parse({ url: URL, ...raw })

/**
 * `connect(config, clientId)` for tests, and `open`, the connections closed after the enclosing
 * suite (`connect` adds to it; a test that connects by itself may too).
 */
export function useConnections() {
  const open: BrokerConnection[] = []
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close()))
  })
  const connect = async (raw: Record<string, unknown> = {}, id = 'it') => {
    const ctx = createTestContext({ clientId: `${id}-${run}` })
    const conn = await amqpPlugin.connect(config(raw), ctx)
    open.push(conn)
    return { conn, ctx }
  }
  return { connect, open }
}
