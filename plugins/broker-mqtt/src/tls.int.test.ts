import { randomUUID } from 'node:crypto'
import {
  createTestContext,
  Inbox,
  makeTestCerts,
  type PrivateMosquitto,
  requireBinary,
  startMosquitto,
  type TestCerts,
} from '@iotload/sdk/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mqttConfigSchema } from './config.ts'
import { mqttPlugin } from './plugin.ts'

const installed = requireBinary('mosquitto', 'Debian package mosquitto')
const username = 'device-1'
const password = `pw-${randomUUID().slice(0, 12)}`
let certs: TestCerts
let broker: PrivateMosquitto

beforeAll(async () => {
  if (!installed) return
  // A client certificate the broker trusts, and a rogue one signed by a CA it does not.
  certs = makeTestCerts({ prefix: 'iotload-mqtt-tls-', clients: { client: 'ca', rogue: 'other-ca' } })
  broker = await startMosquitto({
    tls: { certs, requireCertificate: true },
    users: { [username]: password },
  })
})
afterAll(async () => {
  await broker?.stop()
  certs?.cleanup()
})

function config(tls: Record<string, unknown>) {
  return mqttConfigSchema.parse({ url: broker.url, version: '5', connectTimeout: '5s', tls })
}

function goodTls(extra: Record<string, unknown> = {}) {
  const client = certs.clients.client!
  return { ca: certs.caFile, cert: client.certFile, key: client.keyFile, ...extra }
}

describe.skipIf(!installed)('broker-mqtt over TLS against a private Mosquitto', () => {
  it('connects with the right CA, client certificate and password, and round-trips', async () => {
    const ctx = createTestContext({ clientId: `tls-${randomUUID()}`, credentials: { username, password } })
    const conn = await mqttPlugin.connect(config(goodTls()), ctx)
    const c = new Inbox()
    await conn.subscribe('tls/test', c.push, { qos: 1 })
    await conn.publish('tls/test', { payload: Buffer.from('secure'), qos: 1 })
    await c.waitForCount(1)
    expect(c.texts()).toEqual(['secure'])
    await conn.close()
    expect(ctx.lines.join('\n')).not.toContain(password)
  })

  it('rejects a broker certificate from an unknown CA with kind tls', async () => {
    const ctx = createTestContext({ clientId: 'tls-unknown-ca', credentials: { username, password } })
    const err = await mqttPlugin
      .connect(config(goodTls({ ca: certs.otherCaFile })), ctx)
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ kind: 'tls', code: 'TLS_FAILED' })
    expect(String((err as Error).message)).toMatch(/TLS handshake with mqtts:\/\/127\.0\.0\.1/)
  })

  it('rejects a wrong password with kind auth, without echoing it', async () => {
    const ctx = createTestContext({
      clientId: 'tls-bad-password',
      credentials: { username, password: 'wrong-password-123' },
    })
    const err = await mqttPlugin.connect(config(goodTls()), ctx).catch((e: unknown) => e)
    expect(err).toMatchObject({ kind: 'auth', code: 'AUTH_FAILED' })
    expect(String((err as Error).message)).not.toContain('wrong-password-123')
  })

  it('rejects a client certificate the broker does not trust with kind tls', async () => {
    const ctx = createTestContext({ clientId: 'tls-rogue-cert', credentials: { username, password } })
    const err = await mqttPlugin
      .connect(
        config(goodTls({ cert: certs.clients.rogue!.certFile, key: certs.clients.rogue!.keyFile })),
        ctx,
      )
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ kind: 'tls' })
  })

  it('skips verification only when verify is false', async () => {
    const ctx = createTestContext({ clientId: 'tls-noverify', credentials: { username, password } })
    const conn = await mqttPlugin.connect(config(goodTls({ ca: certs.otherCaFile, verify: false })), ctx)
    await conn.close()
  })
})
