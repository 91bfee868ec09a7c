import { isSecretField } from '@iotload/sdk'
import type { z } from 'zod'

interface Def {
  type: string
  innerType?: z.ZodType
  in?: z.ZodType
  shape?: Record<string, z.ZodType>
  options?: z.ZodType[]
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def
}

/** Strips optional/default/pipe/readonly wrappers to reach the schema that describes the shape. */
export function unwrapSchema(schema: z.ZodType): z.ZodType {
  let s = schema
  for (let i = 0; i < 20; i++) {
    const def = defOf(s)
    const next = def.innerType ?? (def.type === 'pipe' ? def.in : undefined)
    if (!next) return s
    s = next
  }
  return s
}

/** The object shape of a schema (after unwrapping, and across object members of a union), if any. */
export function objectShape(schema: z.ZodType): Record<string, z.ZodType> | undefined {
  const s = unwrapSchema(schema)
  const def = defOf(s)
  if (def.type === 'object' && def.shape) return def.shape
  if (def.type === 'union' && def.options) {
    const merged: Record<string, z.ZodType> = {}
    for (const o of def.options) Object.assign(merged, objectShape(o) ?? {})
    return Object.keys(merged).length > 0 ? merged : undefined
  }
  return undefined
}

/** Every leaf path of an object schema, e.g. `['producer','devices']`, recursing into nested objects. */
export function leafPaths(schema: z.ZodType, prefix: string[] = []): string[][] {
  const shape = objectShape(schema)
  if (!shape) return [prefix]
  const out: string[][] = []
  for (const [k, child] of Object.entries(shape)) {
    const sub = objectShape(child)
    if (sub) out.push(prefix.concat(k), ...leafPaths(child, prefix.concat(k)))
    else out.push(prefix.concat(k))
  }
  return out
}

function markedAlongWrappers(schema: z.ZodType): boolean {
  let s = schema
  for (let i = 0; i < 20; i++) {
    if (isSecretField(s)) return true
    const def = defOf(s)
    const next = def.innerType ?? (def.type === 'pipe' ? def.in : undefined)
    if (!next) return false
    s = next
  }
  return false
}

/** Paths of the fields a plugin marked with `secretField`, e.g. `['curve','serverSecretKey']`. */
export function secretFieldPaths(schema: z.ZodType, prefix: string[] = []): string[][] {
  const shape = objectShape(schema)
  if (!shape) return []
  const out: string[][] = []
  for (const [k, child] of Object.entries(shape)) {
    if (markedAlongWrappers(child)) out.push(prefix.concat(k))
    else out.push(...secretFieldPaths(child, prefix.concat(k)))
  }
  return out
}
