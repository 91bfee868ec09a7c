import { once } from 'node:events'
import type { AddressInfo, Socket } from 'node:net'
import { connect } from 'node:net'
import { createServer } from 'node:tls'

/** A TLS-terminating relay: wss:// on its port, plain ws:// to the broker behind it. */
export interface TlsProxy {
  readonly port: number
  close(): Promise<void>
}

/**
 * Puts TLS in front of the standalone broker's WebSocket port, which serves plain HTTP only, so
 * the wss:// path (certificate checks included) runs against the real WebSocket API.
 */
export async function startTlsProxy(
  host: string,
  port: number,
  cert: Buffer,
  key: Buffer,
): Promise<TlsProxy> {
  const sockets = new Set<Socket>()
  const server = createServer({ cert, key }, (client) => {
    const upstream = connect(port, host)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream).pipe(client)
  })
  server.on('tlsClientError', () => undefined) // the unknown-CA test aborts handshakes on purpose
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
