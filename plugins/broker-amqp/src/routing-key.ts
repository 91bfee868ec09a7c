/**
 * iotload topics separate levels with '/', AMQP topic routing keys with '.'. The plugin swaps the
 * two characters, which is its own inverse: `devices/d-1.x/telemetry` ⇄ `devices.d-1/x.telemetry`,
 * so a received routing key maps back to exactly the topic that was published. A '.' inside an
 * iotload topic therefore stays inside one AMQP word and is not a level separator.
 */
const SWAP = /[./]/g
const swapChar = (c: string): string => (c === '.' ? '/' : '.')

/** Routing key for an iotload topic (`devices/d1/telemetry` → `devices.d1.telemetry`). */
export function topicToRoutingKey(topic: string): string {
  return topic.replace(SWAP, swapChar)
}

/** iotload topic for a received routing key; the inverse of {@link topicToRoutingKey}. */
export function routingKeyToTopic(routingKey: string): string {
  return routingKey.replace(SWAP, swapChar)
}

/**
 * Binding pattern for an MQTT-style filter: levels become words, a `+` level becomes `*`
 * (exactly one word), a `#` level stays `#` (zero or more words, like MQTT's `a/#` matching `a`).
 * Throws on filters whose meaning would silently change in AMQP.
 */
export function filterToBindingKey(filter: string): string {
  const levels = filter.split('/')
  const words: string[] = []
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string
    if (level === '+') words.push('*')
    else if (level === '#') {
      if (i !== levels.length - 1) throw new Error(`'#' must be the last level of filter '${filter}'`)
      words.push('#')
    } else if (level === '*') {
      throw new Error(`'*' is AMQP's own wildcard; write '+' in filter '${filter}'`)
    } else if (level.includes('+') || level.includes('#')) {
      throw new Error(`wildcards must fill a whole level in filter '${filter}'`)
    } else words.push(level.replaceAll('.', '/'))
  }
  return words.join('.')
}

/**
 * Bounded memo of the '/'⇄'.' swap for the hot paths: a fleet reuses a few thousand topics, so
 * each is translated once instead of once per message. The swap is its own inverse, so one
 * cache serves either direction (use one per direction to keep them small).
 */
export class SwapCache {
  private readonly map = new Map<string, string>()

  constructor(private readonly limit = 65_536) {}

  /** Routing key for a topic, or topic for a routing key. */
  swap(value: string): string {
    let swapped = this.map.get(value)
    if (swapped === undefined) {
      if (this.map.size >= this.limit) this.map.clear()
      swapped = value.replace(SWAP, swapChar)
      this.map.set(value, swapped)
    }
    return swapped
  }
}
