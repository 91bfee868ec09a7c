import { ConfigError } from '@iotload/sdk'

/**
 * Keys that change an object's prototype when copied by assignment (`out[k] = v`): a body with
 * `"__proto__": {"bridge": …}` turned into an inherited `bridge` that validation saw and the
 * plugin-name check did not. Never meaningful in a scenario or a request.
 */
const FORBIDDEN = new Set(['__proto__'])

/** The path of the first forbidden key in a parsed JSON/YAML value, without recursion. */
export function forbiddenKeyPath(value: unknown): string | undefined {
  const stack: Array<[unknown, string]> = [[value, '']]
  while (stack.length > 0) {
    const [v, path] = stack.pop()!
    if (v === null || typeof v !== 'object') continue
    for (const key of Object.keys(v)) {
      const at = Array.isArray(v) ? `${path}[${key}]` : path ? `${path}.${key}` : key
      if (FORBIDDEN.has(key)) return at
      stack.push([(v as Record<string, unknown>)[key], at])
    }
  }
  return undefined
}

/** Throws a ConfigError naming the first forbidden key. */
export function refuseForbiddenKeys(value: unknown): void {
  const at = forbiddenKeyPath(value)
  if (at !== undefined) throw new ConfigError(at, 'the key __proto__ is not allowed')
}
