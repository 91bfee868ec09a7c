import { describe, expect, it } from 'vitest'
import { zeromqConfigSchema } from './config.ts'
import { zeromqPeerHosts } from './peer-hosts.ts'

const hosts = (raw: unknown) => zeromqPeerHosts(zeromqConfigSchema.parse(raw))

describe('zeromqPeerHosts: what a run dials beyond its own sockets', () => {
  it('one endpoint the consumer binds is brokerless', () => {
    expect(hosts({ endpoint: 'tcp://127.0.0.1:5555' })).toEqual([])
  })

  it('a bridge whose ends are all bound by the run is brokerless', () => {
    const endpoints = {
      producer: { connect: 'tcp://127.0.0.1:5555' },
      'bridge-in': { bind: 'tcp://127.0.0.1:5555' },
      'bridge-out': { connect: 'tcp://127.0.0.1:5556' },
      consumer: { bind: 'tcp://127.0.0.1:5556' },
    }
    expect(hosts({ endpoints })).toEqual([])
  })

  it('a wildcard or loopback bind is what a loopback connect on its port reaches', () => {
    const endpoints = (bind: string, connect: string) => ({
      endpoints: { producer: { connect }, consumer: { bind } },
    })
    expect(hosts(endpoints('tcp://*:5556', 'tcp://127.0.0.1:5556'))).toEqual([])
    expect(hosts(endpoints('tcp://0.0.0.0:5556', 'tcp://localhost:5556'))).toEqual([])
    expect(hosts(endpoints('tcp://127.0.0.1:5556', 'tcp://localhost:5556'))).toEqual([])
    // Another port is another socket: someone else's.
    expect(hosts(endpoints('tcp://*:5556', 'tcp://127.0.0.1:5557'))).toEqual(['127.0.0.1'])
  })

  it('a proxy both sides dial is a broker, ipc on this machine', () => {
    expect(
      hosts({
        endpoints: {
          producer: { connect: 'tcp://Proxy.lan:5559' },
          consumer: { connect: ['ipc:///tmp/out', 'inproc://x'] },
        },
      }),
    ).toEqual(['proxy.lan', 'localhost'])
  })
})
