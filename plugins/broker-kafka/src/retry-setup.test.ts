import { describe, expect, it } from 'vitest'
import { isTransient, retrySetup } from './retry-setup.ts'

const err = (name: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(name), { name, ...extra })

describe('set-up retries', () => {
  it('treats leader moves and a missing coordinator as transient, auth never', () => {
    expect(isTransient(err('KafkaJSProtocolError', { retriable: true }))).toBe(true)
    expect(isTransient(err('KafkaJSGroupCoordinatorNotFound', { retriable: false }))).toBe(true)
    expect(isTransient(err('X', { cause: err('KafkaJSProtocolError', { retriable: true }) }))).toBe(true)
    expect(isTransient(err('KafkaJSProtocolError', { retriable: false }))).toBe(false)
    expect(isTransient(err('KafkaJSSASLAuthenticationError', { retriable: true }))).toBe(false)
    expect(isTransient('text')).toBe(false)
  })

  it('retries transient failures and gives up on others at once', async () => {
    let calls = 0
    await expect(
      retrySetup(
        async () => {
          if (++calls < 3) throw err('KafkaJSProtocolError', { retriable: true })
          return 'ok'
        },
        5,
        1,
      ),
    ).resolves.toBe('ok')
    expect(calls).toBe(3)
    calls = 0
    const fatal = retrySetup(
      async () => {
        calls++
        throw err('KafkaJSProtocolError', { retriable: false })
      },
      5,
      1,
    )
    await expect(fatal).rejects.toThrow('KafkaJSProtocolError')
    expect(calls).toBe(1)
    calls = 0
    await expect(
      retrySetup(
        async () => {
          calls++
          throw err('KafkaJSProtocolError', { retriable: true })
        },
        4,
        1,
      ),
    ).rejects.toThrow()
    expect(calls).toBe(4)
  })
})
