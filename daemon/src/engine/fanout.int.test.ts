import { randomUUID } from 'node:crypto'
import { requireService } from '@iotload/sdk/testing'
import { describe, expect, it } from 'vitest'
import { createLogger } from '../log/logger.ts'
import { resolveScenario } from '../scenario/load-scenario.ts'
import type { SecondReport } from './recorder.ts'
import { startRun } from './run.ts'

// consumer.mode: fanout against the real brokers: three subscribers, each must get every message.
const quiet = createLogger({ level: 'error' })
const [mosquitto, nats, rabbit, kafka, pulsar] = await Promise.all([
  requireService('Mosquitto', '127.0.0.1', 1883),
  requireService('NATS', '127.0.0.1', 4222),
  requireService('RabbitMQ', '127.0.0.1', 5672),
  requireService('Kafka', '127.0.0.1', 9092),
  requireService('Pulsar (WebSocket)', '127.0.0.1', 8080),
])

const SUBSCRIBERS = 3
const DEVICES = 4
// 4 devices × 5/s × 2 s, measured.
const SENT = 40

async function fanOut(
  broker: Record<string, unknown>,
  topic: string,
  consumerTopic?: string,
  workers: 1 | 2 = 1,
) {
  const resolved = await resolveScenario(
    {
      name: `fan-out ${broker.plugin}`,
      broker,
      producer: { devices: DEVICES, rate: '5/s', duration: '2s', topic, qos: 1 },
      consumer: {
        mode: 'fanout',
        connections: SUBSCRIBERS,
        ...(consumerTopic ? { topic: consumerTopic } : {}),
      },
      run: { drain: '5s', workers },
    },
    { env: {} },
  )
  const seconds: SecondReport[] = []
  const summary = await startRun(resolved, { logger: quiet, onSecond: (r) => seconds.push(r) }).result
  expect(summary.error).toBeUndefined()
  expect(summary.run.status).toBe('completed')
  expect(summary.streams.e2e).toMatchObject({
    sent: SENT,
    expected: SENT * SUBSCRIBERS,
    received: SENT * SUBSCRIBERS,
    lost: 0,
    undelivered: 0,
    duplicates: 0,
  })
  expect(summary.streams.e2e?.latency.raw.count).toBe(SENT * SUBSCRIBERS)
  expect(summary.subscribers?.map((s) => [s.subscriber, s.received, s.lost, s.duplicates])).toEqual(
    Array.from({ length: SUBSCRIBERS }, (_, k) => [k, SENT, 0, 0]),
  )
  // The live seconds carry each subscriber too, and add up to its total.
  const perSecond = Array.from({ length: SUBSCRIBERS }, (_, k) =>
    seconds.reduce((n, r) => n + (r.subscribers?.find((x) => x.subscriber === k)?.received ?? 0), 0),
  )
  expect(perSecond).toEqual(Array.from({ length: SUBSCRIBERS }, () => SENT))
  if (workers > 1) expect(summary.workers).toMatchObject({ producers: workers })
  return summary
}

const tag = () => randomUUID().slice(0, 8)

describe('fan-out on real brokers', () => {
  it.skipIf(!mosquitto)(
    'MQTT (Mosquitto): one plain subscription per subscriber',
    async () => {
      await fanOut({ plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883', version: '5' }, `fan-${tag()}/{device}`)
    },
    30_000,
  )

  it.skipIf(!nats)(
    'NATS core: subscriptions without a queue group',
    async () => {
      await fanOut({ plugin: 'nats', url: 'nats://127.0.0.1:4222', mode: 'core' }, `fan.${tag()}.{device}`)
    },
    30_000,
  )

  it.skipIf(!nats)(
    'NATS core with run.workers: 2: the subscribers are lanes of the consumer worker, as of one thread',
    async () => {
      await fanOut(
        { plugin: 'nats', url: 'nats://127.0.0.1:4222', mode: 'core' },
        `fan.${tag()}.{device}`,
        undefined,
        2,
      )
    },
    30_000,
  )

  it.skipIf(!nats)(
    'each subscriber is held to the fleet’s measured sends, sharded as on one thread',
    async () => {
      // The subscribers listen to one device of four: the other three's sends are owed to each.
      const owed = async (workers: 1 | 2) => {
        const t = `fan.${tag()}`
        const resolved = await resolveScenario(
          {
            broker: { plugin: 'nats', url: 'nats://127.0.0.1:4222', mode: 'core' },
            producer: { devices: DEVICES, rate: '5/s', duration: '2s', topic: `${t}.{device}` },
            consumer: { mode: 'fanout', connections: SUBSCRIBERS, topic: `${t}.3` },
            run: { drain: '1s', workers },
          },
          { env: {} },
        )
        const summary = await startRun(resolved, { logger: quiet }).result
        expect(summary.run.status).toBe('completed')
        return {
          e2e: summary.streams.e2e && {
            expected: summary.streams.e2e.expected,
            received: summary.streams.e2e.received,
            undelivered: summary.streams.e2e.undelivered,
          },
          subscribers: summary.subscribers?.map((s) => [s.received, s.lost, s.undelivered]),
        }
      }
      const one = await owed(1)
      expect(one).toEqual({
        e2e: { expected: SENT * SUBSCRIBERS, received: 10 * SUBSCRIBERS, undelivered: 30 * SUBSCRIBERS },
        subscribers: Array.from({ length: SUBSCRIBERS }, () => [10, 0, 30]),
      })
      expect(await owed(2)).toEqual(one)
    },
    30_000,
  )

  it.skipIf(!mosquitto)(
    'MQTT (Mosquitto) with run.workers: 2',
    async () => {
      await fanOut(
        { plugin: 'mqtt', url: 'mqtt://127.0.0.1:1883', version: '5' },
        `fan-${tag()}/{device}`,
        undefined,
        2,
      )
    },
    30_000,
  )

  it.skipIf(!nats)(
    'NATS JetStream: a durable consumer per subscriber',
    async () => {
      const t = tag()
      await fanOut(
        {
          plugin: 'nats',
          url: 'nats://127.0.0.1:4222',
          mode: 'jetstream',
          // One stream for every run of this test, on subjects of its own: a stream per run would
          // overlap the derived subjects of the streams earlier runs left.
          jetstream: {
            stream: 'IOTLOAD_FANOUT_TEST',
            storage: 'memory',
            ackPolicy: 'explicit',
            subjects: ['iotloadfan.>'],
          },
        },
        `iotloadfan.${t}.{device}`,
      )
    },
    30_000,
  )

  it.skipIf(!rabbit)(
    'AMQP (RabbitMQ): one queue per subscriber',
    async () => {
      await fanOut(
        {
          plugin: 'amqp',
          url: 'amqp://127.0.0.1:5672',
          auth: { username: 'guest', password: 'guest' },
          exchange: { name: 'iotload', durable: true },
          confirm: true,
          ack: 'manual',
        },
        `fan/${tag()}/{device}`,
      )
    },
    30_000,
  )

  it.skipIf(!kafka)(
    'Kafka: one consumer group per subscriber',
    async () => {
      const t = `fan.${tag()}`
      await fanOut({ plugin: 'kafka', url: 'kafka://127.0.0.1:9092', partitions: 2, acks: 'all' }, t, t)
    },
    60_000,
  )

  it.skipIf(!pulsar)(
    'Pulsar: one subscription per subscriber',
    async () => {
      const t = `fan-${tag()}`
      await fanOut(
        { plugin: 'pulsar', url: 'ws://127.0.0.1:8080', tenant: 'public', namespace: 'default' },
        t,
        t,
      )
    },
    60_000,
  )
})
