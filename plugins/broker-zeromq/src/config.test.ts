import { ConfigError } from '@iotload/sdk'
import { describe, expect, it } from 'vitest'
import { zeromqConfigSchema } from './config.ts'
import { planSocket } from './socket-plan.ts'

const KEY = 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7'

function issues(input: unknown): Array<{ path: string; message: string }> {
  const r = zeromqConfigSchema.safeParse(input)
  if (r.success) return []
  return r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }))
}

describe('zeromqConfigSchema', () => {
  it('accepts a single endpoint with defaults', () => {
    const c = zeromqConfigSchema.parse({ endpoint: 'tcp://127.0.0.1:5555' })
    expect(c).toMatchObject({ mode: 'pubsub', topicSeparator: '/', connectTimeoutMs: 5000, settleMs: 100 })
  })

  it('accepts per-role endpoints with lists', () => {
    const c = zeromqConfigSchema.parse({
      mode: 'pushpull',
      endpoints: {
        producer: { connect: ['tcp://127.0.0.1:5555', 'ipc:///tmp/x'] },
        consumer: { bind: 'tcp://127.0.0.1:5556', waitForPeer: false },
      },
    })
    expect(c.endpoints?.producer?.waitForPeer).toBe(true)
    expect(c.endpoints?.consumer?.waitForPeer).toBe(false)
  })

  it('names the path of a role entry with both or neither of bind/connect', () => {
    expect(issues({ endpoints: { producer: {} } })).toEqual([
      { path: 'endpoints.producer', message: 'give exactly one of `bind` or `connect`' },
    ])
    expect(issues({ endpoints: { consumer: { bind: 'tcp://a:1', connect: 'tcp://a:1' } } })[0]?.path).toBe(
      'endpoints.consumer',
    )
  })

  it('rejects unknown roles, bad addresses and bad keys by path', () => {
    expect(issues({ endpoints: { device: { bind: 'tcp://a:1' } } })[0]?.path).toBe('endpoints')
    expect(issues({ endpoint: 'http://x' })[0]?.path).toBe('endpoint')
    expect(issues({ endpoint: 'tcp://a:1', curve: { serverPublicKey: 'short' } })[0]?.path).toBe(
      'curve.serverPublicKey',
    )
    expect(
      issues({ endpoint: 'tcp://a:1', curve: { serverPublicKey: KEY, clientPublicKey: KEY } })[0]?.path,
    ).toBe('curve.clientSecretKey')
  })

  it('wants exactly one of endpoint and endpoints', () => {
    expect(issues({})[0]?.path).toBe('endpoints')
    expect(
      issues({ endpoint: 'tcp://a:1', endpoints: { producer: { connect: 'tcp://a:1' } } })[0]?.path,
    ).toBe('endpoints')
    expect(issues({ endpoints: { consumer: { bind: 'tcp://a:1' } }, bind: 'producer' })[0]?.path).toBe('bind')
    expect(issues({ endpoints: {} })[0]?.path).toBe('endpoints')
  })

  it('rejects unknown keys', () => {
    expect(issues({ endpoint: 'tcp://a:1', url: 'x' })[0]?.message).toMatch(/url/)
  })
})

describe('planSocket', () => {
  it('lets the `bind` role listen on a single endpoint and everyone else connect', () => {
    const c = zeromqConfigSchema.parse({ endpoint: 'tcp://127.0.0.1:5555' })
    expect(planSocket(c, 'consumer')).toMatchObject({ side: 'bind', direction: 'receive' })
    expect(planSocket(c, 'producer')).toMatchObject({ side: 'connect', direction: 'send' })
    const p = zeromqConfigSchema.parse({ endpoint: 'tcp://127.0.0.1:5555', bind: 'producer' })
    expect(planSocket(p, 'producer').side).toBe('bind')
    expect(planSocket(p, 'consumer').side).toBe('connect')
  })

  it('refuses a bridge on a single endpoint', () => {
    const c = zeromqConfigSchema.parse({ endpoint: 'tcp://127.0.0.1:5555' })
    expect(() => planSocket(c, 'bridge-in')).toThrow(ConfigError)
  })

  it('names the missing role path', () => {
    const c = zeromqConfigSchema.parse({ endpoints: { producer: { connect: 'tcp://127.0.0.1:5555' } } })
    try {
      planSocket(c, 'bridge-out')
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      expect((err as ConfigError).path).toBe('broker.endpoints.bridge-out')
    }
    expect(planSocket(c, 'producer')).toEqual({
      direction: 'send',
      side: 'connect',
      addresses: ['tcp://127.0.0.1:5555'],
      waitForPeer: true,
      path: 'broker.endpoints.producer',
    })
  })
})
