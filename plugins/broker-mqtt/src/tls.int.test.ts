import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mqttConfigSchema } from './config.ts'
import { mqttPlugin } from './plugin.ts'
import { collector, testContext } from './testing/collect.ts'
import { startTlsMosquitto, type TlsMosquitto } from './testing/tls-mosquitto.ts'

let broker: TlsMosquitto

beforeAll(async () => {
  broker = await startTlsMosquitto()
})
afterAll(async () => {
  await broker?.stop()
})

function config(tls: Record<string, unknown>) {
  return mqttConfigSchema.parse({
    url: `mqtts://127.0.0.1:${broker.port}`,
    version: '5',
    connectTimeout: '5s',
    tls,
  })
}

function goodTls(extra: Record<string, unknown> = {}) {
  return { ca: broker.caPath, cert: broker.clientCertPath, key: broker.clientKeyPath, ...extra }
}

describe('broker-mqtt over TLS against a private Mosquitto', () => {
  it('connects with the right CA, client certificate and password, and round-trips', async () => {
    const ctx = testContext(`tls-${randomUUID()}`, {
      credentials: { username: broker.username, password: broker.password },
    })
    const conn = await mqttPlugin.connect(config(goodTls()), ctx)
    const c = collector(1)
    await conn.subscribe('tls/test', c.onMessage, { qos: 1 })
    await conn.publish('tls/test', { payload: Buffer.from('secure'), qos: 1 })
    await c.finished
    expect(c.received[0]?.payload.toString()).toBe('secure')
    await conn.close()
    expect(ctx.lines.join('\n')).not.toContain(broker.password)
  })

  it('rejects a broker certificate from an unknown CA with kind tls', async () => {
    const ctx = testContext('tls-unknown-ca', {
      credentials: { username: broker.username, password: broker.password },
    })
    const err = await mqttPlugin
      .connect(config(goodTls({ ca: broker.rogueCaPath })), ctx)
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ kind: 'tls', code: 'TLS_FAILED' })
    expect(String((err as Error).message)).toMatch(/TLS handshake with mqtts:\/\/127\.0\.0\.1/)
  })

  it('rejects a wrong password with kind auth, without echoing it', async () => {
    const ctx = testContext('tls-bad-password', {
      credentials: { username: broker.username, password: 'wrong-password-123' },
    })
    const err = await mqttPlugin.connect(config(goodTls()), ctx).catch((e: unknown) => e)
    expect(err).toMatchObject({ kind: 'auth', code: 'AUTH_FAILED' })
    expect(String((err as Error).message)).not.toContain('wrong-password-123')
  })

  it('rejects a client certificate the broker does not trust with kind tls', async () => {
    const ctx = testContext('tls-rogue-cert', {
      credentials: { username: broker.username, password: broker.password },
    })
    const err = await mqttPlugin
      .connect(config(goodTls({ cert: broker.rogueCertPath, key: broker.rogueKeyPath })), ctx)
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ kind: 'tls' })
  })

  it('skips verification only when verify is false', async () => {
    const ctx = testContext('tls-noverify', {
      credentials: { username: broker.username, password: broker.password },
    })
    const conn = await mqttPlugin.connect(config(goodTls({ ca: broker.rogueCaPath, verify: false })), ctx)
    await conn.close()
  })
})
