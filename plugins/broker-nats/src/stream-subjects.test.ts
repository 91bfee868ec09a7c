import { describe, expect, it } from 'vitest'
import { derivedStreamSubject, subjectMatches } from './stream-subjects.ts'

describe('derivedStreamSubject', () => {
  it('keeps the first token and captures everything below it', () => {
    expect(derivedStreamSubject('devices.dev-7.telemetry')).toBe('devices.>')
    expect(derivedStreamSubject('actions.*')).toBe('actions.>')
  })
  it('refuses a wildcard first token', () => {
    expect(() => derivedStreamSubject('*.telemetry')).toThrow(/list the subjects/)
    expect(() => derivedStreamSubject('>')).toThrow(/list the subjects/)
  })
})

describe('subjectMatches', () => {
  it.each([
    ['devices.>', 'devices.a.telemetry', true],
    ['devices.>', 'devices', false],
    ['devices.*.telemetry', 'devices.a.telemetry', true],
    ['devices.*.telemetry', 'devices.a.b.telemetry', false],
    ['devices.*', 'devices.*', true],
    ['devices.a', 'devices.*', false],
    ['actions.>', 'devices.a', false],
  ])('%s covers %s: %s', (pattern, subject, want) => {
    expect(subjectMatches(pattern, subject)).toBe(want)
  })
})
