import { describe, expect, it } from 'vitest'
import { displayServers, failureKind, toPublishError } from './errors.ts'

describe('failureKind', () => {
  it('classifies by name and by code along the cause chain', () => {
    const named = (name: string, extra: object = {}) => Object.assign(new Error('x'), { name }, extra)
    expect(failureKind(named('AuthorizationError'))).toBe('auth')
    expect(failureKind(named('Error', { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }))).toBe('tls')
    expect(failureKind(named('TimeoutError'))).toBe('timeout')
    expect(failureKind(new Error('wrapped', { cause: named('Error', { code: 'ECONNREFUSED' }) }))).toBe(
      'unreachable',
    )
    expect(failureKind(new Error('weird'))).toBe('protocol')
  })
})

describe('displayServers', () => {
  it('drops user info from URLs', () => {
    expect(displayServers(['nats://u:secret@h:1', 'tls://h:2'])).toBe('nats://h:1, tls://h:2')
  })
})

describe('toPublishError', () => {
  it('turns a closed-connection error into ClosedError', () => {
    const closed = Object.assign(new Error('closed'), { name: 'ClosedConnectionError' })
    expect(toPublishError(closed, 's').name).toBe('ClosedError')
    expect(toPublishError(new Error('boom'), 'a.b').message).toContain("'a.b'")
  })
})
