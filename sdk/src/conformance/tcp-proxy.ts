import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'

/** A TCP relay in front of a broker that a test can use to cut every client connection at once. */
export interface TcpProxy {
  /** Port the proxy listens on, on 127.0.0.1. */
  readonly port: number
  /** Number of client connections currently relayed. */
  readonly connections: number
  /** Destroys every relayed socket pair, like a broker crash would; new connections are still accepted. */
  dropAll(): void
  /** Stops listening and drops every connection. Idempotent. */
  close(): Promise<void>
}

/**
 * Starts a TCP relay from an ephemeral port on 127.0.0.1 to `host:port`.
 *
 * @example
 * const proxy = await startTcpProxy('127.0.0.1', 4222)
 * proxy.dropAll()
 */
export async function startTcpProxy(host: string, port: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>()
  let closed = false
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(port, host)
    const pair: [Socket, Socket] = [client, upstream]
    pairs.add(pair)
    const teardown = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    // Errors are expected here (resets during dropAll); the pair simply goes away.
    client.on('error', teardown).on('close', teardown)
    upstream.on('error', teardown).on('close', teardown)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('tcp proxy: no port assigned')

  const dropAll = () => {
    for (const [client, upstream] of [...pairs]) {
      // A reset (not a FIN) is what a crashed server or a cut cable looks like to the client.
      client.resetAndDestroy()
      upstream.destroy()
    }
    pairs.clear()
  }
  return {
    port: address.port,
    get connections() {
      return pairs.size
    },
    dropAll,
    async close() {
      if (closed) return
      closed = true
      dropAll()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
