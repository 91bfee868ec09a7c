import { createServer, type Server, type Socket, connect } from 'node:net'

/** A TCP relay that holds every client→server chunk for a fixed time (what `tc netem delay` would do). */
export interface DelayRelay {
  readonly port: number
  close(): Promise<void>
}

/**
 * Listens on 127.0.0.1 and relays each connection to `target`, delaying the client→server
 * direction by `delayMs` (chunks keep their order); server→client is passed on at once. It stands
 * in for netem, which this kernel lacks: only the publishing leg is slowed.
 */
export async function startDelayRelay(
  target: { host: string; port: number },
  delayMs: number,
): Promise<DelayRelay> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host)
    sockets.add(client)
    sockets.add(upstream)
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    const done = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('data', (chunk) => {
      setTimeout(() => {
        if (!upstream.destroyed) upstream.write(chunk)
      }, delayMs)
    })
    client.on('end', () => setTimeout(() => upstream.end(), delayMs))
    upstream.pipe(client)
    client.on('error', done)
    upstream.on('error', done)
    client.on('close', () => setTimeout(done, delayMs))
    upstream.on('close', done)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
