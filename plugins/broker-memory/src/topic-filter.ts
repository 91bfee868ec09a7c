/**
 * MQTT-style filters: `/` separates levels, `+` matches one level, a final `#` the rest (and the
 * parent level itself). As in MQTT, a filter starting with a wildcard does not match `$` topics.
 */

/** Why `filter` is not a valid filter, or undefined when it is. */
export function filterProblem(filter: string): string | undefined {
  if (filter === '') return 'a filter must not be empty'
  const levels = filter.split('/')
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1))
      return `'#' must be a whole level and the last one, in '${filter}'`
    if (level.includes('+') && level !== '+') return `'+' must be a whole level, in '${filter}'`
  }
  return undefined
}

/** Whether `topic` can be published to: not empty, no wildcard characters. */
export function topicProblem(topic: string): string | undefined {
  if (topic === '') return 'a topic must not be empty'
  if (topic.includes('+') || topic.includes('#')) return `wildcards are not allowed in a topic: '${topic}'`
  return undefined
}

/** Compiles a valid filter into a predicate over topics. */
export function compileFilter(filter: string): (topic: string) => boolean {
  if (!filter.includes('+') && !filter.includes('#')) return (topic) => topic === filter
  const f = filter.split('/')
  const leadingWildcard = f[0] === '+' || f[0] === '#'
  return (topic) => {
    if (leadingWildcard && topic.startsWith('$')) return false
    const t = topic.split('/')
    for (let i = 0; i < f.length; i++) {
      const part = f[i]
      if (part === '#') return true
      if (i >= t.length) return false
      if (part !== '+' && part !== t[i]) return false
    }
    return f.length === t.length
  }
}
