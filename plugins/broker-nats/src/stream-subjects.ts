import { ConfigError } from '@iotload/sdk'

/**
 * The stream subject that covers `subject`: its first token plus `>`, so `devices.dev-7.telemetry`
 * (and every other device) maps to `devices.>`. A wildcard first token cannot be derived.
 */
export function derivedStreamSubject(subject: string): string {
  const first = subject.split('.', 1)[0]!
  if (first === '' || first === '*' || first === '>') {
    throw new ConfigError(
      'broker.jetstream.subjects',
      `cannot derive a stream subject from '${subject}'; list the subjects explicitly`,
    )
  }
  return `${first}.>`
}

/** Whether NATS `subject` (or filter) is matched by stream subject `pattern`. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.')
  const s = subject.split('.')
  for (let i = 0; i < p.length; i++) {
    const token = p[i]
    if (token === '>') return s.length > i
    if (i >= s.length) return false
    // A filter's own '*' is only covered by a pattern '*' (or '>', handled above).
    if (token !== '*' && token !== s[i]) return false
  }
  return p.length === s.length
}
