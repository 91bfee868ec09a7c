import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { createServer as createTlsServer, type TlsOptions } from 'node:tls'

/** A local forwarder for tests that can cut every connection, as a broker outage would. */
export interface TestProxy {
  readonly port: number
  /** Destroys every forwarded connection and stops accepting new ones. */
  cut(): Promise<void>
  /** Stops forwarding on every current connection without closing it: a silent peer. */
  freeze(): void
  /** Accepts connections again, on the same port. */
  resume(): Promise<void>
  /** Connections currently forwarded. */
  readonly open: number
  close(): Promise<void>
}

/** TLS options for a TLS-terminating proxy; plain TCP when absent. */
export type ProxyTls = TlsOptions

/**
 * Forwards 127.0.0.1:<ephemeral> to `host:port`. With `tls`, it terminates TLS itself and
 * forwards plaintext, so a plaintext broker can be reached through a real amqps client path.
 */
export async function startProxy(host: string, port: number, tls?: ProxyTls): Promise<TestProxy> {
  const sockets = new Set<Socket>()
  const pairs = new Set<[Socket, Socket]>()
  const onClient = (client: Socket) => {
    const upstream = tcpConnect(port, host)
    sockets.add(client)
    sockets.add(upstream)
    const pair: [Socket, Socket] = [client, upstream]
    pairs.add(pair)
    const drop = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
      pairs.delete(pair)
    }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream)
    upstream.pipe(client)
  }
  const make = (): Server => {
    const server = tls ? createTlsServer(tls, onClient) : createServer(onClient)
    // A failed TLS handshake (unknown CA on the client side) is expected in tests; not an error here.
    server.on('tlsClientError', () => {})
    return server
  }
  const listen = (server: Server, p: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject)
      server.listen(p, '127.0.0.1', () => {
        const addr = server.address()
        resolve(typeof addr === 'object' && addr ? addr.port : p)
      })
    })
  const stop = (server: Server) =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      sockets.clear()
      server.close(() => resolve())
    })

  let server: Server | null = make()
  const boundPort = await listen(server, 0)
  return {
    port: boundPort,
    get open() {
      return sockets.size / 2
    },
    freeze() {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream)
        upstream.unpipe(client)
        // Keep reading and discard, so a close from either side is still noticed here.
        client.on('data', () => {}).resume()
        upstream.on('data', () => {}).resume()
      }
    },
    async cut() {
      if (server) await stop(server)
      server = null
    },
    async resume() {
      if (server) return
      server = make()
      await listen(server, boundPort)
    },
    async close() {
      if (server) await stop(server)
      server = null
    },
  }
}
