import { testBrokerPlugin } from '@iotload/sdk/conformance'
import { makeTestCerts, requireService, startTcpProxy } from '@iotload/sdk/testing'
import { afterAll, describe } from 'vitest'
import { pulsarPlugin } from './plugin.ts'
import { AUTH_BINARY_PROXY_PORT, readTestToken } from './testing/auth-proxy.ts'

const HOST = '127.0.0.1'
const PORT = 6650
const up = await requireService('Pulsar (binary protocol)', HOST, PORT)
const run = `${process.pid}-${Date.now().toString(36)}`

// pulsar+ssl:// through a TLS-terminating proxy in front of the standalone broker (plain TCP only);
// the kit registers its tests synchronously, so the proxy must exist before describe.
const certs = up ? makeTestCerts() : undefined
const tlsProxy = certs
  ? await startTcpProxy(HOST, PORT, { tls: { cert: certs.cert, key: certs.key } })
  : undefined
afterAll(async () => {
  await tlsProxy?.close()
  certs?.cleanup()
})
const sslUrl = `pulsar+ssl://${HOST}:${tlsProxy?.port ?? 6651}`

// Token auth: a Pulsar proxy with token authentication in front of the broker, started by pulsar.sh.
const authUp = up && (await requireService('Pulsar proxy with token auth', HOST, AUTH_BINARY_PROXY_PORT))
const token = authUp ? readTestToken() : ''

describe.skipIf(!up)('broker-pulsar over the binary protocol', () => {
  testBrokerPlugin(pulsarPlugin, {
    name: 'pulsar conformance (standalone, binary protocol)',
    config: { url: `pulsar://${HOST}:${PORT}` },
    topic: (suffix) => `bconf-${run}/${suffix}`,
    proxy: {
      host: HOST,
      port: PORT,
      // The broker advertises 127.0.0.1:6650; `connectVia: url` keeps the data on the proxied socket.
      configFor: (proxyPort) => ({
        url: `pulsar://${HOST}:${proxyPort}`,
        connectVia: 'url',
        reconnectPeriod: '100ms',
      }),
    },
    auth: authUp
      ? {
          config: { url: `pulsar://${HOST}:${AUTH_BINARY_PROXY_PORT}` },
          invalid: { token: `${token.slice(0, -6)}AAAAAA` },
          valid: { token },
        }
      : undefined,
    tls: {
      config: { url: sslUrl, connectVia: 'url', tls: { ca: certs?.caFile ?? 'missing' } },
      unknownCaConfig: { url: sslUrl, connectVia: 'url', tls: { ca: certs?.otherCaFile ?? 'missing' } },
    },
  })
})
