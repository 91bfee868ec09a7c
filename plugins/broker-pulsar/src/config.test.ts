import { describe, expect, it } from 'vitest'
import { pulsarConfigSchema } from './config.ts'

describe('pulsarConfigSchema', () => {
  it('applies the documented defaults to an empty section', () => {
    const c = pulsarConfigSchema.parse({})
    expect(c).toMatchObject({
      url: 'ws://127.0.0.1:8080',
      tenant: 'public',
      namespace: 'default',
      persistent: true,
      slashReplacement: '.',
      subscriptionType: 'Exclusive',
      groupSubscriptionType: 'Key_Shared',
      initialPosition: 'Latest',
      receiverQueueSize: 1000,
      ackMode: 'after-handler',
      authIn: 'header',
      probe: true,
      connectTimeout: 10_000,
      sendTimeout: 30_000,
    })
    expect(c.subscriptionMode).toBeUndefined()
  })

  it('parses durations with units and subscription types', () => {
    const c = pulsarConfigSchema.parse({
      url: 'wss://pulsar.example:8443',
      connectTimeout: '2s',
      reconnectPeriod: '250ms',
      subscriptionType: 'Shared',
      subscriptionMode: 'Durable',
      tls: { ca: '/tmp/ca.pem' },
    })
    expect(c.connectTimeout).toBe(2000)
    expect(c.reconnectPeriod).toBe(250)
    expect(c.subscriptionType).toBe('Shared')
    expect(c.tls?.verify).toBe(true)
  })

  it.each([
    [{ url: 'pulsar://127.0.0.1:6650/x' }, 'url'],
    [{ url: 'pulsar://127.0.0.1:6650', batching: true }, 'batching'],
    [{ url: 'pulsar://127.0.0.1:6650', authIn: 'query' }, 'authIn'],
    [{ url: 'pulsar://127.0.0.1:6650', tls: { ca: '/tmp/ca.pem' } }, 'tls'],
    [{ url: 'pulsar+ssl://h:6651', connectVia: 'proxy' }, 'connectVia'],
    [{ url: 'ws://127.0.0.1:8080/ws/v2' }, 'url'],
    [{ subscriptionType: 'exclusive' }, 'subscriptionType'],
    [{ tenant: 'a/b' }, 'tenant'],
    [{ slashReplacement: '/' }, 'slashReplacement'],
    [{ receiverQueueSize: 0 }, 'receiverQueueSize'],
    [{ unknownKey: 1 }, ''],
  ])('rejects %j', (input, path) => {
    const r = pulsarConfigSchema.safeParse(input)
    expect(r.success).toBe(false)
    if (path) expect(r.error?.issues.map((i) => i.path.join('.'))).toContain(path)
  })

  it('accepts the binary protocol (pulsar://, pulsar+ssl:// with tls) and defaults connectVia to lookup', () => {
    expect(pulsarConfigSchema.parse({ url: 'pulsar://127.0.0.1:6650' }).connectVia).toBe('lookup')
    const c = pulsarConfigSchema.parse({
      url: 'pulsar+ssl://pulsar.example:6651',
      tls: { ca: '/tmp/ca.pem' },
      connectVia: 'url',
    })
    expect(c.connectVia).toBe('url')
  })
})
