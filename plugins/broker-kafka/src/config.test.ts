import { describe, expect, it } from 'vitest'
import { bootstrapServers, describeBrokers, kafkaConfigSchema, usesTls } from './config.ts'

describe('kafka config', () => {
  it('parses a url with defaults', () => {
    const c = kafkaConfigSchema.parse({ url: 'kafka://127.0.0.1:9092' })
    expect(bootstrapServers(c)).toEqual(['127.0.0.1:9092'])
    expect(c.acks).toBe(-1)
    expect(c.partitions).toBe(1)
    expect(c.group).toBe('perConsumer')
    expect(c.linger).toBe(0)
    expect(usesTls(c)).toBe(false)
  })

  it('takes several bootstrap servers from the url or from brokers', () => {
    const a = kafkaConfigSchema.parse({ url: 'kafka+ssl://a:9093,b:9093' })
    expect(bootstrapServers(a)).toEqual(['a:9093', 'b:9093'])
    expect(usesTls(a)).toBe(true)
    const b = kafkaConfigSchema.parse({ brokers: ['a:9092', 'b:9092'] })
    expect(bootstrapServers(b)).toEqual(['a:9092', 'b:9092'])
    expect(describeBrokers(b)).toBe('kafka://a:9092,b:9092')
  })

  it('needs exactly one of url and brokers', () => {
    expect(kafkaConfigSchema.safeParse({}).success).toBe(false)
    const both = kafkaConfigSchema.safeParse({ url: 'kafka://a:1', brokers: ['a:1'] })
    expect(both.success).toBe(false)
    expect(both.error?.issues[0]?.path).toEqual(['url'])
  })

  it('rejects malformed urls, unknown keys and bad enums', () => {
    expect(kafkaConfigSchema.safeParse({ url: 'mqtt://a:1883' }).success).toBe(false)
    expect(kafkaConfigSchema.safeParse({ url: 'kafka://a' }).success).toBe(false)
    expect(kafkaConfigSchema.safeParse({ url: 'kafka://a:1', linger2: 1 }).success).toBe(false)
    expect(kafkaConfigSchema.safeParse({ url: 'kafka://a:1', acks: 2 }).success).toBe(false)
    expect(kafkaConfigSchema.safeParse({ url: 'kafka://a:1', compression: 'snappy' }).success).toBe(false)
    expect(kafkaConfigSchema.safeParse({ url: 'kafka://a:1', sasl: { mechanism: 'gssapi' } }).success).toBe(
      false,
    )
  })

  it('maps acks and durations', () => {
    const c = kafkaConfigSchema.parse({ url: 'kafka://a:1', acks: 1, linger: '5ms', sessionTimeout: '10s' })
    expect(c.acks).toBe(1)
    expect(c.linger).toBe(5)
    expect(c.sessionTimeout).toBe(10_000)
    expect(kafkaConfigSchema.parse({ url: 'kafka://a:1', acks: 'all' }).acks).toBe(-1)
  })

  it('refuses an idempotent producer without acks all', () => {
    const r = kafkaConfigSchema.safeParse({ url: 'kafka://a:1', idempotent: true, acks: 1 })
    expect(r.success).toBe(false)
    expect(r.error?.issues[0]?.path).toEqual(['idempotent'])
    expect(kafkaConfigSchema.safeParse({ url: 'kafka://a:1', idempotent: true }).success).toBe(true)
  })
})
