import { createServer, type Socket, connect as tcpConnect } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { afterEach, describe, expect, it } from 'vitest'
import { handleCounts, settleHandles } from './handles.ts'
import { startTcpProxy } from './tcp-proxy.ts'
import { makeTestCerts } from './test-certs.ts'
import { sleep, waitFor } from './wait.ts'

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

  it('relays bytes, resets every connection on dropAll, and keeps accepting', async () => {
    const baseline = handleCounts()
    const server = await echoServer()
    cleanup.push(server.close)
    const proxy = await startTcpProxy('127.0.0.1', server.port)
    cleanup.push(() => proxy.close())

    const a = await dial(proxy.port)
    expect(await echo(a, 'ping')).toBe('ping')
    expect(proxy.connections).toBe(1)

    const error = new Promise<string | undefined>((r) =>
      a.once('error', (e: NodeJS.ErrnoException) => r(e.code)),
    )
    proxy.dropAll()
    expect(await error).toBe('ECONNRESET')
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

  it('cut refuses new connections until resume, on the same port', async () => {
    const server = await echoServer()
    cleanup.push(server.close)
    const proxy = await startTcpProxy('127.0.0.1', server.port)
    cleanup.push(() => proxy.close())
    const a = await dial(proxy.port)
    a.on('error', () => undefined)
    const closed = new Promise<void>((r) => a.once('close', () => r()))
    await proxy.cut()
    await closed
    await expect(dial(proxy.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' })
    await proxy.resume()
    const b = await dial(proxy.port)
    expect(await echo(b, 'back')).toBe('back')
    b.destroy()
  })

  it('freeze keeps connections open but silent', async () => {
    const server = await echoServer()
    cleanup.push(server.close)
    const proxy = await startTcpProxy('127.0.0.1', server.port)
    cleanup.push(() => proxy.close())
    const a = await dial(proxy.port)
    expect(await echo(a, 'one')).toBe('one')
    proxy.freeze()
    const got: string[] = []
    a.on('data', (d) => got.push(d.toString()))
    a.write('two')
    await sleep(200)
    expect(got).toEqual([])
    expect(a.destroyed).toBe(false)
    expect(proxy.connections).toBe(1)
    a.destroy()
    await waitFor(() => proxy.connections === 0, 2000, 'the frozen pair to go away')
  })

  it('terminates TLS and relays plaintext', async () => {
    const certs = makeTestCerts()
    cleanup.push(async () => certs.cleanup())
    const server = await echoServer()
    cleanup.push(server.close)
    const proxy = await startTcpProxy('127.0.0.1', server.port, { tls: { cert: certs.cert, key: certs.key } })
    cleanup.push(() => proxy.close())
    const s = tlsConnect({ port: proxy.port, host: '127.0.0.1', ca: certs.caPem })
    await new Promise<void>((resolve, reject) => s.once('secureConnect', resolve).once('error', reject))
    expect(await echo(s, 'secret')).toBe('secret')
    s.destroy()
    // An unknown CA fails the handshake on the client; the proxy shrugs it off.
    const other = tlsConnect({ port: proxy.port, host: '127.0.0.1' })
    await expect(
      new Promise((resolve, reject) => other.once('secureConnect', resolve).once('error', reject)),
    ).rejects.toThrow()
    other.destroy()
  })
})
