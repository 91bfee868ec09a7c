import { randomUUID } from 'node:crypto'
import { testBrokerPlugin } from '@iotload/sdk/conformance'
import { makeTestCerts, requireService, startTcpProxy } from '@iotload/sdk/testing'
import { afterAll, describe } from 'vitest'
import { amqpPlugin } from './plugin.ts'

const HOST = '127.0.0.1'
const PORT = 5672
const up = await requireService('RabbitMQ', HOST, PORT)
const run = randomUUID().slice(0, 8)

// TLS through a node:tls proxy in front of the shared RabbitMQ (which has no TLS listener);
// it must exist before the kit registers its tests, hence the top-level setup.
const certs = up ? makeTestCerts() : undefined
const tlsProxy = certs
  ? await startTcpProxy(HOST, PORT, { tls: { cert: certs.cert, key: certs.key } })
  : undefined
afterAll(async () => {
  await tlsProxy?.close()
  certs?.cleanup()
})
const tlsUrl = `amqps://${HOST}:${tlsProxy?.port ?? 5671}`

describe.skipIf(!up)('broker-amqp', () => {
  testBrokerPlugin(amqpPlugin, {
    name: 'amqp conformance (RabbitMQ)',
    config: { url: `amqp://${HOST}:${PORT}` },
    credentials: { username: 'guest', password: 'guest' },
    topic: (suffix) => `conf-${run}/${suffix}`,
    wildcard: {
      filter: `conf-${run}/wild/+/telemetry`,
      topics: [`conf-${run}/wild/dev-1/telemetry`, `conf-${run}/wild/dev-2/telemetry`],
    },
    proxy: {
      host: HOST,
      port: PORT,
      configFor: (proxyPort) => ({
        url: `amqp://${HOST}:${proxyPort}`,
        reconnect: { initialDelay: '50ms', maxDelay: '500ms' },
      }),
    },
    auth: {
      invalid: { username: 'guest', password: `wrong-${run}` },
      valid: { username: 'guest', password: 'guest' },
    },
    tls: {
      config: { url: tlsUrl, tls: { ca: certs?.caFile ?? 'missing' } },
      credentials: { username: 'guest', password: 'guest' },
      unknownCaConfig: { url: tlsUrl, tls: { ca: certs?.otherCaFile ?? 'missing' } },
    },
  })
})
