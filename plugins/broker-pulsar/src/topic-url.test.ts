import { describe, expect, it } from 'vitest'
import { pulsarConfigSchema } from './config.ts'
import { consumerUrl, displayUrl, producerUrl, readerUrl, toPulsarTopic } from './topic-url.ts'

const config = pulsarConfigSchema.parse({})

describe('toPulsarTopic', () => {
  it("replaces '/' so templated iotload topics stay one Pulsar topic", () => {
    expect(toPulsarTopic('devices/42/telemetry', config)).toEqual({
      domain: 'persistent',
      tenant: 'public',
      namespace: 'default',
      local: 'devices.42.telemetry',
    })
    const dash = pulsarConfigSchema.parse({
      slashReplacement: '-',
      persistent: false,
      tenant: 't',
      namespace: 'n',
    })
    expect(toPulsarTopic('a/b', dash)).toEqual({
      domain: 'non-persistent',
      tenant: 't',
      namespace: 'n',
      local: 'a-b',
    })
  })

  it('takes a fully qualified name as is', () => {
    expect(toPulsarTopic('non-persistent://acme/iot/x/y', config)).toEqual({
      domain: 'non-persistent',
      tenant: 'acme',
      namespace: 'iot',
      local: 'x.y',
    })
  })

  it('rejects an empty topic', () => {
    expect(() => toPulsarTopic('', config)).toThrow(/empty/)
  })
})

describe('WebSocket API URLs', () => {
  const topic = toPulsarTopic('devices/1/t', config)

  it('builds the producer endpoint with its options', () => {
    expect(producerUrl(config, topic)).toBe(
      'ws://127.0.0.1:8080/ws/v2/producer/persistent/public/default/devices.1.t?batchingEnabled=false&sendTimeoutMillis=30000',
    )
  })

  it('builds the consumer endpoint with subscription, type, mode and flow window', () => {
    const url = new URL(
      consumerUrl(pulsarConfigSchema.parse({ url: 'wss://h:8443/', receiverQueueSize: 50 }), topic, {
        subscription: 'grp 1',
        type: 'Key_Shared',
        mode: 'Durable',
        consumerName: 'c-1',
      }),
    )
    expect(url.protocol).toBe('wss:')
    expect(url.pathname).toBe('/ws/v2/consumer/persistent/public/default/devices.1.t/grp%201')
    expect(Object.fromEntries(url.searchParams)).toEqual({
      subscriptionType: 'Key_Shared',
      subscriptionMode: 'Durable',
      subscriptionInitialPosition: 'Latest',
      receiverQueueSize: '50',
      negativeAckRedeliveryDelay: '1000',
      consumerName: 'c-1',
    })
  })

  it('puts a query token in the URL but never in the display form', () => {
    const url = readerUrl(config, topic, 's3cr3t-token')
    expect(new URL(url).searchParams.get('token')).toBe('s3cr3t-token')
    expect(displayUrl(url)).toBe('ws://127.0.0.1:8080/ws/v2/reader/persistent/public/default/devices.1.t')
  })
})
