import { amqpPlugin } from './src/plugin.ts'
const logger = { debug() {}, info() {}, warn: console.warn, error: console.error }
const N = Number(process.argv[2] ?? 500),
  RATE = Number(process.argv[3] ?? 10),
  ack = (process.argv[4] ?? 'manual') as 'manual'
const cfg = amqpPlugin.configSchema.parse({ ack })
const tag = `probe${Date.now()}`
const consumer = await amqpPlugin.connect(cfg, { role: 'consumer', clientId: 'c', logger })
let received = 0
await consumer.subscribe(`${tag}/+/telemetry`, () => received++)
const t0c = performance.now()
const producers = await Promise.all(
  Array.from({ length: N }, (_, i) =>
    amqpPlugin.connect(cfg, { role: 'producer', clientId: `p${i}`, logger }),
  ),
)
console.log('connected', N, 'in', Math.round(performance.now() - t0c), 'ms')
const payload = new Uint8Array(200)
let sent = 0,
  acked = 0,
  failed = 0
const timers = producers.map((p, i) =>
  setInterval(() => {
    sent++
    p.publish(`${tag}/dev-${i}/telemetry`, { payload, qos: 1 }).then(
      () => acked++,
      () => failed++,
    )
  }, 1000 / RATE),
)
for (let s = 1; s <= 15; s++) {
  await new Promise((r) => setTimeout(r, 1000))
  console.log(s, 'sent', sent, 'acked', acked, 'received', received, 'failed', failed)
}
timers.forEach(clearInterval)
await new Promise((r) => setTimeout(r, 3000))
console.log('end sent', sent, 'acked', acked, 'received', received, 'failed', failed)
await Promise.all([consumer, ...producers].map((c) => c.close()))
