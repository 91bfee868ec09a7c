import { ConfigError, type WildcardSyntax } from '@iotload/sdk'

/** MQTT-style wildcards on top of ZeroMQ's byte-prefix subscriptions. */
export const ZEROMQ_WILDCARDS: WildcardSyntax = { single: '+', multi: '#' }

/** A subscription filter ready for the hot path. */
export interface TopicFilter {
  /**
   * Literal levels before the first wildcard, without a trailing separator: the ZeroMQ SUB prefix.
   * Broader than the filter (ZeroMQ matches bytes, `a/b` also lets `a/bc` through), so every
   * delivered message still goes through `matches`.
   */
  prefix: string
  /** Full match of a topic against the filter; allocation-free. */
  matches(topic: string): boolean
}

/**
 * Compiles a filter. `single` matches exactly one level (possibly empty); `multi` matches zero or
 * more trailing levels and must be the last level, as in MQTT. A wildcard character inside a level
 * (`a+b`) is literal: ZeroMQ topics are arbitrary strings.
 *
 * @example compileFilter('devices/+/telemetry', '/').matches('devices/7/telemetry') // true
 */
export function compileFilter(
  filter: string,
  separator = '/',
  syntax: WildcardSyntax = ZEROMQ_WILDCARDS,
): TopicFilter {
  const levels = filter.split(separator)
  const first = levels.findIndex((l) => l === syntax.single || l === syntax.multi)
  if (first === -1) return { prefix: filter, matches: (topic) => topic === filter }
  const multiAt = levels.indexOf(syntax.multi)
  if (multiAt !== -1 && multiAt !== levels.length - 1) {
    throw new ConfigError('', `invalid filter '${filter}': '${syntax.multi}' must be the last level`, {
      source: 'broker-zeromq',
    })
  }
  const { single, multi } = syntax
  return {
    prefix: levels.slice(0, first).join(separator),
    matches: (topic) => matchLevels(levels, topic, separator, single, multi),
  }
}

function matchLevels(levels: string[], topic: string, sep: string, single: string, multi: string): boolean {
  // pos: start of the current topic level; -1 once the topic has no levels left.
  let pos = 0
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string
    if (level === multi) return true
    if (pos === -1) return false
    const end = topic.indexOf(sep, pos)
    const levelEnd = end === -1 ? topic.length : end
    if (level !== single && (levelEnd - pos !== level.length || !topic.startsWith(level, pos))) return false
    pos = end === -1 ? -1 : end + sep.length
  }
  return pos === -1
}
