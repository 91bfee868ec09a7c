/**
 * `node --import tsx bench/lib/raw-cpu.ts <nats|mqtt> <url> <rate> <seconds>`: the broker's own
 * client library publishing `rate` msg/s (paced every millisecond, 10 publisher connections) to a
 * subscriber in the same process, and the process CPU per message over `seconds` after a 2 s
 * warm-up: the floor under iotload's CPU per message at the same rate, measured in the same run.
 */
import { connect } from '@nats-io/transport-node'
import mqtt from 'mqtt'

const PUBLISHERS = 10
const PAYLOAD = Buffer.from(
  JSON.stringify({
    v: 42.42,
    pad: 'x'.repeat(48),
    iotload: { run: 'abcdef012345', dev: 7, seq: 123456, t: 1.7e15, ti: 1.7e15 },
  }),
)

interface Client {
  publish(i: number): void
  received(): number
  close(): Promise<void>
}

async function natsClient(url: string): Promise<Client> {
  const sub = await connect({ servers: url })
  const pubs = await Promise.all(Array.from({ length: PUBLISHERS }, () => connect({ servers: url })))
  const tag = `rawcpu${process.pid}`
  let n = 0
  sub.subscribe(`${tag}.*`, {
    callback: () => {
      n++
    },
  })
  await sub.flush()
  const subjects = pubs.map((_, i) => `${tag}.${i}`)
  return {
    publish: (i) => pubs[i % PUBLISHERS]!.publish(subjects[i % PUBLISHERS]!, PAYLOAD),
    received: () => n,
    close: async () => {
      await Promise.all([sub, ...pubs].map((c) => c.close()))
    },
  }
}

async function mqttClient(url: string): Promise<Client> {
  const sub = await mqtt.connectAsync(url, { protocolVersion: 5 })
  const pubs = await Promise.all(
    Array.from({ length: PUBLISHERS }, () => mqtt.connectAsync(url, { protocolVersion: 5 })),
  )
  const tag = `rawcpu/${process.pid}`
  let n = 0
  sub.on('message', () => n++)
  await sub.subscribeAsync(`${tag}/+`, { qos: 0 })
  const topics = pubs.map((_, i) => `${tag}/${i}`)
  return {
    publish: (i) => pubs[i % PUBLISHERS]!.publish(topics[i % PUBLISHERS]!, PAYLOAD, { qos: 0 }),
    received: () => n,
    close: async () => {
      await Promise.all([sub, ...pubs].map((c) => c.endAsync(true)))
    },
  }
}

async function main(): Promise<void> {
  const [kind, url, rateText, secondsText] = process.argv.slice(2)
  const rate = Number(rateText)
  const seconds = Number(secondsText)
  const client = kind === 'nats' ? await natsClient(url!) : await mqttClient(url!)
  const start = performance.now()
  let sent = 0
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - start) * rate) / 1000)
    while (sent < due) client.publish(sent++)
  }, 1)
  await new Promise((r) => setTimeout(r, 2000))
  const cpu0 = process.cpuUsage()
  const sent0 = sent
  const recv0 = client.received()
  await new Promise((r) => setTimeout(r, seconds * 1000))
  const cpu = process.cpuUsage(cpu0)
  const s = sent - sent0
  const received = client.received() - recv0
  clearInterval(timer)
  await client.close()
  const cpuUs = cpu.user + cpu.system
  process.stdout.write(
    `${JSON.stringify({ sent: s, received, cpuUs, nsPerMessage: Math.round((cpuUs * 1000) / s) })}\n`,
  )
  process.exit(0)
}

await main()
