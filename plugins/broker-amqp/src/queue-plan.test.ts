import { describe, expect, it } from 'vitest'
import { amqpConfigSchema } from './config.ts'
import { planQueue } from './queue-plan.ts'

const ctx = { role: 'bridge-in' as const, clientId: 'c-7' }

describe('planQueue', () => {
  it('lets the broker name a private queue by default', () => {
    const plan = planQueue(amqpConfigSchema.parse({}), ctx, undefined)
    expect(plan).toEqual({ name: '', durable: false, exclusive: true, autoDelete: true, shared: false })
  })

  it('fills {role} and {clientId} into a configured name', () => {
    const config = amqpConfigSchema.parse({ queue: { name: 'iot.{role}.{clientId}', durable: true } })
    expect(planQueue(config, ctx, undefined)).toMatchObject({ name: 'iot.bridge-in.c-7', durable: true })
  })

  it('a group shares one non-exclusive queue named after it, whatever queue.name says', () => {
    const config = amqpConfigSchema.parse({ queue: { name: 'ignored', exclusive: true } })
    expect(planQueue(config, ctx, 'workers')).toEqual({
      name: 'workers',
      durable: false,
      exclusive: false,
      autoDelete: true,
      shared: true,
    })
  })
})
