import net from 'node:net'
import type { PluginLogger } from '@iotload/sdk'
import { afterEach, describe, expect, it } from 'vitest'
import { StatusTracker } from '../status-tracker.ts'
import { BinaryClient } from './binary-client.ts'
import { Cmd, decodeFrame, lookupFrame } from './commands.ts'
import { FrameSplitter } from './frame-splitter.ts'
import { ProtoWriter } from './protobuf.ts'

const silent: PluginLogger = { debug() {}, info() {}, warn() {}, error() {} }
const servers: net.Server[] = []
const clients: BinaryClient[] = []

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
  for (const s of servers.splice(0)) s.close()
})

function frame(type: number, body: (w: ProtoWriter) => void): Buffer {
  const w = new ProtoWriter().uint(1, type)
  w.message(type, body)
  const cmd = w.finish()
  const out = Buffer.alloc(8 + cmd.length)
  out.writeUInt32BE(4 + cmd.length, 0)
  out.writeUInt32BE(cmd.length, 4)
  cmd.copy(out, 8)
  return out
}

/** A "broker" that completes the handshake, then answers what `answer` returns (nothing by default). */
async function fakeBroker(answer: (type: number) => Buffer | undefined = () => undefined): Promise<number> {
  const server = net.createServer((socket) => {
    const splitter = new FrameSplitter((bytes) => {
      const f = decodeFrame(bytes)
      if (f.type === Cmd.CONNECT) socket.write(frame(Cmd.CONNECTED, (w) => w.string(1, 'fake').uint(2, 15)))
      else {
        const reply = answer(f.type)
        if (reply) socket.write(reply)
      }
    })
    socket.on('data', (d) => splitter.push(d))
    socket.on('error', () => undefined)
  })
  servers.push(server)
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return (server.address() as net.AddressInfo).port
}

function client(port: number): BinaryClient {
  const c = new BinaryClient({
    host: '127.0.0.1',
    port,
    tls: undefined,
    auth: undefined,
    status: new StatusTracker(),
    logger: silent,
    reconnectMs: 100,
    connectTimeoutMs: 2000,
    where: `pulsar://127.0.0.1:${port}`,
  })
  clients.push(c)
  return c
}

describe('BinaryClient', () => {
  it('fails a request the broker never answers after its timeout, and forgets it', async () => {
    const c = client(await fakeBroker())
    await c.open()
    const t0 = Date.now()
    await expect(c.request((rid) => lookupFrame('persistent://public/default/x', rid), 300)).rejects.toThrow(
      /did not answer within 300 ms/,
    )
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250)
    expect((c as unknown as { requests: Map<number, unknown> }).requests.size).toBe(0)
  })

  it('cuts a broker error text to 200 characters before it reaches the caller', async () => {
    const long = 'E'.repeat(100_000)
    const c = client(
      await fakeBroker((type) =>
        type === Cmd.LOOKUP ? frame(Cmd.ERROR, (w) => w.uint(1, 1).uint(2, 0).string(3, long)) : undefined,
      ),
    )
    await c.open()
    const err = (await c.request((rid) => lookupFrame('t', rid)).catch((e: unknown) => e)) as Error
    expect(err.message.length).toBeLessThan(260)
  })
})
