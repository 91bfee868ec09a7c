import { describe, expect, it } from 'vitest'
import { SecretRegistry } from '../log/secret-registry.ts'
import { templatePattern } from './text-template.ts'

describe('SecretRegistry', () => {
  it('scrubs a secret that contains another one whole, whatever the order they came in', () => {
    const r = new SecretRegistry()
    r.add('s3cr')
    r.add('s3cr-et-longer')
    expect(r.scrub('a s3cr-et-longer b s3cr')).toBe('a [redacted] b [redacted]')
  })

  it('forgets scoped values when the last user closes the scope, and keeps process-wide ones', () => {
    const r = new SecretRegistry()
    r.add('global-pw')
    r.openScope('run1')
    r.openScope('run1') // a second role of the same run
    r.add('dev-1-pw', 'run1')
    r.add('dev-1-pw', 'run1')
    expect(r.size).toBe(2)
    r.closeScope('run1')
    expect(r.scrub('dev-1-pw')).toBe('[redacted]')
    r.closeScope('run1')
    expect(r.scrub('dev-1-pw global-pw')).toBe('dev-1-pw [redacted]')
    expect(r.size).toBe(1)
  })

  it('keeps a value added to a scope that is not open for the life of the process', () => {
    const r = new SecretRegistry()
    r.add('orphan-pw', 'never-opened')
    expect(r.scrub('orphan-pw')).toBe('[redacted]')
  })

  it('ignores values too short to scrub without mangling ordinary text', () => {
    const r = new SecretRegistry()
    r.add('ab')
    expect(r.scrub('abc')).toBe('abc')
    expect(r.size).toBe(0)
  })

  it('redacts the password of a URL it has never seen, with or without a user', () => {
    expect(new SecretRegistry().scrub('redis://user:hunter2@host:6379')).toBe(
      'redis://user:[redacted]@host:6379',
    )
    expect(new SecretRegistry().scrub('mqtt://:NoUserPw77@127.0.0.1:1883')).toBe(
      'mqtt://:[redacted]@127.0.0.1:1883',
    )
    expect(new SecretRegistry().scrub('http://127.0.0.1:7878/v1/runs')).toBe('http://127.0.0.1:7878/v1/runs')
  })

  it('scrubs every value a per-device template renders with one pattern, for the life of the scope', () => {
    const r = new SecretRegistry()
    r.openScope('run9')
    r.addPattern(templatePattern('p.w+{device}-{run}-{{x}}', 'run9'), 'run9')
    expect(r.size).toBe(1)
    expect(r.scrub('a p.w+7-run9-{x} b p.w+123456-run9-{x}')).toBe('a [redacted] b [redacted]')
    // Regex metacharacters of the template are literal: 'p.w+' does not match 'pXww'.
    expect(r.scrub('pXww7-run9-{x}')).toBe('pXww7-run9-{x}')
    r.closeScope('run9')
    expect(r.scrub('p.w+7-run9-{x}')).toBe('p.w+7-run9-{x}')
    expect(r.size).toBe(0)
  })
})
