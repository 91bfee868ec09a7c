import { describe, expect, it } from 'vitest'
import { compileTextTemplate, templateToFilter } from './text-template.ts'

describe('compileTextTemplate', () => {
  it('renders placeholders and keeps {{ and }} as literal braces', () => {
    expect(compileTextTemplate('dev-{device}-{run}', 't')({ device: 7, run: 'r1' })).toBe('dev-7-r1')
    expect(compileTextTemplate('p{{x}}w-{device}', 'broker.auth.password')({ device: 3, run: 'r' })).toBe(
      'p{x}w-3',
    )
    expect(compileTextTemplate('a{b', 't')({ device: 1, run: 'r' })).toBe('a{b')
  })

  it('names the field of an unknown placeholder, and never echoes part of a secret', () => {
    expect(() => compileTextTemplate('devices/{devce}', 'producer.topic')).toThrow(
      /producer\.topic: unknown placeholder \{devce\}/,
    )
    let message = ''
    try {
      compileTextTemplate('hunter{x}2', 'broker.auth.password')
    } catch (err) {
      message = (err as Error).message
    }
    expect(message).toMatch(/broker\.auth\.password: an unknown placeholder.*\{\{ and \}\}/)
    expect(message).not.toContain('{x}')
  })

  it('turns placeholders into wildcards and escapes into braces in filters', () => {
    expect(templateToFilter('devices/{device}/t', '+')).toBe('devices/+/t')
    expect(templateToFilter('odd/{{x}}/{device}', '+')).toBe('odd/{x}/+')
    expect(templateToFilter('odd.{{x}}.{device}', '*')).toBe('odd.{x}.*')
  })

  it('widens a level a placeholder shares with text to the whole level (brokers refuse `dev-+`)', () => {
    expect(templateToFilter('fleet-{run}/meters/dev-{device}/t', '+')).toBe('+/meters/+/t')
    expect(templateToFilter('site/{run}-{device}', '+')).toBe('site/+')
    expect(templateToFilter('devices.d{device}.telemetry', '*')).toBe('devices.*.telemetry')
    expect(templateToFilter('plain/topic', '+')).toBe('plain/topic')
  })
})
