import type { BrokerPlugin } from '../plugin.ts'
import { Inbox } from '../testing/inbox.ts'
import { sleep, waitFor } from '../testing/wait.ts'
import { type Harness, makePayload, type OpenedConnection, payloadSeq, sameBytes } from './harness.ts'
import type { ResolvedConformanceOptions } from './options.ts'

/** What every group of conformance tests shares. */
export interface SuiteContext {
  plugin: BrokerPlugin
  options: ResolvedConformanceOptions
  /** Secret values that must never appear in logs or error messages. */
  secrets: string[]
  /** The harness of the running test (a fresh one per test). */
  harness(): Harness
}

/** Budget for one wait inside a test, leaving headroom for cleanup within the test timeout. */
export function waitBudget(ctx: SuiteContext): number {
  return Math.floor(ctx.options.timeoutMs * 0.7)
}

/** Opens a consumer and a producer connection with distinct client ids. */
export async function openPair(
  ctx: SuiteContext,
  config: unknown = ctx.options.config,
  credentials = ctx.options.credentials,
): Promise<{ sub: OpenedConnection; pub: OpenedConnection }> {
  const h = ctx.harness()
  const sub = await h.open({ role: 'consumer', config, credentials })
  const pub = await h.open({ role: 'producer', config, credentials })
  return { sub, pub }
}

/** Subscribes, waits `settleMs`, publishes `count` messages and checks each arrives intact on `topic`. */
export async function roundTrip(
  ctx: SuiteContext,
  pair: { sub: OpenedConnection; pub: OpenedConnection },
  topic: string,
  count: number,
): Promise<Inbox> {
  const { qos } = ctx.options
  const inbox = new Inbox()
  await pair.sub.conn.subscribe(topic, inbox.push, { qos })
  await sleep(ctx.options.settleMs)
  const pending: Promise<void>[] = []
  for (let i = 0; i < count; i++) pending.push(pair.pub.conn.publish(topic, { payload: makePayload(i), qos }))
  await Promise.all(pending)
  const seen = new Set<number>()
  let scanned = 0
  await waitFor(
    () => {
      for (; scanned < inbox.messages.length; scanned++) {
        const seq = payloadSeq(inbox.messages[scanned]!.payload)
        if (seq >= 0 && seq < count) seen.add(seq)
      }
      return seen.size === count
    },
    waitBudget(ctx),
    `${count} messages on ${topic} (got ${inbox.messages.length})`,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; received ${seen.size} distinct of ${count}`)
  })
  for (const m of inbox.messages) {
    if (m.topic !== topic) throw new Error(`message delivered with topic '${m.topic}', expected '${topic}'`)
    const seq = payloadSeq(m.payload)
    if (!sameBytes(m.payload, makePayload(seq)))
      throw new Error(`payload of message ${seq} was altered in transit`)
  }
  return inbox
}
