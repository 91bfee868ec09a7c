import { createServer, type Server } from 'node:net'
import { importLib } from '@iotload/sdk'

/** A running in-process MQTT 3.1.1 broker. */
export interface EmbeddedBroker {
  /** `mqtt://127.0.0.1:<port>` */
  url: string
  port: number
  close(): Promise<void>
}

/** Options for `startEmbeddedBroker`. */
export interface EmbeddedBrokerOptions {
  /** @default 0 (a free port) */
  port?: number
  /** @default '127.0.0.1' */
  host?: string
}

/**
 * Starts aedes on loopback, for the quickstart and for tests that need no external service.
 * Aedes speaks MQTT 3.1.1 only, so scenarios against it must set `version: '3.1.1'`.
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions = {}): Promise<EmbeddedBroker> {
  const { Aedes } = await importLib(() => import('aedes'), 'aedes', '@iotload/broker-mqtt')
  const aedes = await Aedes.createBroker()
  const server: Server = createServer(aedes.handle)
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  let closed: Promise<void> | undefined
  return {
    url: `mqtt://${host}:${port}`,
    port,
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        aedes.close()
      })
      return closed
    },
  }
}
