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
