import type { BrokerConnection, ConnectionRole, InboundMessage } from '@iotload/sdk'
import {
  createCollectingLogger,
  createTestContext,
  Inbox,
  requireService,
  sleep,
  waitFor,
} from '@iotload/sdk/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { kafkaConfigSchema } from './config.ts'
import { kafkaPlugin } from './plugin.ts'

const up = await requireService('Kafka', '127.0.0.1', 9092)
const run = `it${process.pid}x${Date.now().toString(36)}`
// The SASL listener kafka.sh opens on :9094 for this test account.
const SASL_USER = 'iotload'
const SASL_PASSWORD = 'iotload-secret'

// One logger for every connection of a test, printed when the test fails.
const logger = createCollectingLogger()

const opened: BrokerConnection[] = []
let seq = 0

async function open(
  role: ConnectionRole,
  raw: Record<string, unknown> = {},
  credentials?: { username?: string; password?: string },
): Promise<BrokerConnection> {
  const config = kafkaConfigSchema.parse({ url: 'kafka://127.0.0.1:9092', ...raw })
  const ctx = createTestContext({
    role,
    clientId: `${run}-${++seq}`,
    ...(credentials ? { credentials } : {}),
  })
  const conn = await kafkaPlugin.connect(config, { ...ctx, logger })
  opened.push(conn)
  return conn
}

const text = (m: InboundMessage) => Buffer.from(m.payload).toString()

describe.skipIf(!up)('kafka plugin against Kafka on 127.0.0.1:9092', () => {
  afterEach(async (ctx) => {
    await Promise.all(opened.splice(0).map((c) => c.close()))
    // What kafkajs said helps with a failure on a loaded machine; silent otherwise.
    const warnings = logger.lines.filter((l) => l.startsWith('warn') || l.startsWith('error'))
    if (ctx.task.result?.state === 'fail' && warnings.length > 0)
      process.stderr.write(`kafkajs warnings during '${ctx.task.name}':\n${warnings.join('\n')}\n`)
    logger.lines.length = 0
  })

  it('pause holds deliveries back (the backlog stays in Kafka) and resume delivers all of it in order', async () => {
    const topic = `${run}.pause`
    const sub = await open('consumer')
    // A control in its own group, never paused: what it gets was there to be fetched.
    const control = await open('consumer')
    const pub = await open('producer')
    const inbox = new Inbox()
    const controlInbox = new Inbox()
    const s = (await sub.subscribe(topic, inbox.push)) as { pause?: () => void; resume?: () => void }
    await control.subscribe(topic, controlInbox.push)
    expect(typeof s.pause).toBe('function')
    await pub.publish(topic, { payload: Buffer.from('before'), key: 'd' })
    await waitFor(() => inbox.messages.length === 1, 30_000, 'the message before pause')
    s.pause!()
    for (let i = 0; i < 50; i++) await pub.publish(topic, { payload: Buffer.from(`m${i}`), key: 'd' })
    await waitFor(() => controlInbox.messages.length === 51, 30_000, 'the control consumer to get all 51')
    // Then longer than a fetch cycle (maxWaitTime) and the 1 s heartbeat wake-up.
    await sleep(1500)
    expect(inbox.messages.length).toBe(1)
    s.resume!()
    await waitFor(
      () => inbox.messages.length === 51,
      30_000,
      () => `51 messages, have ${inbox.messages.length}`,
    )
    expect(inbox.messages.slice(1).map(text)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i}`))
  })

  it('round trip: payload bytes, topic, key order and headers', async () => {
    const topic = `${run}.rt`
    const sub = await open('consumer')
    const pub = await open('producer')
    const inbox = new Inbox()
    await sub.subscribe(topic, inbox.push)
    const bytes = Uint8Array.from([0, 1, 2, 254, 255])
    await pub.publish(topic, { payload: bytes, key: 'd1', headers: { traceparent: 'tp-1', 'x-a': 'b' } })
    await waitFor(() => inbox.messages.length === 1, 30_000, 'one message')
    const m = inbox.messages[0]!
    expect(m.topic).toBe(topic)
    expect([...m.payload]).toEqual([...bytes])
    expect(m.headers).toEqual({ traceparent: 'tp-1', 'x-a': 'b' })
  })

  it.each([1, 4])(
    'keeps each device in order across 10 partitions, %i request(s) in flight',
    async (lanes) => {
      const topic = `${run}.order${lanes}`
      const sub = await open('consumer', { partitions: 10 })
      const pub = await open('producer', { partitions: 10, maxInFlight: lanes })
      const inbox = new Inbox()
      await sub.subscribe(topic, inbox.push)
      const devices = 8
      const per = 50
      const sends: Promise<void>[] = []
      for (let i = 0; i < per; i++)
        for (let d = 0; d < devices; d++)
          sends.push(pub.publish(topic, { payload: Buffer.from(`${d}:${i}`), key: `dev-${d}` }))
      await Promise.all(sends)
      await waitFor(
        () => inbox.messages.length === devices * per,
        30_000,
        () =>
          `${devices * per} messages, got ${inbox.messages.length}: ${[...new Set(inbox.messages.map((m) => text(m).split(':')[0]))].sort()}`,
      )
      const last = new Map<string, number>()
      for (const m of inbox.messages) {
        const [d, i] = text(m).split(':') as [string, string]
        expect(Number(i), `device ${d}`).toBe((last.get(d) ?? -1) + 1)
        last.set(d, Number(i))
      }
    },
  )

  it('creates topics with the configured partitions', async () => {
    const topic = `${run}.parts`
    const pub = await open('producer', { partitions: 4 })
    const sub = await open('consumer', { partitions: 4 })
    const inbox = new Inbox()
    await sub.subscribe(topic, inbox.push)
    // Keys spread over partitions; all arrive on one subscriber.
    await Promise.all(
      [...Array(40).keys()].map((i) => pub.publish(topic, { payload: Buffer.from(`${i}`), key: `k${i}` })),
    )
    await waitFor(() => inbox.messages.length === 40, 30_000)
    const { Kafka } = await import('kafkajs')
    const admin = new Kafka({ brokers: ['127.0.0.1:9092'], logLevel: 0 }).admin()
    await admin.connect()
    const meta = await admin.fetchTopicMetadata({ topics: [topic] })
    await admin.disconnect()
    expect(meta.topics[0]?.partitions.length).toBe(4)
  })

  it.each([0, 1, 'all'] as const)('publish resolves with acks %s', async (acks) => {
    const topic = `${run}.acks${acks}`
    const sub = await open('consumer')
    const pub = await open('producer', { acks })
    const inbox = new Inbox()
    await sub.subscribe(topic, inbox.push)
    for (let i = 0; i < 20; i++) await pub.publish(topic, { payload: Buffer.from(`${i}`), key: 'd' })
    await waitFor(() => inbox.messages.length === 20, 30_000)
    expect(inbox.messages.map(text)).toEqual([...Array(20).keys()].map(String))
  })

  it.each([
    ['idempotent+gzip+linger', { idempotent: true, compression: 'gzip', linger: '20ms', batchSize: 7 }],
    ['gzip without linger', { compression: 'gzip' }],
  ] as const)('%s delivers everything in order', async (name, cfg) => {
    const topic = `${run}.batch.${name.replace(/\W/g, '')}`
    const sub = await open('consumer')
    const pub = await open('producer', cfg)
    const inbox = new Inbox()
    await sub.subscribe(topic, inbox.push)
    await Promise.all(
      [...Array(50).keys()].map((i) => pub.publish(topic, { payload: Buffer.from(`${i}`), key: 'd' })),
    )
    await waitFor(() => inbox.messages.length === 50, 30_000)
    expect(inbox.messages.map(text)).toEqual([...Array(50).keys()].map(String))
  })

  it('a shared group splits the partitions between two consumers', async () => {
    const topic = `${run}.shared`
    const cfg = { partitions: 6, group: 'shared', groupId: `${run}-grp` }
    const a = await open('consumer', cfg)
    const b = await open('consumer', cfg)
    const pub = await open('producer', cfg)
    const ia = new Inbox()
    const ib = new Inbox()
    await Promise.all([a.subscribe(topic, ia.push), b.subscribe(topic, ib.push)])
    // Let the second join's rebalance settle before publishing.
    await sleep(3000)
    const n = 120
    await Promise.all(
      [...Array(n).keys()].map((i) =>
        pub.publish(topic, { payload: Buffer.from(`${i}`), key: `dev-${i % 24}` }),
      ),
    )
    await waitFor(() => ia.messages.length + ib.messages.length >= n, 30_000, `${n} messages over both`)
    expect(ia.messages.length).toBeGreaterThan(0)
    expect(ib.messages.length).toBeGreaterThan(0)
    const seen = new Set([...ia.messages, ...ib.messages].map(text))
    expect(seen.size).toBe(n)
    // Each device lives on one partition, hence on one consumer only.
    const devsA = new Set(ia.messages.map((m) => Number(text(m)) % 24))
    const devsB = new Set(ib.messages.map((m) => Number(text(m)) % 24))
    expect([...devsA].filter((d) => devsB.has(d))).toEqual([])
  })

  it('a group member without partitions still subscribes, and the others get everything', async () => {
    const topic = `${run}.idle`
    const cfg = { partitions: 2, group: 'shared', groupId: `${run}-idle` }
    const subs = await Promise.all([open('consumer', cfg), open('consumer', cfg), open('consumer', cfg)])
    const pub = await open('producer', cfg)
    const inboxes = subs.map(() => new Inbox())
    const t0 = Date.now()
    await Promise.all(subs.map((s, i) => s.subscribe(topic, inboxes[i]!.push)))
    expect(Date.now() - t0, 'subscribe of the idle member waited for a timeout').toBeLessThan(30_000)
    await Promise.all(
      [...Array(40).keys()].map((i) => pub.publish(topic, { payload: Buffer.from(`${i}`), key: `k${i}` })),
    )
    await waitFor(() => inboxes.reduce((n, b) => n + b.messages.length, 0) >= 40, 30_000, '40 messages')
    expect(inboxes.filter((b) => b.messages.length === 0).length).toBeGreaterThanOrEqual(1)
  })

  it('a wildcard filter picks up topics created after subscribe', async () => {
    const sub = await open('consumer', { topicRefresh: '300ms' })
    const pub = await open('producer')
    const inbox = new Inbox()
    await sub.subscribe(`${run}.wild.*.t`, inbox.push)
    const topics = [`${run}.wild.d1.t`, `${run}.wild.d2.t`]
    await Promise.all(topics.map((t) => pub.publish(t, { payload: Buffer.from(t) })))
    await pub.publish(`${run}.wild.d3.other`, { payload: Buffer.from('no') })
    await waitFor(() => inbox.messages.length >= 2, 40_000, 'both wildcard topics')
    expect(inbox.messages.map((m) => m.topic).sort()).toEqual(topics)
    expect(inbox.messages.map(text).sort()).toEqual(topics)
  })

  it('rejects an illegal topic name with a hint', async () => {
    const pub = await open('producer')
    await expect(pub.publish('devices/1/telemetry', { payload: Buffer.from('x') })).rejects.toThrow(
      /cannot contain '\/'/,
    )
    const sub = await open('consumer')
    await expect(sub.subscribe('devices/+/telemetry', () => {})).rejects.toThrow(/level separator/)
  })

  it('publish and subscribe after close reject; close is idempotent', async () => {
    const pub = await open('producer')
    await pub.publish(`${run}.closed`, { payload: Buffer.from('x') })
    await Promise.all([pub.close(), pub.close()])
    await expect(pub.publish(`${run}.closed`, { payload: Buffer.from('y') })).rejects.toMatchObject({
      name: 'ClosedError',
    })
    await expect(pub.subscribe(`${run}.closed`, () => {})).rejects.toMatchObject({ name: 'ClosedError' })
  })

  it('an unreachable broker rejects connect with kind unreachable', async () => {
    await expect(open('producer', { url: 'kafka://127.0.0.1:1', retries: 0 })).rejects.toMatchObject({
      name: 'ConnectionError',
      kind: 'unreachable',
    })
  })

  describe('SASL listener on :9094', async () => {
    const sasl = await requireService('Kafka SASL listener', '127.0.0.1', 9094)
    it.skipIf(!sasl).each(['plain', 'scram-sha-256', 'scram-sha-512'] as const)(
      '%s: a wrong password is kind auth without the password; the right one works',
      async (mechanism) => {
        const cfg = { url: 'kafka://127.0.0.1:9094', sasl: { mechanism } }
        const err = await open('producer', cfg, { username: SASL_USER, password: 'wrong-Pa55word' }).then(
          () => undefined,
          (e: unknown) => e as Error & { kind?: string },
        )
        expect(err?.name).toBe('ConnectionError')
        expect(err?.kind).toBe('auth')
        expect(err?.message).toContain('kafka://127.0.0.1:9094')
        expect(err?.message).not.toContain('wrong-Pa55word')
        const consumerErr = await open('consumer', cfg, {
          username: SASL_USER,
          password: 'wrong-Pa55word',
        }).catch((e: unknown) => e as Error & { kind?: string })
        expect((consumerErr as { kind?: string }).kind).toBe('auth')
        const topic = `${run}.sasl.${mechanism.replace(/-/g, '')}`
        const creds = { username: SASL_USER, password: SASL_PASSWORD }
        const sub = await open('consumer', cfg, creds)
        const pub = await open('producer', cfg, creds)
        const inbox = new Inbox()
        await sub.subscribe(topic, inbox.push)
        await pub.publish(topic, { payload: Buffer.from('authed') })
        await waitFor(() => inbox.messages.length === 1, 30_000)
        expect(logger.lines.join('\n')).not.toContain(SASL_PASSWORD)
      },
    )
  })
})
