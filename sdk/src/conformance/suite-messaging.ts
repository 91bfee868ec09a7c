import { expect, it } from 'vitest'
import { Inbox } from '../testing/inbox.ts'
import { sleep, waitFor, withTimeout } from '../testing/wait.ts'
import { makePayload, payloadSeq, publishSeqs } from './harness.ts'
import { openPair, roundTrip, type SuiteContext, waitBudget } from './suite-context.ts'

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'

/** Registers the config, round-trip, ordering, header, publish-ack and wildcard tests. */
export function registerMessagingTests(ctx: SuiteContext): void {
  const { plugin, options } = ctx
  const timeout = options.timeoutMs

  it('config: the given config parses', () => {
    const parsed = plugin.configSchema.safeParse(options.config)
    expect(parsed.success, parsed.error?.message).toBe(true)
  })

  it('config: unknown keys and non-objects are rejected', () => {
    const base = typeof options.config === 'object' && options.config !== null ? options.config : {}
    expect(plugin.configSchema.safeParse({ ...base, conformanceUnknownKey: 1 }).success).toBe(false)
    expect(plugin.configSchema.safeParse(null).success).toBe(false)
    expect(plugin.configSchema.safeParse('not a config').success).toBe(false)
  })

  it(
    'round trip: 100 messages arrive with intact payload bytes and topic',
    async () => {
      await roundTrip(ctx, await openPair(ctx), options.topic('roundtrip'), 100)
    },
    timeout,
  )

  it(
    'order: 500 messages from one device arrive in order',
    async () => {
      const { sub, pub } = await openPair(ctx)
      const topic = options.topic('order')
      const inbox = new Inbox()
      await sub.conn.subscribe(topic, inbox.push, { qos: options.qos })
      await sleep(options.settleMs)
      const count = 500
      await publishSeqs(pub.conn, topic, [...Array(count).keys()], { qos: options.qos, key: 'device-1' })
      const seen = new Set<number>()
      const reordered: string[] = []
      let scanned = 0
      let max = -1
      await waitFor(
        () => {
          for (; scanned < inbox.messages.length; scanned++) {
            const seq = payloadSeq(inbox.messages[scanned]!.payload)
            // A redelivered duplicate is not a reorder; a first sighting below the maximum is.
            if (!seen.has(seq) && seq < max) reordered.push(`${seq} after ${max}`)
            seen.add(seq)
            if (seq > max) max = seq
          }
          return seen.size >= count
        },
        waitBudget(ctx),
        `${count} messages on ${topic}`,
      )
      expect(reordered.slice(0, 10), 'out-of-order first deliveries').toEqual([])
    },
    timeout,
  )

  it.skipIf(!plugin.capabilities.headers)(
    'headers: traceparent and a custom header arrive intact',
    async () => {
      const { sub, pub } = await openPair(ctx)
      const topic = options.topic('headers')
      const inbox = new Inbox()
      await sub.conn.subscribe(topic, inbox.push, { qos: options.qos })
      await sleep(options.settleMs)
      const headers = { traceparent: TRACEPARENT, 'x-iotload-conformance': 'value-42' }
      await pub.conn.publish(topic, { payload: makePayload(1), headers, qos: options.qos })
      await waitFor(() => inbox.messages.length > 0, waitBudget(ctx), `a message on ${topic}`)
      // Header names are case-insensitive in most protocols; values must be byte-exact.
      const got = Object.fromEntries(
        Object.entries(inbox.messages[0]!.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
      )
      expect(got).toMatchObject(headers)
    },
    timeout,
  )

  it.skipIf(!plugin.capabilities.publishAck)(
    'publish ack: publish resolves, and publish after close() rejects instead of hanging',
    async () => {
      const pub = await ctx.harness().open({
        role: 'producer',
        config: options.config,
        credentials: options.credentials,
      })
      const topic = options.topic('ack')
      await withTimeout(
        pub.conn.publish(topic, { payload: makePayload(0), qos: options.qos }),
        waitBudget(ctx),
        'publish',
      )
      await pub.conn.close()
      const outcome = await withTimeout(
        pub.conn.publish(topic, { payload: makePayload(1), qos: options.qos }).then(
          () => 'resolved',
          (err: unknown) => err,
        ),
        5000,
        'publish after close()',
      )
      expect(outcome, 'publish after close() must reject').toBeInstanceOf(Error)
      expect(['ClosedError', 'PublishError']).toContain((outcome as Error).name)
    },
    timeout,
  )

  it(
    'publishWith (when the plugin has it): 100 messages arrive, each done called once without error; after close() done gets an error',
    async (t) => {
      const pair = await openPair(ctx)
      const publishWith = pair.pub.conn.publishWith?.bind(pair.pub.conn)
      if (!publishWith) {
        t.skip()
        return
      }
      const topic = options.topic('publishwith')
      const inbox = new Inbox()
      await pair.sub.conn.subscribe(topic, inbox.push, { qos: options.qos })
      await sleep(options.settleMs)
      const calls = new Array<number>(100).fill(0)
      const errors: unknown[] = []
      for (let i = 0; i < 100; i++)
        publishWith(topic, { payload: makePayload(i), qos: options.qos }, (err) => {
          calls[i]!++
          if (err) errors.push(err)
        })
      await waitFor(() => calls.every((n) => n > 0), waitBudget(ctx), 'every publishWith done')
      await waitFor(
        () => new Set(inbox.messages.map((m) => payloadSeq(m.payload))).size >= 100,
        waitBudget(ctx),
        '100 messages',
      )
      await sleep(50)
      expect(errors).toEqual([])
      expect(
        calls.every((n) => n === 1),
        'done called exactly once per message',
      ).toBe(true)
      await pair.pub.conn.close()
      const after = await withTimeout(
        new Promise<Error | undefined>((resolve) =>
          publishWith(topic, { payload: makePayload(101), qos: options.qos }, resolve),
        ),
        5000,
        'publishWith after close()',
      )
      expect(after, 'publishWith after close() must report an error').toBeInstanceOf(Error)
    },
    timeout,
  )

  it.skipIf(!plugin.capabilities.wildcards && !options.wildcard)(
    'wildcard: a filter receives messages from every matching topic',
    async () => {
      const wildcard = options.wildcard
      if (!wildcard) throw new Error('capabilities.wildcards is true: pass options.wildcard to test it')
      const { sub, pub } = await openPair(ctx)
      const inbox = new Inbox()
      await sub.conn.subscribe(wildcard.filter, inbox.push, { qos: options.qos })
      await sleep(options.settleMs)
      await Promise.all(
        wildcard.topics.map((t, i) => pub.conn.publish(t, { payload: makePayload(i), qos: options.qos })),
      )
      const want = new Set(wildcard.topics.map((t, i) => `${i}@${t}`))
      const got = new Set<string>()
      await waitFor(
        () => {
          for (const m of inbox.messages) got.add(`${payloadSeq(m.payload)}@${m.topic}`)
          return [...want].every((w) => got.has(w))
        },
        waitBudget(ctx),
        `one message from each of ${wildcard.topics.join(', ')} on ${wildcard.filter}`,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; got ${[...got].join(', ') || 'nothing'}`)
      })
    },
    timeout,
  )
}
