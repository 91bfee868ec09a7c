import { describe, expect, it } from 'vitest'
import { natsConfigSchema, serverList } from './config.ts'

describe('natsConfigSchema', () => {
  it('fills the documented defaults', () => {
    const c = natsConfigSchema.parse({ url: 'nats://127.0.0.1:4222' })
    expect(c.mode).toBe('core')
    expect(c.jetstream).toMatchObject({
      stream: 'IOTLOAD',
      storage: 'memory',
      ackPolicy: 'explicit',
      create: true,
    })
    expect(c.reconnect).toEqual({ enabled: true, maxAttempts: -1, waitMs: 500 })
    expect(serverList(c)).toEqual(['nats://127.0.0.1:4222'])
  })

  it('needs exactly one of url and servers', () => {
    expect(natsConfigSchema.safeParse({}).success).toBe(false)
    const both = natsConfigSchema.safeParse({ url: 'nats://a:1', servers: ['nats://b:2'] })
    expect(both.success).toBe(false)
    expect(serverList(natsConfigSchema.parse({ servers: ['nats://a:1', 'tls://b:2'] }))).toEqual([
      'nats://a:1',
      'tls://b:2',
    ])
  })

  it('rejects unknown keys, other schemes and bad stream names, naming the path', () => {
    expect(natsConfigSchema.safeParse({ url: 'nats://a:1', colour: 'red' }).success).toBe(false)
    expect(natsConfigSchema.safeParse({ url: 'mqtt://a:1' }).success).toBe(false)
    const bad = natsConfigSchema.safeParse({ url: 'nats://a:1', jetstream: { stream: 'a.b' } })
    expect(bad.error?.issues[0]?.path).toEqual(['jetstream', 'stream'])
    expect(natsConfigSchema.safeParse({ url: 'nats://a:1', mode: 'kv' }).success).toBe(false)
  })
})
