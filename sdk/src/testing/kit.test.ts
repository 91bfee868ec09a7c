import { describe, expect, it } from 'vitest'
import { Inbox } from './inbox.ts'
import { hasBinary, startPrivateServer } from './private-server.ts'
import { isPortOpen } from './require-service.ts'
import { createTestContext } from './test-context.ts'
import { sleep, waitFor, withTimeout } from './wait.ts'

describe('waitFor', () => {
  it('resolves once the predicate holds, sync or async', async () => {
    let n = 0
    await waitFor(() => ++n >= 3, 1000)
    expect(n).toBe(3)
    await waitFor(async () => true, 10)
  })

  it('names what it waited for, evaluated at the deadline', async () => {
    let have = 0
    const t = setInterval(() => have++, 5)
    try {
      await expect(
        waitFor(
          () => false,
          50,
          () => `10 messages, have ${have}`,
        ),
      ).rejects.toThrow(/timed out after 50 ms waiting for 10 messages, have [1-9]/)
    } finally {
      clearInterval(t)
    }
  })

  it('withTimeout rejects a promise that does not settle, and passes one that does', async () => {
    await expect(withTimeout(new Promise(() => undefined), 20, 'never')).rejects.toThrow(
      'never did not settle within 20 ms',
    )
    expect(
      await withTimeout(
        sleep(1).then(() => 7),
        1000,
        'soon',
      ),
    ).toBe(7)
  })
})

describe('Inbox', () => {
  it('copies payloads, keeps order and headers, and waits for a count', async () => {
    const inbox = new Inbox()
    const reused = new TextEncoder().encode('a')
    inbox.push({ topic: 't', payload: reused, headers: { h: '1' } })
    reused[0] = 'b'.charCodeAt(0)
    inbox.push({ topic: 't', payload: reused })
    setTimeout(() => inbox.push({ topic: 'u', payload: new Uint8Array([0x63]) }), 20)
    await inbox.waitForCount(3, 1000)
    expect(inbox.texts()).toEqual(['a', 'b', 'c'])
    expect(inbox.messages[0]?.headers).toEqual({ h: '1' })
    expect(inbox.messages[1]).not.toHaveProperty('headers')
    await expect(inbox.waitForCount(4, 30)).rejects.toThrow('4 messages, received 3')
  })
})

describe('createTestContext', () => {
  it('gives unique client ids and records statuses and log lines', () => {
    const a = createTestContext()
    const b = createTestContext({ role: 'consumer', credentials: { password: 'pw' } })
    expect(a.clientId).not.toBe(b.clientId)
    expect(a.role).toBe('probe')
    expect(b.role).toBe('consumer')
    expect(a.credentials).toBeUndefined()
    expect(b.credentials).toEqual({ password: 'pw' })
    a.onStatus?.('connected')
    a.onStatus?.('disconnected')
    a.logger.warn('lost', { url: 'x' })
    expect(a.statuses).toEqual(['connected', 'disconnected'])
    expect(a.lines).toEqual(['warn lost {"url":"x"}'])
  })
})

// A tiny TCP server in a child Node process stands in for a broker binary.
const listener = `require('node:net').createServer((s) => s.end()).listen(Number(process.argv[1]), '127.0.0.1')`

describe('startPrivateServer', () => {
  it('starts on a free port, survives kill and restart, and stops idempotently', async () => {
    const server = await startPrivateServer({
      name: 'node listener',
      command: process.execPath,
      args: (port) => ['-e', listener, String(port)],
    })
    expect(await isPortOpen('127.0.0.1', server.port)).toBe(true)
    await server.kill()
    expect(await isPortOpen('127.0.0.1', server.port, 300)).toBe(false)
    await server.restart()
    expect(await isPortOpen('127.0.0.1', server.port)).toBe(true)
    await server.stop()
    await server.stop()
    expect(await isPortOpen('127.0.0.1', server.port, 300)).toBe(false)
  })

  it('rejects with the output when the process exits at start, and when the binary is missing', async () => {
    await expect(
      startPrivateServer({
        name: 'failing',
        command: process.execPath,
        args: () => ['-e', 'console.error("bad config line 3"); process.exit(3)'],
      }),
    ).rejects.toThrow(/failing on port \d+ exited \(3\): bad config line 3/)
    await expect(
      startPrivateServer({ name: 'ghost', command: '/nonexistent/ghost-server', args: () => [] }),
      // Node says `spawn /path ENOENT`, Bun `ENOENT: no such file or directory, posix_spawn '/path'`.
    ).rejects.toThrow(
      /ghost on port \d+ .*ENOENT.*\/nonexistent\/ghost-server|ghost on port \d+ spawn \/nonexistent\/ghost-server ENOENT/,
    )
    expect(hasBinary('/nonexistent/ghost-server')).toBe(false)
    expect(hasBinary(process.execPath)).toBe(true)
    expect(hasBinary('sh')).toBe(true)
  })
})
