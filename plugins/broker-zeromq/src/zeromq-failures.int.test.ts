import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import {
  type BrokerConnection,
  ClosedError,
  ConfigError,
  ConnectionError,
  type ConnectionStatus,
  PublishError,
} from '@iotload/sdk'
import { freePort, Inbox, isPortFree, sleep, waitFor } from '@iotload/sdk/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { closeOpened, conn, connectRole, enc, runId, tcp } from './testing/helpers.ts'

// Brokerless: every peer is created by the test itself on 127.0.0.1, so there is no external
// service for requireService to check. What could be missing is the native addon; fail loudly.
afterEach(closeOpened)

describe('broker-zeromq against real sockets: failures and lifecycle', () => {
  it('a producer with no peer fails with kind unreachable after connectTimeoutMs', async () => {
    const endpoint = tcp(await freePort())
    const err = await conn({ endpoint, connectTimeoutMs: 300 }, 'producer').catch((e) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect((err as ConnectionError).kind).toBe('unreachable')
    expect((err as Error).message).toContain(endpoint)
  })

  it('a second bind on a taken endpoint fails with kind unreachable', async () => {
    const endpoint = tcp(await freePort())
    await conn({ endpoint }, 'consumer')
    const err = await conn({ endpoint }, 'consumer').catch((e) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect((err as Error).message).toMatch(/cannot bind/)
  })

  it('a role without an endpoint is a ConfigError naming the path', async () => {
    const err = await conn({ endpoints: { producer: { connect: 'tcp://127.0.0.1:1' } } }, 'consumer').catch(
      (e) => e,
    )
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as ConfigError).path).toBe('broker.endpoints.consumer')
  })

  it('refuses to publish from a receiving role and after close', async () => {
    const endpoint = tcp(await freePort())
    const consumer = await conn({ endpoint }, 'consumer')
    await expect(consumer.publish('x', { payload: new Uint8Array(1) })).rejects.toBeInstanceOf(PublishError)
    const producer = await conn({ endpoint }, 'producer')
    await expect(producer.subscribe('x', () => {})).rejects.toBeInstanceOf(ConfigError)
    await producer.close()
    await producer.close()
    await expect(producer.publish('x', { payload: new Uint8Array(1) })).rejects.toBeInstanceOf(ClosedError)
  })

  it('reports disconnected, reconnecting and reconnected when the bound peer restarts', async () => {
    const port = await freePort()
    const endpoint = tcp(port)
    const consumer = await connectRole({ endpoint }, 'consumer')
    const statuses: ConnectionStatus[] = []
    const producer = await conn({ endpoint }, 'producer', statuses)
    expect(statuses).toEqual([])
    await consumer.close()
    await waitFor(() => statuses.includes('disconnected'), 5000, 'disconnected')
    expect(await isPortFree(port)).toBe(true)
    await waitFor(() => statuses.includes('reconnecting'), 5000, 'reconnecting')
    const again = await conn({ endpoint }, 'consumer')
    const box = new Inbox()
    await again.subscribe(`${runId}/re`, box.push)
    await waitFor(() => statuses.includes('reconnected'), 5000, 'reconnected')
    expect(statuses.indexOf('disconnected')).toBeLessThan(statuses.indexOf('reconnected'))
    await waitFor(
      () => {
        void producer.publish(`${runId}/re`, { payload: enc.encode('after') })
        return box.messages.length > 0
      },
      5000,
      'delivery after reconnect',
    )
  })

  it('a bound consumer reports disconnected when its last peer leaves and reconnected when one returns', async () => {
    const endpoint = tcp(await freePort())
    const statuses: ConnectionStatus[] = []
    await conn({ endpoint }, 'consumer', statuses)
    const p1 = await connectRole({ endpoint }, 'producer')
    const p2 = await connectRole({ endpoint }, 'producer')
    await p1.close()
    await sleep(200)
    expect(statuses).toEqual([])
    await p2.close()
    await waitFor(() => statuses.length === 1, 5000, 'disconnected')
    await conn({ endpoint }, 'producer')
    await waitFor(() => statuses.length === 2, 5000, 'reconnected')
    expect(statuses).toEqual(['disconnected', 'reconnected'])
  })

  it('opens 400 device connections in one process (libzmq caps a default context at 1023 sockets)', async () => {
    const endpoint = tcp(await freePort())
    const consumer = await conn({ endpoint }, 'consumer')
    const box = new Inbox()
    await consumer.subscribe(`${runId}/many/+`, box.push)
    const devices: BrokerConnection[] = []
    for (let batch = 0; batch < 4; batch++) {
      devices.push(...(await Promise.all(Array.from({ length: 100 }, () => conn({ endpoint }, 'producer')))))
    }
    await Promise.all(devices.map((d, i) => d.publish(`${runId}/many/${i}`, { payload: enc.encode(`${i}`) })))
    await waitFor(() => box.messages.length === 400, 10_000, '400 messages')
    expect(new Set(box.messages.map((m) => m.topic)).size).toBe(400)
  }, 60_000)

  it('close releases the bound port', async () => {
    const port = await freePort()
    const consumer = await connectRole({ endpoint: tcp(port) }, 'consumer')
    expect(await isPortFree(port)).toBe(false)
    await consumer.close()
    expect(await isPortFree(port)).toBe(true)
  })

  for (const mode of ['pubsub', 'pushpull']) {
    it(`a process that used and closed ${mode} connections exits on its own (no leaked handles)`, async () => {
      const port = await freePort()
      const script = fileURLToPath(new URL('./testing/leak-child.ts', import.meta.url))
      const child = spawn(process.execPath, ['--import', 'tsx', script, String(port), mode], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let out = ''
      let err = ''
      child.stdout.on('data', (d) => (out += d))
      child.stderr.on('data', (d) => (err += d))
      const code = await new Promise<number | string>((resolve) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL')
          resolve('timeout')
        }, 20_000)
        child.once('exit', (c) => {
          clearTimeout(timer)
          resolve(c ?? 'signal')
        })
      })
      expect({ code, err }).toEqual({ code: 0, err: '' })
      expect(JSON.parse(out.trim())).not.toContain('Timeout')
    }, 30_000)
  }
})
