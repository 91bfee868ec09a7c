import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ConnectionCredentials } from '@iotload/sdk'
import { afterEach, describe, expect, it } from 'vitest'
import { pulsarConfigSchema } from './config.ts'
import { pulsarPlugin } from './plugin.ts'

// A plain HTTP server stands in for the upgrade answers of Pulsar's WebSocket service (the
// standalone broker runs without auth, so it cannot answer 401 itself).
let server: Server | undefined
const requests: IncomingMessage[] = []

async function serve(status: number | 'hang'): Promise<string> {
  server = createServer()
  server.on('upgrade', (req, socket) => {
    requests.push(req)
    if (status === 'hang') return
    socket.end(`HTTP/1.1 ${status} Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}`
}

function connect(url: string, credentials?: ConnectionCredentials, extra: Record<string, unknown> = {}) {
  return pulsarPlugin.connect(pulsarConfigSchema.parse({ url, connectTimeout: '500ms', ...extra }), {
    role: 'consumer',
    clientId: 'unit',
    credentials,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  })
}

afterEach(async () => {
  requests.length = 0
  server?.closeAllConnections()
  server?.close()
  server = undefined
})

describe('connect failures', () => {
  it('maps 401 to kind auth, sends the token as a Bearer header and never echoes it', async () => {
    const url = await serve(401)
    const err = await connect(url, { token: 'tok-very-secret' }).catch((e: unknown) => e)
    expect(err).toMatchObject({ name: 'ConnectionError', kind: 'auth', code: 'AUTH_FAILED' })
    expect((err as Error).message).toContain(url)
    expect((err as Error).message).not.toContain('tok-very-secret')
    expect(requests[0]?.headers.authorization).toBe('Bearer tok-very-secret')
    expect(requests[0]?.url).toMatch(/^\/ws\/v2\/reader\/persistent\/public\/default\/iotload-probe/)
  })

  it('sends the token as a query parameter with authIn: query, still kept out of the message', async () => {
    const url = await serve(403)
    const err = await connect(url, { token: 'tok-very-secret' }, { authIn: 'query' }).catch((e: unknown) => e)
    expect(err).toMatchObject({ name: 'ConnectionError', kind: 'auth' })
    expect((err as Error).message).not.toContain('tok-very-secret')
    expect(new URL(requests[0]?.url ?? '', url).searchParams.get('token')).toBe('tok-very-secret')
    expect(requests[0]?.headers.authorization).toBeUndefined()
  })

  it('sends username/password as Basic auth', async () => {
    const url = await serve(401)
    await connect(url, { username: 'dev-1', password: 'pw-secret' }).catch(() => undefined)
    expect(requests[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('dev-1:pw-secret').toString('base64')}`,
    )
  })

  it('maps 404 to protocol and a silent server to timeout', async () => {
    const url404 = await serve(404)
    await expect(connect(url404)).rejects.toMatchObject({
      kind: 'protocol',
      message: /webSocketServiceEnabled/,
    })
    server?.close()
    const hang = await serve('hang')
    await expect(connect(hang)).rejects.toMatchObject({ kind: 'timeout' })
  })
})
