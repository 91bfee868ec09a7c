import type { Context } from 'hono'
import { forbiddenKeyPath } from '../scenario/safe-keys.ts'
import { parseBoundedYaml, YamlTooDeepError } from './bounded-yaml.ts'
import { ApiError } from './errors.ts'

/** Nesting deeper than this is refused before anything walks the value (or the YAML) recursively. */
const MAX_DEPTH = 64
const TOO_DEEP = `the body is nested deeper than ${MAX_DEPTH} levels`

/**
 * Only types a browser cannot send cross-site without a CORS preflight (which the daemon never
 * grants): no body type at all, text/plain or a form could otherwise start a run from any web page.
 */
const JSON_TYPE = /^application\/json$/
const YAML_TYPE = /^application\/(x-)?yaml$/

function depthOk(value: unknown): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [v, d] = stack.pop()!
    if (v === null || typeof v !== 'object') continue
    if (d >= MAX_DEPTH) return false
    for (const child of Object.values(v)) stack.push([child, d + 1])
  }
  return true
}

/**
 * Reads a JSON or YAML request body. Parser messages are cut to their first line and never quote
 * the input, which may contain secrets.
 * @param yaml accept `application/yaml` besides `application/json`
 */
export async function readBody(c: Context, options: { yaml: boolean }): Promise<unknown> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  const isJson = JSON_TYPE.test(type)
  const isYaml = options.yaml && YAML_TYPE.test(type)
  if (!isJson && !isYaml)
    throw new ApiError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      options.yaml
        ? 'send the body as Content-Type: application/json or application/yaml'
        : 'send the body as Content-Type: application/json',
    )
  const text = await c.req.text()
  if (text.trim() === '') throw new ApiError(400, 'BODY_REQUIRED', 'the request body is empty', '')
  let value: unknown
  if (isJson) {
    try {
      value = JSON.parse(text)
    } catch (err) {
      const pos = /position (\d+)/.exec((err as Error).message)
      throw new ApiError(
        400,
        'BODY_INVALID',
        `the body is not valid JSON${pos ? ` (at position ${pos[1]})` : ''}`,
        '',
      )
    }
  } else {
    try {
      // Bounded before composing: deep YAML can make V8 abort the process (see parseBoundedYaml).
      value = parseBoundedYaml(text, MAX_DEPTH, {
        maxAliasCount: 100,
        prettyErrors: false,
        logLevel: 'error',
      })
    } catch (err) {
      if (err instanceof YamlTooDeepError) throw new ApiError(400, 'BODY_INVALID', TOO_DEEP, '')
      const first = String((err as Error).message)
        .split('\n')[0]!
        .replace(/:\s*$/, '')
      throw new ApiError(400, 'BODY_INVALID', `the body is not valid YAML: ${first.slice(0, 200)}`, '')
    }
  }
  if (!depthOk(value)) throw new ApiError(400, 'BODY_INVALID', TOO_DEEP, '')
  const forbidden = forbiddenKeyPath(value)
  if (forbidden !== undefined)
    throw new ApiError(400, 'BODY_INVALID', 'the key __proto__ is not allowed', forbidden)
  return value
}
