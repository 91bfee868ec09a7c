import { describe, expect, it } from 'vitest'
import { hostOf, hostsOf } from './broker-host.ts'

describe('hostOf: the host of a broker address', () => {
  it('drops scheme, credentials and port, and lowercases', () => {
    expect(hostOf('mqtts://user:secret@Broker.Example:8883')).toBe('broker.example')
    expect(hostOf('amqp://guest:guest@127.0.0.1:5672/vhost')).toBe('127.0.0.1')
    expect(hostOf('pulsar+ssl://pulsar:6651')).toBe('pulsar')
  })

  it('takes bare host:port and IPv6 literals', () => {
    expect(hostOf('kafka-0:9092')).toBe('kafka-0')
    expect(hostOf('tcp://[::1]:5555')).toBe('::1')
  })

  it('an address without a host is localhost, where clients dial; an unreadable one is undefined', () => {
    expect(hostOf('amqp:///vhost')).toBe('localhost')
    expect(hostOf('')).toBeUndefined()
    expect(hostOf('::::')).toBeUndefined()
  })

  it('hostsOf names each host once and leaves unreadable ones out', () => {
    expect(hostsOf(['a:1', 'a:2', '::::', 'nats://b:4222'])).toEqual(['a', 'b'])
  })
})
