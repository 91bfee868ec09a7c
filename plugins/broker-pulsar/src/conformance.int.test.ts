import { testBrokerPlugin } from '@iotload/sdk/conformance'
import { makeTestCerts, requireService, startTcpProxy } from '@iotload/sdk/testing'
import { afterAll, describe } from 'vitest'
import { pulsarPlugin } from './plugin.ts'
import { AUTH_PROXY_PORT, readTestToken } from './testing/auth-proxy.ts'

const HOST = '127.0.0.1'
const PORT = 8080
const up = await requireService('Pulsar', HOST, PORT)
const run = `${process.pid}-${Date.now().toString(36)}`

// wss:// through a TLS-terminating proxy in front of the standalone broker (plain HTTP only);
// the kit registers its tests synchronously, so the proxy must exist before describe.
const certs = up ? makeTestCerts() : undefined
const tlsProxy = certs
  ? await startTcpProxy(HOST, PORT, { tls: { cert: certs.cert, key: certs.key } })
  : undefined
afterAll(async () => {
  await tlsProxy?.close()
  certs?.cleanup()
})
const wssUrl = `wss://${HOST}:${tlsProxy?.port ?? 8443}`

// Token auth: Pulsar's WebSocket proxy with token authentication, started by pulsar.sh.
const authUp = up && (await requireService('Pulsar WebSocket proxy with token auth', HOST, AUTH_PROXY_PORT))
const token = authUp ? readTestToken() : ''

describe.skipIf(!up)('broker-pulsar', () => {
  testBrokerPlugin(pulsarPlugin, {
    name: 'pulsar conformance (standalone, WebSocket API)',
    config: { url: `ws://${HOST}:${PORT}` },
    // '/' in iotload topics maps to '.', so the kit's topics exercise the mapping too.
    topic: (suffix) => `conf-${run}/${suffix}`,
    proxy: {
      host: HOST,
      port: PORT,
      configFor: (proxyPort) => ({ url: `ws://${HOST}:${proxyPort}`, reconnectPeriod: '100ms' }),
    },
    auth: authUp
      ? {
          config: { url: `ws://${HOST}:${AUTH_PROXY_PORT}` },
          invalid: { token: `${token.slice(0, -6)}AAAAAA` },
          valid: { token },
        }
      : undefined,
    tls: {
      config: { url: wssUrl, tls: { ca: certs?.caFile ?? 'missing' } },
      unknownCaConfig: { url: wssUrl, tls: { ca: certs?.otherCaFile ?? 'missing' } },
    },
  })
})
