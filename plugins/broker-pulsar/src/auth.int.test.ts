import type { ConnectionCredentials } from '@iotload/sdk'
import { createTestContext, Inbox, requireService } from '@iotload/sdk/testing'
import { describe, expect, it } from 'vitest'
import { pulsarConfigSchema } from './config.ts'
import { pulsarPlugin } from './plugin.ts'
import { AUTH_PROXY_PORT, readTestToken } from './testing/auth-proxy.ts'

// Pulsar's WebSocket proxy with token authentication (started by scripts/services/pulsar.sh)
// in front of the standalone broker, which itself runs without auth.
const up = await requireService('Pulsar WebSocket proxy with token auth', '127.0.0.1', AUTH_PROXY_PORT)
const url = `ws://127.0.0.1:${AUTH_PROXY_PORT}`
const run = `auth-${process.pid}-${Date.now().toString(36)}`

function connect(credentials: ConnectionCredentials | undefined, extra: Record<string, unknown> = {}) {
  return pulsarPlugin.connect(
    pulsarConfigSchema.parse({ url, ...extra }),
    createTestContext({
      role: 'producer',
      clientId: `${run}-${Math.random().toString(36).slice(2)}`,
      ...(credentials ? { credentials } : {}),
    }),
  )
}

describe.skipIf(!up)('broker-pulsar token auth against a real WebSocket proxy', () => {
  const token = up ? readTestToken() : ''

  it.each([
    ['a wrong token', { token: `${token.slice(0, -6)}AAAAAA` }],
    ['no token', undefined],
  ])('%s: connect rejects with kind auth naming the URL, never the token', async (_, credentials) => {
    const err = await connect(credentials).catch((e: unknown) => e)
    expect(err).toMatchObject({ name: 'ConnectionError', kind: 'auth', code: 'AUTH_FAILED' })
    expect((err as Error).message).toContain(url)
    expect((err as Error).message).not.toContain(token.slice(-20))
  })

  it.each(['header', 'query'])('a valid token (authIn: %s) publishes and receives', async (authIn) => {
    const pub = await connect({ token }, { authIn })
    const sub = await pulsarPlugin.connect(
      pulsarConfigSchema.parse({ url, authIn }),
      createTestContext({ role: 'consumer', clientId: `${run}-sub-${authIn}`, credentials: { token } }),
    )
    try {
      const got = new Inbox()
      const topic = `${run}-${authIn}`
      await sub.subscribe(topic, got.push)
      await pub.publish(topic, { payload: new TextEncoder().encode('hello'), qos: 1 })
      await got.waitForCount(1)
      expect(got.texts()).toEqual(['hello'])
    } finally {
      await Promise.all([pub.close(), sub.close()])
    }
  })
})
