import type { z } from 'zod'

/**
 * Schemas of plugin config fields that hold secrets. A WeakSet, not zod's metadata registry, so a
 * plugin built against its own copy of zod is recognised too.
 */
const marked = new WeakSet<object>()

/**
 * Marks a plugin config field as secret: the daemon lets `${env:…}` / `${file:…}` references
 * resolve there in scenarios it receives over HTTP (elsewhere they are refused), and redacts it.
 * @example serverSecretKey: secretField(z.string().length(40)).optional()
 */
export function secretField<S extends z.ZodType>(schema: S): S {
  marked.add(schema)
  return schema
}

/** Whether `secretField` marked this schema. */
export function isSecretField(schema: unknown): boolean {
  return typeof schema === 'object' && schema !== null && marked.has(schema)
}
