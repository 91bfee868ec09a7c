import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { mergeEncoded, statsOf } from '../engine/histogram.ts'
import { ClusterKeys } from './keys.ts'
import type { TopicSecond } from './topic-record.ts'

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'iotload.js')

/** A daemon process started by a test. */
export interface TestDaemon {
  proc: ChildProcess
  url: string
  logs: () => string
  exit: Promise<number | null>
}

/**
 * Starts `iotload daemon` in its own process. Only the given IOTLOAD_* variables reach it; with
 * `args` empty the daemon is configured by environment alone.
 */
export async function spawnDaemon(
  host: string,
  port: number,
  env: Record<string, string>,
  args: string[] = [],
): Promise<TestDaemon> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('IOTLOAD_')))
  const proc = spawn(process.execPath, [BIN, 'daemon', ...args], {
    env: { ...base, ...env, IOTLOAD_LOG_FORMAT: 'text' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let logs = ''
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    logs += d
  })
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    logs += d
  })
  const exit = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)))
  const url = `http://${host}:${port}`
  const until = Date.now() + 90_000 // generous: a loaded 2-core machine
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`daemon ${url} exited: ${logs}`)
    try {
      const res = await fetch(`${url}/healthz`)
      if (res.ok && logs.includes('joined the cluster')) break
    } catch {}
    if (Date.now() > until) throw new Error(`daemon ${url} did not come up: ${logs}`)
    await new Promise((r) => setTimeout(r, 200))
  }
  return { proc, url, logs: () => logs, exit }
}

/** Stops daemons (SIGTERM, then SIGKILL after 10 s). */
export async function stopDaemons(daemons: TestDaemon[]): Promise<void> {
  await Promise.all(
    daemons.map(async (d) => {
      if (d.proc.exitCode !== null || d.proc.signalCode !== null) return
      d.proc.kill('SIGTERM')
      const t = setTimeout(() => d.proc.kill('SIGKILL'), 10_000)
      await d.exit
      clearTimeout(t)
    }),
  )
}

/** A run document as the API serves it (loosely typed for assertions). */
// biome-ignore lint/suspicious/noExplicitAny: test-side view of a JSON document
export type TestRun = Record<string, any>

/** Polls a run until it has ended; returns the run document. */
export async function waitForRun(url: string, id: string, timeoutMs: number): Promise<TestRun> {
  const until = Date.now() + timeoutMs
  for (;;) {
    const run = (await (await fetch(`${url}/v1/runs/${id}`)).json()) as TestRun
    if (['completed', 'failed', 'stopped', 'interrupted'].includes(run.status)) return run
    if (Date.now() > until) throw new Error(`run ${id} still ${run.status}`)
    await new Promise((r) => setTimeout(r, 500))
  }
}

/** Every per-topic second record of a run, read straight from Redis. */
export async function readTopicSeconds(
  redis: Redis,
  keys: ClusterKeys,
  run: string,
  topics: string[],
): Promise<TopicSecond[]> {
  const out: TopicSecond[] = []
  for (const t of topics) for (const v of await redis.hvals(keys.results(run, t))) out.push(JSON.parse(v))
  return out
}

/** The test's own merge: per daemon first, then the daemons together. */
export function mergeByHand(records: TopicSecond[]): { p50: number; p99: number; count: number } {
  const byMember = new Map<string, string[]>()
  for (const r of records) {
    if (!r.raw) continue
    const l = byMember.get(r.m) ?? []
    l.push(r.raw)
    byMember.set(r.m, l)
  }
  const perDaemon = [...byMember.values()].map((encoded) => mergeEncoded(encoded))
  const total = mergeEncoded([])
  for (const h of perDaemon) total.add(h)
  const s = statsOf(total)
  return { p50: s.p50, p99: s.p99, count: s.count }
}

/** Deletes every key a run created, by name (no KEYS scans). */
export async function cleanupRun(
  redis: Redis,
  keys: ClusterKeys,
  run: string,
  memberIds: string[],
): Promise<void> {
  // Advertised topics plus claimed ones (a bridged run's consumers claim the bridge's output topics).
  const claimed = (await redis.lrange(keys.owners(run), 0, -1)).map(
    (e) => (JSON.parse(e) as { topic: string }).topic,
  )
  const topics = [...new Set([...(await redis.hkeys(keys.topics(run))), ...claimed])]
  const names = [
    ...keys.runKeys(run),
    ...keys.topicKeys(run, topics),
    ...memberIds.flatMap((m) => [
      keys.inbox(m),
      keys.clockRequests(m),
      ...memberIds.map((other) => `${keys.clockReplyPrefix(m)}${other}`),
    ]),
  ]
  for (let i = 0; i < names.length; i += 500) await redis.del(...names.slice(i, i + 500))
}

export { ClusterKeys, Redis }
