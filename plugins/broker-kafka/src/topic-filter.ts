/**
 * Kafka has no server-side wildcards and its topic names allow only `[a-zA-Z0-9._-]` (no `/`).
 * Scenarios therefore use `.` as the level separator (`iot.telemetry`, `devices.{device}.telemetry`)
 * and this plugin matches filters itself: `*` is one level, `>` the rest (both are illegal in
 * topic names, so a filter can never be mistaken for a topic). A filter written `/…/` is a raw
 * regular expression over the whole topic name.
 */
export const KAFKA_WILDCARDS = { single: '*', multi: '>' } as const

const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/

/** Why `topic` is not a legal Kafka topic name, or undefined when it is. */
export function topicNameProblem(topic: string): string | undefined {
  if (LEGAL_TOPIC.test(topic) && topic !== '.' && topic !== '..') return undefined
  if (topic.includes('/'))
    return `Kafka topic names cannot contain '/': use '.' as the level separator (e.g. '${topic.replaceAll('/', '.')}')`
  return 'Kafka topic names are 1-249 characters of [a-zA-Z0-9._-]'
}

/** A parsed subscription filter: one literal topic, or a pattern matched against topic names. */
export type TopicFilter = { literal: string } | { pattern: RegExp }

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * Parses a subscription filter. Throws an Error whose message says what is wrong.
 *
 * @example parseTopicFilter('devices.*.telemetry') // { pattern: /^devices\.[^.]+\.telemetry$/ }
 */
export function parseTopicFilter(filter: string): TopicFilter {
  if (filter.length > 2 && filter.startsWith('/') && filter.endsWith('/'))
    return { pattern: new RegExp(filter.slice(1, -1)) }
  if (!filter.includes(KAFKA_WILDCARDS.single) && !filter.includes(KAFKA_WILDCARDS.multi)) {
    const problem = topicNameProblem(filter)
    if (problem) throw new Error(`invalid topic '${filter}': ${problem}`)
    return { literal: filter }
  }
  const levels = filter.split('.')
  const parts = levels.map((level, i) => {
    if (level === KAFKA_WILDCARDS.single) return '[^.]+'
    if (level === KAFKA_WILDCARDS.multi) {
      if (i !== levels.length - 1) throw new Error(`invalid filter '${filter}': '>' must be the last level`)
      return '.+'
    }
    if (level.includes('*') || level.includes('>'))
      throw new Error(`invalid filter '${filter}': wildcards must fill a whole level`)
    const problem = topicNameProblem(level || 'x')
    if (problem) throw new Error(`invalid filter '${filter}': ${problem}`)
    return escapeRegExp(level)
  })
  return { pattern: new RegExp(`^${parts.join('\\.')}$`) }
}
