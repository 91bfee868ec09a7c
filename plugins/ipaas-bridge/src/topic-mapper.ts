/**
 * Maps a concrete topic matched by the `from` template onto the `to` template, carrying the
 * placeholder captures: `devices/{device}/telemetry` + `devices/7/telemetry` → `actions/{device}` → `actions/7`.
 * Returns `undefined` when the topic does not match `from`.
 */
export function compileTopicMapper(from: string, to: string): (topic: string) => string | undefined {
  const names: string[] = []
  const pattern = from
    .split(/(\{[a-zA-Z]+\})/)
    .map((part) => {
      const m = /^\{([a-zA-Z]+)\}$/.exec(part)
      if (m) {
        names.push(m[1]!)
        return '([^/.]+)'
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    })
    .join('')
  const re = new RegExp(`^${pattern}$`)
  const unknown = [...to.matchAll(/\{([a-zA-Z]+)\}/g)].map((m) => m[1]!).filter((n) => !names.includes(n))
  if (unknown.length > 0)
    throw new Error(`bridge.to uses {${unknown[0]}}, which bridge.from does not capture`)
  if (names.length === 0) return (topic) => (topic === from ? to : undefined)
  return (topic) => {
    const m = re.exec(topic)
    if (!m) return undefined
    return to.replace(/\{([a-zA-Z]+)\}/g, (_, n: string) => m[names.indexOf(n) + 1] ?? '')
  }
}
