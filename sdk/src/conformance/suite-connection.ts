import { expect, it } from 'vitest'
import type { ConnectionStatus } from '../plugin.ts'
import { leakedSecrets } from '../testing/collecting-logger.ts'
import { handleCounts, settleHandles } from '../testing/handles.ts'
import { Inbox } from '../testing/inbox.ts'
import { startTcpProxy } from '../testing/tcp-proxy.ts'
import { sleep, waitFor, withTimeout } from '../testing/wait.ts'
import {
  describeThrown,
  isConnectionErrorOfKind,
  makePayload,
  type OpenedConnection,
  payloadSeq,
} from './harness.ts'
import { openPair, roundTrip, type SuiteContext, waitBudget } from './suite-context.ts'

/** Whether the connection reported an outage and, after it, a recovery. */
function recovered(statuses: ConnectionStatus[]): boolean {
  const down = statuses.findIndex((s) => s === 'disconnected' || s === 'reconnecting')
  return down >= 0 && statuses.indexOf('reconnected', down) > down
}

/** Every message and cause message of an error, to check none carries a secret. */
function errorTexts(err: unknown): string[] {
  const out: string[] = []
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    if (e instanceof Error) {
      out.push(e.message, e.stack ?? '')
      e = e.cause
    } else {
      out.push(String(e))
      break
    }
  }
  return out
}

/** Asserts that connecting rejects with a ConnectionError of `kind` that leaks no secret. */
async function expectConnectRejects(
  ctx: SuiteContext,
  attempt: Promise<OpenedConnection>,
  kind: 'auth' | 'tls',
): Promise<void> {
  const outcome = await withTimeout(
    attempt.then(
      () => undefined,
      (err: unknown) => err ?? new Error('rejected with no reason'),
    ),
    waitBudget(ctx),
    'connect',
  )
  expect(outcome, `connect must reject with ConnectionError kind '${kind}'`).toBeDefined()
  expect(isConnectionErrorOfKind(outcome, kind), describeThrown(outcome)).toBe(true)
  expect(leakedSecrets(errorTexts(outcome), ctx.secrets), 'secrets in the error').toEqual([])
}

/** Registers the recovery, auth, TLS and close tests. */
export function registerConnectionTests(ctx: SuiteContext): void {
  const { options } = ctx
  const timeout = options.timeoutMs

  it.skipIf(!options.proxy && !options.outage)(
    'recovery: reports the outage, reconnects, and delivers again after the server drops connections',
    async () => {
      const proxyOptions = options.proxy
      const proxy = proxyOptions ? await startTcpProxy(proxyOptions.host, proxyOptions.port) : undefined
      // Through the proxy the kit cuts the sockets; an in-process plugin brings its own outage.
      const cut = proxy ? () => proxy.dropAll() : options.outage!.inject
      let stop = false
      let loop: Promise<void> = Promise.resolve()
      try {
        const config = proxy ? proxyOptions!.configFor(proxy.port) : options.config
        const { sub, pub } = await openPair(ctx, config)
        const topic = options.topic('recovery')
        const inbox = new Inbox()
        await sub.conn.subscribe(topic, inbox.push, { qos: options.qos })
        await sleep(options.settleMs)
        let seq = 0
        loop = (async () => {
          while (!stop) {
            // Publishes during the outage may fail or stall; losing them is allowed.
            await withTimeout(
              pub.conn.publish(topic, { payload: makePayload(seq++), qos: options.qos }),
              2000,
              'publish',
            ).catch(() => undefined)
            await sleep(20)
          }
        })()
        await waitFor(() => inbox.messages.length >= 5, waitBudget(ctx), 'messages before the drop')
        if (proxy) expect(proxy.connections, 'connections through the proxy').toBeGreaterThan(0)
        await cut()
        await waitFor(
          () => recovered(sub.statuses) && recovered(pub.statuses),
          waitBudget(ctx),
          'onStatus(disconnected|reconnecting) then onStatus(reconnected) on both connections',
        ).catch((err: Error) => {
          throw new Error(`${err.message}; consumer: [${sub.statuses}], producer: [${pub.statuses}]`)
        })
        const firstAfter = seq
        await waitFor(
          () => inbox.messages.some((m) => payloadSeq(m.payload) >= firstAfter),
          waitBudget(ctx),
          'a message published after recovery',
        )
        stop = true
        await loop
        // Once delivery is back, it must be complete again.
        const base = seq + 1000
        const burst = [...Array(20).keys()].map((i) => base + i)
        await Promise.all(
          burst.map((s) => pub.conn.publish(topic, { payload: makePayload(s), qos: options.qos })),
        )
        await waitFor(
          () => {
            const got = new Set(inbox.messages.map((m) => payloadSeq(m.payload)))
            return burst.every((s) => got.has(s))
          },
          waitBudget(ctx),
          '20 messages published after recovery',
        )
      } finally {
        stop = true
        await loop
        await ctx.harness().closeAll()
        await proxy?.close()
      }
    },
    timeout * 2,
  )

  it.skipIf(!options.auth)(
    'auth: wrong credentials reject with ConnectionError kind auth, without leaking them',
    async () => {
      const auth = options.auth!
      const config = auth.config ?? options.config
      await expectConnectRejects(
        ctx,
        ctx.harness().open({ role: 'producer', config, credentials: auth.invalid }),
        'auth',
      )
      if (auth.valid) await roundTrip(ctx, await openPair(ctx, config, auth.valid), options.topic('auth'), 10)
    },
    timeout,
  )

  it.skipIf(!options.tls)(
    'tls: a round trip over TLS succeeds',
    async () => {
      const tls = options.tls!
      await roundTrip(ctx, await openPair(ctx, tls.config, tls.credentials), options.topic('tls'), 10)
    },
    timeout,
  )

  it.skipIf(!options.tls?.unknownCaConfig)(
    'tls: a server certificate from an unknown CA rejects with ConnectionError kind tls',
    async () => {
      const tls = options.tls!
      await expectConnectRejects(
        ctx,
        ctx.harness().open({ role: 'producer', config: tls.unknownCaConfig, credentials: tls.credentials }),
        'tls',
      )
    },
    timeout,
  )

  it(
    'close: idempotent, and leaves no sockets or timers behind',
    async () => {
      // Let earlier tests' sockets finish closing so the baseline is quiet.
      await sleep(300)
      const baseline = handleCounts()
      const pair = await openPair(ctx)
      await roundTrip(ctx, pair, options.topic('close'), 10)
      const budget = waitBudget(ctx)
      await withTimeout(pair.sub.conn.close(), budget, 'close()')
      await withTimeout(pair.sub.conn.close(), budget, 'second close()')
      await withTimeout(
        Promise.all([pair.pub.conn.close(), pair.pub.conn.close()]),
        budget,
        'concurrent close()',
      )
      const above = await settleHandles(baseline, 3000)
      expect(above, 'active handles above the baseline after close()').toEqual([])
    },
    timeout,
  )
}
