import { describe, expect, it } from 'vitest'
import { createLogger, MAX_LOGGED_CHARS } from './logger.ts'

function capture(foldMs = 200) {
  const lines: string[] = []
  return { lines, logger: createLogger({ write: (l) => lines.push(l), format: 'json', foldMs }) }
}

describe('createLogger', () => {
  it('caps every logged string, saying how much was left out', () => {
    const { lines, logger } = capture()
    logger.info('x'.repeat(900_000), { name: 'n'.repeat(5000), nested: { a: 'b'.repeat(500) } })
    expect(lines[0]!.length).toBeLessThan(4 * MAX_LOGGED_CHARS + 300)
    const entry = JSON.parse(lines[0]!) as { msg: string; name: string }
    expect(entry.msg).toMatch(/…\(\+899800 chars\)$/)
    expect(entry.name).toMatch(/…\(\+4800 chars\)$/)
  })

  it('folds a storm of the same warning into one line per window with a count', async () => {
    const { lines, logger } = capture(200)
    for (let i = 0; i < 72; i++) logger.warn('mqtt client error', { clientId: `dev-${i}` })
    logger.warn('another warning')
    expect(lines).toHaveLength(2)
    await new Promise((r) => setTimeout(r, 300))
    expect(lines).toHaveLength(3)
    const folded = JSON.parse(lines[2]!) as { msg: string; repeated: number }
    expect(folded.repeated).toBe(71)
    expect(folded.msg).toMatch(/and 71 more like it/)
    // Info lines are never folded.
    for (let i = 0; i < 3; i++) logger.info('run started')
    expect(lines.filter((l) => l.includes('run started'))).toHaveLength(3)
  })

  it('escapes control characters in text lines, so a value cannot forge a log line', () => {
    const lines: string[] = []
    const logger = createLogger({ write: (l) => lines.push(l), format: 'text' })
    logger.info('run started', { name: 'x\n2026-12-03T19:00:00.000Z WARN  forged\u0007' })
    expect(lines).toHaveLength(1)
    expect(lines[0]!.trimEnd()).not.toContain('\n')
    expect(lines[0]).toContain('x\\n2026-12-03T19:00:00.000Z WARN  forged\\x07')
  })
})
