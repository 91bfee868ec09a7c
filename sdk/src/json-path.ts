/**
 * The subset of JSONPath that names one value: `$`, `$.a.b`, `$.list[0].x`, `$['key with.dots']`.
 * Compiled once into a getter so the hot path does no parsing.
 * @example compileJsonPath('$.original.lastUpdated')(doc) // → '2026-11-26T10:00:00.123Z'
 */
export function compileJsonPath(path: string): (doc: unknown) => unknown {
  const steps = parseJsonPath(path)
  return (doc) => {
    let v: unknown = doc
    for (const step of steps) {
      if (v === null || typeof v !== 'object') return undefined
      v = (v as Record<string | number, unknown>)[step]
    }
    return v
  }
}

/** Splits a JSON path into property names and array indexes; throws on anything else. */
export function parseJsonPath(path: string): Array<string | number> {
  if (!path.startsWith('$')) throw new Error(`JSON path '${path}' must start with '$'`)
  const steps: Array<string | number> = []
  let i = 1
  while (i < path.length) {
    const c = path[i]
    if (c === '.') {
      const m = /^[^.[\]]+/.exec(path.slice(i + 1))
      if (!m) throw new Error(`JSON path '${path}': empty name at offset ${i + 1}`)
      steps.push(m[0])
      i += 1 + m[0].length
    } else if (c === '[') {
      const rest = path.slice(i)
      const idx = /^\[(\d+)\]/.exec(rest)
      const quoted = /^\[(['"])((?:(?!\1).)*)\1\]/.exec(rest)
      if (idx) {
        steps.push(Number(idx[1]))
        i += idx[0].length
      } else if (quoted) {
        steps.push(quoted[2]!)
        i += quoted[0].length
      } else throw new Error(`JSON path '${path}': expected [index] or ['name'] at offset ${i}`)
    } else throw new Error(`JSON path '${path}': unexpected '${c}' at offset ${i}`)
  }
  return steps
}
