import { createServer, type Socket, connect as tcpConnect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { handleCounts, settleHandles } from './handles.ts'
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts'

/** A real echo server on an ephemeral port; the proxy needs something to relay to. */
async function echoServer() {
  const sockets = new Set<Socket>()
  const server = createServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s)).on('error', () => undefined)
    s.pipe(s)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as { port: number }).port
  return {
    port,
    close: () => {
      for (const s of sockets) s.destroy()
      return new Promise<void>((r) => server.close(() => r()))
    },
  }
}

function dial(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = tcpConnect(port, '127.0.0.1', () => resolve(s))
    s.once('error', reject)
  })
}

function echo(s: Socket, text: string): Promise<string> {
  return new Promise((resolve) => {
    s.once('data', (d) => resolve(d.toString()))
    s.write(text)
  })
}

describe('startTcpProxy', () => {
  const cleanup: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c()
  })

  it('relays bytes, drops every connection on dropAll, and keeps accepting', async () => {
    const baseline = handleCounts()
    const server = await echoServer()
    cleanup.push(server.close)
    const proxy: TcpProxy = await startTcpProxy('127.0.0.1', server.port)
    cleanup.push(() => proxy.close())

    const a = await dial(proxy.port)
    expect(await echo(a, 'ping')).toBe('ping')
    expect(proxy.connections).toBe(1)

    const closed = new Promise<boolean>((r) => a.once('close', (hadError) => r(hadError)))
    a.on('error', () => undefined)
    proxy.dropAll()
    await closed
    expect(proxy.connections).toBe(0)

    const b = await dial(proxy.port)
    expect(await echo(b, 'again')).toBe('again')
    b.destroy()

    await proxy.close()
    await proxy.close()
    await server.close()
    cleanup.length = 0
    expect(await settleHandles(baseline)).toEqual([])
  })
})
