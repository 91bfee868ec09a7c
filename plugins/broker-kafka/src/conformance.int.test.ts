import { testBrokerPlugin } from '@iotload/sdk/conformance'
import { requireService } from '@iotload/sdk/testing'
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { describe } from 'vitest'
import plugin from './plugin.ts'

const up = await requireService('Kafka', '127.0.0.1', 9092)
const sasl = up && (await requireService('Kafka SASL listener', '127.0.0.1', 9094))
// kafka.sh makes a throwaway CA for its TLS listener on :9095 (and a second CA that signs nothing).
const tlsDir = join(process.env.IOTLOAD_CACHE ?? join(homedir(), '.cache', 'iotload'), 'kafka-run', 'tls')
const tls =
  up && existsSync(join(tlsDir, 'ca.pem')) && (await requireService('Kafka TLS listener', '127.0.0.1', 9095))
const run = `conf${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`

describe.skipIf(!up)('kafka against Kafka 4 (KRaft) on 127.0.0.1:9092', () => {
  testBrokerPlugin(plugin, {
    name: 'kafka',
    config: { url: 'kafka://127.0.0.1:9092', fetchMaxWait: '100ms', topicRefresh: '300ms' },
    topic: (s) => `${run}.${s}`,
    wildcard: { filter: `${run}.wild.*`, topics: [`${run}.wild.a`, `${run}.wild.b`] },
    // The broker advertises 127.0.0.1:9092 in its metadata, so after bootstrap a client would
    // bypass the proxy; addressMap sends every connection to the advertised address through it.
    proxy: {
      host: '127.0.0.1',
      port: 9092,
      configFor: (port) => ({
        url: `kafka://127.0.0.1:${port}`,
        addressMap: { '127.0.0.1:9092': `127.0.0.1:${port}` },
        fetchMaxWait: '100ms',
        sessionTimeout: '10s',
        heartbeatInterval: '1s',
        requestTimeout: '5s',
      }),
    },
    ...(sasl && {
      auth: {
        config: { url: 'kafka://127.0.0.1:9094', sasl: { mechanism: 'scram-sha-512' } },
        invalid: { username: 'iotload', password: 'wrong-iotload-secret' },
        valid: { username: 'iotload', password: 'iotload-secret' },
      },
    }),
    ...(tls && {
      tls: {
        config: { url: 'kafka+ssl://127.0.0.1:9095', tls: { ca: join(tlsDir, 'ca.pem') } },
        unknownCaConfig: {
          url: 'kafka+ssl://127.0.0.1:9095',
          tls: { ca: join(tlsDir, 'other-ca.pem') },
          retries: 0,
        },
      },
    }),
    // Group joins and the first fetch take a moment; subscribe waits for them, this is headroom.
    settleMs: 1000,
    timeoutMs: 60_000,
  })
})
