import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { compileJsonPath, type TransformConfig } from '@iotload/sdk'

/** What a transform learns besides the message body. */
export interface TransformContext {
  /** Topic the message arrived on. */
  topic: string
  /** Topic it will be published to. */
  outTopic: string
}

/** A JSON message body as transforms see it: the parsed object, without the `iotload` member. */
export type JsonBody = Record<string, unknown>

/**
 * A user transform module's export: return the message to publish, or `null` to drop it.
 * @example export default (msg) => (msg.valve === 'open' ? { valve: 'close', device: msg.device } : null)
 */
export type TransformFn = (msg: JsonBody, ctx: TransformContext) => JsonBody | null | Promise<JsonBody | null>

/** A compiled transform; `undefined` means passthrough (the payload bytes are forwarded as they came). */
export type CompiledTransform = TransformFn | undefined

type Builder = (doc: JsonBody) => unknown

function compileTemplate(t: unknown): Builder {
  if (typeof t === 'string') {
    // `$$...` escapes a literal that starts with `$`.
    if (t.startsWith('$$')) {
      const literal = t.slice(1)
      return () => literal
    }
    if (t.startsWith('$')) return compileJsonPath(t)
    return () => t
  }
  if (Array.isArray(t)) {
    const items = t.map(compileTemplate)
    return (doc) => items.map((b) => b(doc))
  }
  if (t !== null && typeof t === 'object') {
    const entries = Object.entries(t).map(([k, v]) => [k, compileTemplate(v)] as const)
    return (doc) => {
      const out: Record<string, unknown> = {}
      for (const [k, b] of entries) {
        const v = b(doc)
        // A path that finds nothing leaves the key out, as JSON cannot hold `undefined`.
        if (v !== undefined) out[k] = v
      }
      return out
    }
  }
  return () => t
}

/** Compiles a declarative `map:` template into a transform. Throws on a malformed JSON path. */
export function compileMapTransform(template: Record<string, unknown>): TransformFn {
  const build = compileTemplate(template)
  return (msg) => build(msg) as JsonBody
}

/** Loads a user module transform by path (dynamic import; `.ts` works where a TS loader is active). */
export async function loadModuleTransform(path: string, exportName = 'default'): Promise<TransformFn> {
  const url = pathToFileURL(isAbsolute(path) ? path : resolve(process.cwd(), path)).href
  let mod: Record<string, unknown>
  try {
    mod = (await import(url)) as Record<string, unknown>
  } catch (err) {
    throw new Error(`bridge.transform.module: cannot load '${path}': ${(err as Error).message}`, {
      cause: err,
    })
  }
  const fn = mod[exportName]
  if (typeof fn !== 'function')
    throw new Error(
      `bridge.transform.module: '${path}' has no function export '${exportName}' (expected (msg) => msg | null)`,
    )
  return fn as TransformFn
}

/** Turns the `transform` config into a function (or `undefined` for passthrough). */
export async function compileTransform(config: TransformConfig): Promise<CompiledTransform> {
  if (config === 'passthrough') return undefined
  if ('map' in config) return compileMapTransform(config.map)
  return loadModuleTransform(config.module, config.export)
}
