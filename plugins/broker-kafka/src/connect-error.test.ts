import { describe, expect, it } from 'vitest'
import { classifyKafkaError, toConnectionError } from './connect-error.ts'

function named(name: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name }, extra)
}

describe('kafka connect errors', () => {
  it('classifies SASL failures as auth, also when wrapped', () => {
    const sasl = named('KafkaJSSASLAuthenticationError', 'SASL PLAIN authentication failed')
    expect(classifyKafkaError(sasl)).toBe('auth')
    const wrapped = named('KafkaJSNonRetriableError', 'outer', { cause: sasl })
    expect(classifyKafkaError(wrapped)).toBe('auth')
  })

  it('classifies refused connections, TLS and timeouts', () => {
    const refused = named('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED', {
      code: 'ECONNREFUSED',
    })
    const retries = named('KafkaJSNumberOfRetriesExceeded', 'Connection error', { cause: refused })
    expect(classifyKafkaError(retries)).toBe('unreachable')
    expect(classifyKafkaError(named('X', 'self-signed', { code: 'SELF_SIGNED_CERT_IN_CHAIN' }))).toBe('tls')
    expect(classifyKafkaError(named('KafkaJSConnectionError', 'Connection timeout'))).toBe('timeout')
    expect(classifyKafkaError(named('KafkaJSProtocolError', 'weird'))).toBe('protocol')
  })

  it('names the broker and keeps the cause', () => {
    const cause = named('KafkaJSSASLAuthenticationError', 'bad creds')
    const err = toConnectionError(cause, 'kafka://127.0.0.1:9094')
    expect(err.kind).toBe('auth')
    expect(err.code).toBe('AUTH_FAILED')
    expect(err.message).toContain('kafka://127.0.0.1:9094')
    expect(err.message).toMatch(/^\[broker-kafka\]/)
    expect(err.cause).toBe(cause)
  })
})
