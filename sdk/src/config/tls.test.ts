import { describe, expect, it } from 'vitest'
import { tlsSchemeProblem } from './tls.ts'

describe('tlsSchemeProblem', () => {
  it('flags a tls section on a plain-text URL and accepts the encrypted schemes', () => {
    expect(tlsSchemeProblem('mqtt://h:1883', {}, ['mqtts', 'wss'])).toMatch(
      /tls is set but the URL is mqtt:\/\/.*use mqtts:\/\/ or wss:\/\//,
    )
    expect(tlsSchemeProblem('MQTTS://h:8883', {}, ['mqtts'])).toBeUndefined()
    expect(tlsSchemeProblem('mqtt://h:1883', undefined, ['mqtts'])).toBeUndefined()
    expect(tlsSchemeProblem(undefined, {}, ['kafka+ssl'])).toBeUndefined()
  })
})
