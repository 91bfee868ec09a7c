import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { testBrokerPlugin } from '@iotload/sdk/conformance'
import { requireService } from '@iotload/sdk/testing'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import type { RunSummary } from '../engine/summary.ts'
import { IOTLOAD_BIN } from '../telemetry/test-helpers.ts'
import { loadPlugin } from './loader.ts'
import { findPluginPackage } from './plugin-manifest.ts'

/**
 * A seventh broker written as an outside author would: examples/plugins/broker-redis-streams is
 * not a workspace, is packed with `npm pack`, installed with `iotload plugins install ./….tgz`
 * into a fresh plugin directory while a daemon is already running, and then run by the
 * conformance kit, the CLI (Node and Bun) and that daemon, against the machine's Redis.
 */
const redisUp = await requireService('Redis', '127.0.0.1', 6379)
const EXAMPLE = join(import.meta.dirname, '..', '..', '..', 'examples', 'plugins', 'broker-redis-streams')
const BUN = join(createRequire(import.meta.url).resolve('bun/package.json'), '..', 'bin', 'bun.exe')
const work = mkdtempSync(join(tmpdir(), 'iotload-outside-'))
const pluginDir = join(work, 'plugins')
// Unique per test file run: nothing shared on Redis (other agents, other tests) can collide.
const prefix = `iotload-it-rs-${randomUUID().slice(0, 8)}:`
const env = {
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('IOTLOAD_'))),
  IOTLOAD_PLUGIN_DIR: pluginDir,
  IOTLOAD_LOG_FORMAT: 'text',
}
process.env.IOTLOAD_PLUGIN_DIR = pluginDir

function cli(
  runtime: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(runtime, [IOTLOAD_BIN, ...args], {
      cwd: work,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

async function startDaemon(runtime: string): Promise<{ proc: ChildProcess; url: string; log: () => string }> {
  const proc = spawn(
    runtime === 'bun' ? BUN : process.execPath,
    [
      IOTLOAD_BIN,
      'daemon',
      '--port',
      '0',
      '--db',
      join(work, `daemon-${runtime}.db`),
      '--allow-plugin-install',
    ],
    {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  let log = ''
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    log += d
  })
  for (const end = Date.now() + 60_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    const m = /listening url=(http:\/\/\S+)/.exec(log)
    if (m) return { proc, url: m[1]!, log: () => log }
    if (proc.exitCode !== null) break
  }
  throw new Error(`daemon did not start: ${log}`)
}

function scenario(name: string, topic: string): Record<string, unknown> {
  return {
    name,
    broker: { plugin: 'redis-streams', url: 'redis://127.0.0.1:6379', keyPrefix: prefix, blockMs: 200 },
    producer: {
      devices: 10,
      rate: '20/s',
      duration: '3s',
      warmup: '1s',
      topic: `${topic}/telemetry`,
      payload: { v: '{int:1:9}' },
    },
    bridge: { from: `${topic}/telemetry`, to: `${topic}/actions` },
    slo: { loss: 0 },
    run: { drain: '2s' },
  }
}

const daemons = new Map<string, Awaited<ReturnType<typeof startDaemon>>>()
let installOutput = ''
let plugin: Awaited<ReturnType<typeof loadPlugin>> | undefined
if (redisUp) {
  // Both runtimes serve the same hono app; both start before the plugin exists.
  for (const runtime of ['node', 'bun']) daemons.set(runtime, await startDaemon(runtime))
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', EXAMPLE, '--pack-destination', work, '--json'], { encoding: 'utf8' }),
  ) as Array<{ filename: string }>
  const install = await cli(process.execPath, ['plugins', 'install', `./${packed!.filename}`])
  installOutput = install.stdout + install.stderr
  if (install.code !== 0) throw new Error(`iotload plugins install failed: ${installOutput}`)
  plugin = await loadPlugin('redis-streams')
}

afterAll(async () => {
  for (const d of daemons.values()) d.proc.kill('SIGTERM')
  if (redisUp) {
    const redis = new Redis('redis://127.0.0.1:6379')
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
    await redis.quit()
  }
  rmSync(work, { recursive: true, force: true })
})

describe.skipIf(!redisUp)('an outside plugin: Redis Streams, packed and installed with the CLI', () => {
  it('lands in the plugin directory with its own dependencies, and lists with version and capabilities', async () => {
    expect(installOutput).toContain(
      `installed iotload-broker-redis-streams@0.1.0 as 'redis-streams' in ${pluginDir}`,
    )
    const found = findPluginPackage(pluginDir, 'redis-streams')
    expect(realpathSync(found!.dir)).toBe(
      realpathSync(join(pluginDir, 'node_modules', 'iotload-broker-redis-streams')),
    )
    expect(existsSync(join(pluginDir, 'node_modules', 'ioredis', 'package.json'))).toBe(true)
    const list = await cli(process.execPath, ['plugins'])
    expect(list.stdout).toMatch(
      /redis-streams +iotload-broker-redis-streams@0\.1\.0 +headers, publishAck +\(installed\)/,
    )
  })

  testBrokerPlugin(plugin!, {
    config: { url: 'redis://127.0.0.1:6379', keyPrefix: prefix, blockMs: 200 },
    topic: (s) => `conformance/${s}`,
    proxy: {
      host: '127.0.0.1',
      port: 6379,
      configFor: (p) => ({ url: `redis://127.0.0.1:${p}`, keyPrefix: prefix, blockMs: 200 }),
    },
  })

  for (const runtime of ['node', 'bun'] as const) {
    it(`iotload run (${runtime}) measures a bridged path through it`, async () => {
      const file = join(work, `${runtime}.yaml`)
      writeFileSync(file, stringify(scenario(`redis streams via ${runtime}`, `cli-${runtime}`)))
      const out = join(work, `${runtime}.json`)
      const bin = runtime === 'bun' ? BUN : process.execPath
      const r = await cli(bin, ['run', file, '--json', out, '--db', join(work, `${runtime}.db`), '-q'])
      expect(r.code, r.stderr).toBe(0)
      const e2e = (JSON.parse(readFileSync(out, 'utf8')) as RunSummary).streams.e2e!
      expect(e2e.sent).toBeGreaterThan(400)
      expect(e2e.received).toBe(e2e.sent)
      expect(e2e.invalid).toBe(0)
    }, 60_000)
  }

  for (const runtime of ['node', 'bun'] as const)
    it(`the daemon (${runtime}), started before the install, runs it without a restart, and refuses installs by path`, async () => {
      const daemon = daemons.get(runtime)!
      const url = daemon.url
      const post = (path: string, body: unknown) =>
        fetch(`${url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      const created = await post(
        '/v1/runs',
        scenario(`redis streams via the ${runtime} daemon`, `daemon-${runtime}`),
      )
      expect(created.status, await created.clone().text()).toBe(201)
      const { id } = (await created.json()) as { id: string }
      let run: { status: string; summary: RunSummary | null } | undefined
      for (const end = Date.now() + 40_000; Date.now() < end; await new Promise((r) => setTimeout(r, 250))) {
        run = (await (await fetch(`${url}/v1/runs/${id}`)).json()) as typeof run
        if (run && !['pending', 'connecting', 'running', 'draining'].includes(run.status)) break
      }
      expect(run?.status, daemon.log()).toBe('completed')
      expect(run?.summary?.streams.e2e?.received).toBe(run?.summary?.streams.e2e?.sent)
      const listed = (await (await fetch(`${url}/v1/plugins`)).json()) as { plugins: Array<{ name: string }> }
      expect(listed.plugins.map((p) => p.name)).toContain('redis-streams')
      // A request may name allowed packages, never files: the operator's CLI installs tarballs.
      for (const name of [join(work, 'x.tgz'), './x.tgz', 'redis-streams@file:./x.tgz', '@acme/broker-redis'])
        expect((await post('/v1/plugins', { name })).status, name).toBe(400)
    }, 60_000)
})
