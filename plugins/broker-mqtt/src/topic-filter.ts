/**
 * MQTT filter matching (`+` one level, `#` the rest, `/` separator): one MQTT connection carries
 * several subscriptions, and each delivered message goes to those whose filter matches its topic.
 */
export function mqttFilterMatches(filter: string, topic: string): boolean {
  if (filter === topic || filter === '#') return true
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    const part = f[i]
    if (part === '#') return true
    if (i >= t.length) return false
    if (part !== '+' && part !== t[i]) return false
  }
  return f.length === t.length
}

/** Compiles a filter once into a fast predicate. */
export function compileMqttFilter(filter: string): (topic: string) => boolean {
  if (!filter.includes('+') && !filter.includes('#')) return (topic) => topic === filter
  return (topic) => mqttFilterMatches(filter, topic)
}
