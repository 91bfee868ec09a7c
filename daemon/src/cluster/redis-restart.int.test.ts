import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requireService } from '@iotload/sdk/testing'
import { afterAll, describe, expect, it } from 'vitest'
import { ClusterKeys, Redis, spawnDaemon, stopDaemons, type TestDaemon } from './cluster-test-helpers.ts'

// A private Redis (TLS + password) this test may stop and restart; the shared one stays untouched.
const redisUp = await requireService('Redis', '127.0.0.1', 6379)
const haveTools = existsSync('/usr/bin/redis-server') && existsSync('/usr/bin/openssl')
const dir = mkdtempSync(join(tmpdir(), 'iotload-cluster-tls-'))
const port = 21000 + (process.pid % 20000)
const password = randomBytes(18).toString('hex')
const prefix = `iotload-tls-${process.pid}`

function makeCerts(): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' })
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=iotload-test-ca',
  )
  ssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=127.0.0.1',
  )
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n')
  ssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '1',
    '-extfile',
    'san.ext',
  )
}

function startRedis(): ChildProcess {
  // biome-ignore format: one flag per line reads better
  return spawn('redis-server', [
    '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1',
    '--tls-cert-file', join(dir, 'server.pem'), '--tls-key-file', join(dir, 'server.key'),
    '--tls-ca-cert-file', join(dir, 'ca.pem'), '--tls-auth-clients', 'no',
    '--requirepass', password, '--save', '', '--appendonly', 'no', '--dir', dir,
  ], { stdio: 'ignore' })
}

async function stopRedis(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return
  const exited = new Promise((r) => p.once('exit', r))
  p.kill('SIGTERM')
  await exited
}

describe.skipIf(!redisUp || !haveTools)('cluster over TLS with a password, across a Redis restart', () => {
  let redisProc: ChildProcess | undefined
  const daemons: TestDaemon[] = []
  let client: Redis | undefined

  afterAll(async () => {
    await stopDaemons(daemons)
    client?.disconnect()
    if (redisProc) await stopRedis(redisProc)
    rmSync(dir, { recursive: true, force: true })
  })

  it('registers over rediss://, re-registers after Redis restarts, never logs the password', async () => {
    makeCerts()
    redisProc = startRedis()
    client = new Redis(`rediss://127.0.0.1:${port}`, {
      password,
      tls: { ca: readFileSync(join(dir, 'ca.pem')) },
      maxRetriesPerRequest: null,
      retryStrategy: () => 200,
    })
    client.on('error', () => {})
    await client.ping()
    const keys = new ClusterKeys(prefix)
    const d = await spawnDaemon('127.0.0.2', port + 1, {
      IOTLOAD_CLUSTER_URL: `rediss://127.0.0.1:${port}`,
      IOTLOAD_CLUSTER_PASSWORD: password,
      IOTLOAD_CLUSTER_TLS_CA: join(dir, 'ca.pem'),
      IOTLOAD_CLUSTER_PREFIX: prefix,
      IOTLOAD_CLUSTER_LEASE_MS: '3000',
      IOTLOAD_HOST: '127.0.0.2',
      IOTLOAD_PORT: String(port + 1),
      IOTLOAD_DB: join(dir, 'd.db'),
    })
    daemons.push(d)
    const [id] = await client.smembers(keys.members)
    expect(id).toMatch(/^127\.0\.0\.2:/)
    expect(JSON.parse((await client.get(keys.member(id!)))!).roles).toEqual(['any'])

    // Restart Redis (no persistence: every key is gone) and wait for the daemon to register again.
    await stopRedis(redisProc)
    redisProc = startRedis()
    const restartedAt = Date.now()
    let back = false
    while (Date.now() - restartedAt < 20_000) {
      try {
        if (await client.get(keys.member(id!))) {
          back = true
          break
        }
      } catch {}
      await new Promise((r) => setTimeout(r, 200))
    }
    expect(back, d.logs()).toBe(true)
    expect(await client.sismember(keys.members, id!)).toBe(1)
    expect(d.logs()).not.toContain(password)
    console.log(JSON.stringify({ reRegisteredMs: Date.now() - restartedAt }))
  }, 60_000)
})
