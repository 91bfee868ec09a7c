import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { sleep, waitFor } from '@iotload/sdk/testing'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { ManagedSocket, type SocketEnv } from './managed-socket.ts'
import { StatusTracker } from './status-tracker.ts'

let server: WebSocketServer | undefined

afterEach(async () => {
  for (const c of server?.clients ?? []) c.terminate()
  await new Promise((r) => server?.close(r) ?? r(undefined))
  server = undefined
})

function env(statuses: string[] = []): SocketEnv {
  return {
    WebSocket,
    options: { perMessageDeflate: false },
    status: new StatusTracker((s) => statuses.push(s)),
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    reconnectMs: 20,
  }
}

async function listen(onConnection: (ws: WebSocket) => void): Promise<string> {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  server.on('connection', onConnection)
  await once(server, 'listening')
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}`
}

describe('ManagedSocket', () => {
  it('keeps a frame the server sends together with the handshake (a waiting backlog)', async () => {
    // Pulsar pushes backlog as soon as the consumer exists, often in the 101 response's packet.
    const url = await listen((ws) => ws.send('first'))
    const got: string[] = []
    const socket = new ManagedSocket(env(), url, { onMessage: (d) => got.push(d), onOpen() {}, onDown() {} })
    await socket.open()
    await sleep(100)
    expect(got).toEqual(['first'])
    await socket.close()
  })

  it('reopens after the server drops it and reports one outage', async () => {
    const statuses: string[] = []
    let opens = 0
    const url = await listen(() => undefined)
    const socket = new ManagedSocket(env(statuses), url, {
      onMessage() {},
      onOpen: () => opens++,
      onDown() {},
    })
    await socket.open()
    for (const c of server?.clients ?? []) c.terminate()
    await waitFor(
      () => statuses.includes('reconnected'),
      5000,
      () => `reconnected, statuses: [${statuses}]`,
    )
    expect(statuses).toEqual(['disconnected', 'reconnecting', 'reconnected'])
    expect(opens).toBe(2)
    expect(socket.isOpen).toBe(true)
    await socket.close()
    await socket.close()
    expect(socket.isOpen).toBe(false)
  })
})
