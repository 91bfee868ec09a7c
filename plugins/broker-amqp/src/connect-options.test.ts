import { describe, expect, it } from 'vitest'
import { amqpConfigSchema } from './config.ts'
import { toConnectionError } from './connect-error.ts'
import { connectTarget, DEFAULT_CREDENTIALS, heartbeatSeconds, resolveLogin } from './connect-options.ts'

describe('resolveLogin', () => {
  it('falls back to guest/guest explicitly when no credentials are given', () => {
    expect(resolveLogin(undefined)).toEqual(DEFAULT_CREDENTIALS)
    expect(resolveLogin({})).toEqual({ username: 'guest', password: 'guest' })
  })

  it('uses the given credentials, a token standing in for the password', () => {
    expect(resolveLogin({ username: 'dev-1', password: 'pw' })).toEqual({ username: 'dev-1', password: 'pw' })
    expect(resolveLogin({ username: 'x', token: 'jwt' })).toEqual({ username: 'x', password: 'jwt' })
    expect(resolveLogin({ username: 'only' })).toEqual({ username: 'only', password: '' })
  })
})

describe('connectTarget', () => {
  it('splits the URL and defaults the vhost to /', () => {
    const c = amqpConfigSchema.parse({ url: 'amqp://127.0.0.1:5673', heartbeat: '500ms' })
    expect(connectTarget(c, { username: 'u', password: 'p' })).toEqual({
      protocol: 'amqp',
      hostname: '127.0.0.1',
      port: 5673,
      vhost: '/',
      username: 'u',
      password: 'p',
      heartbeat: 1,
    })
  })

  it('decodes a vhost and defaults the amqps port', () => {
    const c = amqpConfigSchema.parse({ url: 'amqps://[::1]/my%2Fvhost', heartbeat: 0 })
    const t = connectTarget(c, { username: 'u', password: 'p' })
    expect(t).toMatchObject({
      protocol: 'amqps',
      hostname: '::1',
      port: 5671,
      vhost: 'my/vhost',
      heartbeat: 0,
    })
  })

  it('rounds the heartbeat to whole seconds', () => {
    expect(heartbeatSeconds(0)).toBe(0)
    expect(heartbeatSeconds(200)).toBe(1)
    expect(heartbeatSeconds(30_000)).toBe(30)
  })
})

describe('toConnectionError', () => {
  const url = 'amqp://127.0.0.1:5672'
  it.each([
    [new Error('Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED"'), 'auth'],
    [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5672'), { code: 'ECONNREFUSED' }),
      'unreachable',
    ],
    [
      Object.assign(new Error('unable to verify the first certificate'), {
        code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      }),
      'tls',
    ],
    [new Error('connect ETIMEDOUT'), 'timeout'],
    [new Error('Channel closed by server: 406 (PRECONDITION-FAILED)'), 'protocol'],
  ])('%s → %s', (err, kind) => {
    const e = toConnectionError(err, url)
    expect(e.kind).toBe(kind)
    expect(e.message).toContain('127.0.0.1:5672')
  })
})
