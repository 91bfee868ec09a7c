import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { createServer as createTlsServer, type TlsOptions } from 'node:tls'

/**
 * A relay in front of a broker that a test uses to fake network faults: cut every connection
 * (a crash), freeze them (a silent peer), refuse new ones, then accept again on the same port.
 */
export interface TcpProxy {
  /** Port the proxy listens on, on 127.0.0.1 (the same after `resume()`). */
  readonly port: number
  /** Client connections currently relayed. */
  readonly connections: number
  /** Resets every relayed connection, like a broker crash would; new connections are still accepted. */
  dropAll(): void
  /** Resets every relayed connection and stops accepting new ones until `resume()`: the broker is gone. */
  cut(): Promise<void>
  /** Stops relaying on every current connection without closing it: no FIN, no RST, only silence. */
  freeze(): void
  /** Accepts connections again, on the same port, after `cut()`. */
  resume(): Promise<void>
  /** Stops listening and drops every connection. Idempotent. */
  close(): Promise<void>
}

/** Options for `startTcpProxy`. */
export interface TcpProxyOptions {
  /**
   * Terminate TLS with these options (`cert`, `key`) and relay plaintext, so a plaintext broker can
   * be reached through a client's real TLS path. @default plain TCP
   */
  tls?: TlsOptions
}

/** Destroys a socket with a reset where the handle allows it (TLS sockets fall back to destroy). */
function reset(socket: Socket): void {
  try {
    socket.resetAndDestroy()
  } catch {
    socket.destroy()
  }
}

/**
 * Starts a relay from an ephemeral port on 127.0.0.1 to `host:port`.
 *
 * @example
 * const proxy = await startTcpProxy('127.0.0.1', 4222)
 * proxy.dropAll() // or: await proxy.cut(); ...; await proxy.resume()
 */
export async function startTcpProxy(
  host: string,
  port: number,
  options: TcpProxyOptions = {},
): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>()
  const onClient = (client: Socket) => {
    const upstream = tcpConnect(port, host)
    const pair: [Socket, Socket] = [client, upstream]
    pairs.add(pair)
    const teardown = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    // Errors are expected here (resets during a cut); the pair simply goes away.
    client.on('error', teardown).on('close', teardown)
    upstream.on('error', teardown).on('close', teardown)
    client.pipe(upstream)
    upstream.pipe(client)
  }
  const make = (): Server => {
    const server = options.tls ? createTlsServer(options.tls, onClient) : createServer(onClient)
    // A failed handshake (the unknown-CA tests abort it on purpose) is not the proxy's error.
    server.on('tlsClientError', () => undefined)
    return server
  }
  const listen = (server: Server, p: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject)
      server.listen(p, '127.0.0.1', () => {
        const address = server.address()
        if (address === null || typeof address === 'string') reject(new Error('tcp proxy: no port assigned'))
        else resolve(address.port)
      })
    })
  const dropAll = () => {
    for (const [client, upstream] of [...pairs]) {
      // A reset (not a FIN) is what a crashed server or a cut cable looks like to the client.
      reset(client)
      upstream.destroy()
    }
    pairs.clear()
  }
  const stop = async (s: Server) => {
    dropAll()
    await new Promise<void>((resolve) => s.close(() => resolve()))
  }

  let server: Server | undefined = make()
  const boundPort = await listen(server, 0)
  let closed = false
  return {
    port: boundPort,
    get connections() {
      return pairs.size
    },
    dropAll,
    async cut() {
      const s = server
      server = undefined
      if (s) await stop(s)
    },
    freeze() {
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream)
        upstream.unpipe(client)
        // Keep reading and discard, so a close from either side is still noticed here.
        client.on('data', () => undefined).resume()
        upstream.on('data', () => undefined).resume()
      }
    },
    async resume() {
      if (server || closed) return
      server = make()
      await listen(server, boundPort)
    },
    async close() {
      if (closed) return
      closed = true
      const s = server
      server = undefined
      if (s) await stop(s)
      else dropAll()
    },
  }
}
