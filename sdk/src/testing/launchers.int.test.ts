import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { afterEach, describe, expect, it } from 'vitest'
import { startMosquitto } from './mosquitto.ts'
import { natsServerBin, startNatsServer } from './nats-server.ts'
import { type PrivateServer, requireBinary } from './private-server.ts'
import { isPortOpen } from './require-service.ts'
import { makeTestCerts } from './test-certs.ts'

const mosquitto = requireBinary('mosquitto', 'Debian package mosquitto')
const nats = requireBinary(natsServerBin(), 'Debian package nats-server, or set NATS_SERVER_BIN')
const started: PrivateServer[] = []
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()))
})

/** First bytes a server sends after a TCP connect (NATS greets with INFO). */
function greeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1')
    s.once('data', (d) => {
      resolve(d.toString())
      s.destroy()
    })
    s.once('error', reject)
  })
}

describe.skipIf(!mosquitto)('startMosquitto', () => {
  it('a plain listener that can crash and come back on the same port', async () => {
    const broker = await startMosquitto()
    started.push(broker)
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`)
    await broker.kill()
    expect(await isPortOpen('127.0.0.1', broker.port, 300)).toBe(false)
    await broker.restart()
    expect(await isPortOpen('127.0.0.1', broker.port)).toBe(true)
  })

  it('a TLS listener with the kit certificates and a password file', async () => {
    const certs = makeTestCerts({ clients: { client: 'ca' } })
    try {
      const broker = await startMosquitto({
        tls: { certs, requireCertificate: true },
        users: { 'device-1': 'pw-123456' },
      })
      started.push(broker)
      expect(broker.url).toBe(`mqtts://127.0.0.1:${broker.port}`)
      const client = certs.clients.client!
      const s = tlsConnect({
        port: broker.port,
        host: '127.0.0.1',
        ca: certs.caPem,
        cert: readFileSync(client.certFile),
        key: readFileSync(client.keyFile),
      })
      await new Promise<void>((resolve, reject) => s.once('secureConnect', resolve).once('error', reject))
      expect(s.authorized).toBe(true)
      s.destroy()
    } finally {
      await Promise.all(started.splice(0).map((s) => s.stop()))
      certs.cleanup()
    }
  })
})

describe.skipIf(!nats)('startNatsServer', () => {
  it('starts with extra arguments and greets with INFO', async () => {
    const server = await startNatsServer(['--user', 'u', '--pass', 'p-123456'])
    started.push(server)
    expect(await greeting(server.port)).toMatch(/^INFO .*"auth_required":true/)
  })
})
