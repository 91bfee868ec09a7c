import type { BrokerConnection } from '@iotload/sdk'
import { testBrokerPlugin } from '@iotload/sdk/conformance'
import { freePort } from '@iotload/sdk/testing'
import * as zmq from 'zeromq'
import { afterAll, beforeAll } from 'vitest'
import plugin from './plugin.ts'
import { connectRole, runId } from './testing/helpers.ts'

// Brokerless: the kit's 'consumer' binds and its 'producer' connects, so the "server" is the kit's
// own consumer connection. No external service to check with requireService.
const tcp = (port: number) => `tcp://127.0.0.1:${port}`
const [port, proxied, curvePort, strangerPort] = await Promise.all([
  freePort(),
  freePort(),
  freePort(),
  freePort(),
])
const server = zmq.curveKeyPair()
const stranger = zmq.curveKeyPair()

// The unknown-key test opens only a producer; it needs a CURVE server that is not the kit's.
let curveServer: BrokerConnection | undefined
beforeAll(async () => {
  curveServer = await connectRole(
    { endpoint: tcp(strangerPort), curve: { serverSecretKey: server.secretKey } },
    'consumer',
  )
})
afterAll(() => curveServer?.close())

for (const mode of ['pubsub', 'pushpull'] as const) {
  testBrokerPlugin(plugin, {
    name: `zeromq ${mode} conformance`,
    config: { mode, endpoint: tcp(port) },
    topic: (s) => `conf/${runId}/${mode}/${s}`,
    wildcard: {
      filter: `conf/${runId}/${mode}/wild/+/t`,
      topics: [`conf/${runId}/${mode}/wild/a/t`, `conf/${runId}/${mode}/wild/b/t`],
    },
    // The consumer binds the real port, the producer connects through the kit's TCP proxy.
    proxy: {
      host: '127.0.0.1',
      port: proxied,
      configFor: (proxyPort) => ({
        mode,
        endpoints: { consumer: { bind: tcp(proxied) }, producer: { connect: tcp(proxyPort) } },
      }),
    },
    // CURVE stands in for TLS: the binding consumer is the CURVE server, and a producer holding the
    // wrong server public key is the "unknown CA" case.
    tls: {
      config: {
        mode,
        endpoint: tcp(curvePort),
        curve: { serverPublicKey: server.publicKey, serverSecretKey: server.secretKey },
      },
      unknownCaConfig: {
        mode,
        endpoint: tcp(strangerPort),
        curve: { serverPublicKey: stranger.publicKey },
      },
    },
    settleMs: 200,
    qos: 0,
    timeoutMs: 20_000,
  })
}
