import { ConnectionError } from '@iotload/sdk'
import { createTestContext, freePort, Inbox } from '@iotload/sdk/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { natsConfigSchema } from './config.ts'
import plugin from './plugin.ts'
import { startPrivateServers } from './testing/private-servers.ts'

const servers = await startPrivateServers()
afterAll(async () => {
  await servers?.stop()
})

async function connectError(
  url: string,
  credentials?: { username?: string; password?: string; token?: string },
) {
  const config = natsConfigSchema.parse({ url, connectTimeoutMs: 3000 })
  return plugin
    .connect(config, createTestContext({ role: 'producer', ...(credentials ? { credentials } : {}) }))
    .then(
      async (conn) => {
        await conn.close()
        return undefined
      },
      (err: unknown) => err,
    )
}

describe.skipIf(!servers)('nats connect errors against private nats-servers', () => {
  it('a wrong password is ConnectionError kind auth naming the URL, never the password', async () => {
    const s = servers!
    const url = `nats://127.0.0.1:${s.userPass.port}`
    const wrong = `wrong-${s.password}`
    const err = await connectError(url, { username: s.user, password: wrong })
    expect(err).toBeInstanceOf(ConnectionError)
    expect((err as ConnectionError).kind).toBe('auth')
    expect((err as Error).message).toContain(url)
    expect((err as Error).message).not.toContain(wrong)
    expect((err as Error).message).toMatch(/^\[broker-nats\] authentication failed at/)
  })

  it('token auth: the right token connects and round-trips, a wrong or missing one is kind auth', async () => {
    const s = servers!
    const url = `nats://127.0.0.1:${s.token.port}`
    expect(((await connectError(url, { token: 'nope-nope' })) as ConnectionError).kind).toBe('auth')
    expect(((await connectError(url)) as ConnectionError).kind).toBe('auth')
    const conn = await plugin.connect(
      natsConfigSchema.parse({ url }),
      createTestContext({ role: 'producer', credentials: { token: s.tokenValue } }),
    )
    try {
      const got = new Inbox()
      await conn.subscribe('tok.x', got.push)
      await conn.publish('tok.x', { payload: Buffer.from('hi') })
      await got.waitForCount(1)
      expect(got.texts()).toEqual(['hi'])
    } finally {
      await conn.close()
    }
  })

  it('a closed port is kind unreachable', async () => {
    const err = await connectError(`nats://127.0.0.1:${await freePort()}`)
    expect((err as ConnectionError).kind).toBe('unreachable')
  })
})
