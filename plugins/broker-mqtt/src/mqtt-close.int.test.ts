import { randomUUID } from 'node:crypto'
import { createTestContext, requireService, startTcpProxy, type TcpProxy } from '@iotload/sdk/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { mqttConfigSchema } from './config.ts'
import { mqttPlugin } from './plugin.ts'

// close() with QoS 1 publishes in flight on a link that is gone: mqtt.js's graceful end waits for
// their acknowledgements after it stopped reconnecting, so without a bound it waited forever (a
// run stopped during an outage never ended).
const up = await requireService('Mosquitto', '127.0.0.1', 1883)
let proxy: TcpProxy | undefined
afterEach(async () => {
  await proxy?.close()
})

async function openThroughProxy() {
  proxy = await startTcpProxy('127.0.0.1', 1883)
  const conn = await mqttPlugin.connect(
    mqttConfigSchema.parse({ url: `mqtt://127.0.0.1:${proxy.port}`, version: '5' }),
    createTestContext({ clientId: `close-${randomUUID().slice(0, 8)}` }),
  )
  return conn
}

const elapsedMs = async (f: () => Promise<void>) => {
  const t0 = performance.now()
  await f()
  return performance.now() - t0
}

describe.skipIf(!up)('broker-mqtt close() with publishes in flight', () => {
  it('ends at once when the broker is gone (cut, reconnects refused)', async () => {
    const conn = await openThroughProxy()
    await proxy!.cut()
    await new Promise((r) => setTimeout(r, 300))
    const pending = conn.publish('close/test', { payload: Buffer.from('x'), qos: 1 }).catch(() => 'failed')
    expect(await elapsedMs(() => conn.close())).toBeLessThan(2000)
    expect(await pending).toBe('failed')
  })

  it('lets the acknowledgements go after a bounded grace when the link falls silent', async () => {
    const conn = await openThroughProxy()
    proxy!.freeze()
    const pending = conn.publish('close/test', { payload: Buffer.from('x'), qos: 1 }).catch(() => 'failed')
    expect(await elapsedMs(() => conn.close())).toBeLessThan(10_000)
    await pending
  }, 20_000)
})
