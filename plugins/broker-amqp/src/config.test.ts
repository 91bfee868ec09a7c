import { describe, expect, it } from 'vitest'
import { amqpConfigSchema } from './config.ts'

describe('amqpConfigSchema', () => {
  it('applies the documented defaults', () => {
    const c = amqpConfigSchema.parse({})
    expect(c).toEqual({
      url: 'amqp://127.0.0.1:5672',
      exchange: { name: 'iotload', durable: true },
      queue: { durable: false, exclusive: true, autoDelete: true },
      prefetch: 1000,
      ack: 'auto',
      confirm: true,
      heartbeat: 30_000,
      connectTimeout: 10_000,
      reconnect: { enabled: true, initialDelay: 100, maxDelay: 5000 },
    })
  })

  it('parses durations and nested sections', () => {
    const c = amqpConfigSchema.parse({
      url: 'amqps://rabbit:5671/iot',
      exchange: { name: 'fleet' },
      queue: { durable: true, exclusive: false, name: 'q1' },
      ack: 'manual',
      heartbeat: '5s',
      reconnect: { maxDelay: '2s' },
      tls: { ca: '/tmp/ca.pem' },
    })
    expect(c.exchange).toEqual({ name: 'fleet', durable: true })
    expect(c.queue).toEqual({ name: 'q1', durable: true, exclusive: false, autoDelete: true })
    expect(c.heartbeat).toBe(5000)
    expect(c.reconnect).toEqual({ enabled: true, initialDelay: 100, maxDelay: 2000 })
    expect(c.tls?.verify).toBe(true)
  })

  it.each([
    [{ url: 'http://x:5672' }, 'url', /amqp:\/\//],
    [{ url: 'amqp://guest:secret@127.0.0.1' }, 'url', /broker\.auth/],
    [{ tls: { verify: false } }, 'tls', /amqps/],
    [{ ack: 'sometimes' }, 'ack', /auto|manual/],
    [{ prefetch: -1 }, 'prefetch', /./],
    [{ heartbeat: 'soon' }, 'heartbeat', /duration/],
    [{ queue: { exclusiv: true } }, 'queue', /exclusiv/],
    [{ exchange: 'iotload' }, 'exchange', /object/],
    [{ bogus: 1 }, '', /bogus/],
  ])('rejects %j at %s', (input, path, message) => {
    const r = amqpConfigSchema.safeParse(input)
    expect(r.success).toBe(false)
    const issue = r.error?.issues[0]
    expect(issue?.path.join('.') ?? '').toBe(path)
    expect(JSON.stringify(r.error?.issues)).toMatch(message)
  })
})
