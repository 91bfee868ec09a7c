import { describe, expect, it } from 'vitest'
import { createCollectingLogger, leakedSecrets } from '../testing/collecting-logger.ts'
import { secretValues } from './options.ts'

describe('collecting logger', () => {
  it('keeps every line with its fields, and finds secrets in them', () => {
    const log = createCollectingLogger()
    log.info('connected', { url: 'nats://h:1' })
    log.warn('failed', { error: new Error('bad password hunter22') })
    expect(log.lines).toEqual([
      'info connected {"url":"nats://h:1"}',
      'warn failed {"error":"Error: bad password hunter22"}',
    ])
    expect(leakedSecrets(log.lines, ['hunter22'])).toEqual([
      'warn failed {"error":"Error: bad password <SECRET>"}',
    ])
    expect(leakedSecrets(log.lines, ['other-secret'])).toEqual([])
  })
})

describe('secretValues', () => {
  it('collects passwords and tokens of every credential set, skipping values too short to search for', () => {
    const secrets = secretValues({
      config: {},
      topic: (s) => s,
      credentials: { username: 'u', password: 'pw-one' },
      auth: { invalid: { password: 'x' }, valid: { token: 'tok-two' } },
      tls: { config: {}, credentials: { password: 'pw-one' } },
    })
    expect(secrets.sort()).toEqual(['pw-one', 'tok-two'])
  })
})
