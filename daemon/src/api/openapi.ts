import type { Handler } from 'hono'
import { z } from 'zod'

type Method = 'get' | 'post' | 'delete'

/** One documented route; the same schemas validate the request at run time. */
export interface RouteSpec {
  method: Method
  /** OpenAPI form, e.g. `/v1/runs/{id}`. */
  path: string
  summary: string
  description?: string
  params?: z.ZodObject
  query?: z.ZodObject
  body?: { schema: z.ZodType; yaml?: boolean; description?: string }
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>
  /** Served without a bearer token. */
  public?: boolean
}

type JsonSchema = Record<string, unknown>

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any', reused: 'inline' }) as JsonSchema
  delete out.$schema
  return out
}

function parameters(obj: z.ZodObject | undefined, where: 'path' | 'query'): unknown[] {
  if (!obj) return []
  const whole = jsonSchema(obj, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] }
  return Object.entries(whole.properties ?? {}).map(([name, schema]) => {
    const { description, ...rest } = schema
    return {
      name,
      in: where,
      required: where === 'path' || (whole.required ?? []).includes(name),
      ...(description ? { description } : {}),
      schema: rest,
    }
  })
}

/** Converts `/v1/runs/{id}` to hono's `/v1/runs/:id`. */
export const honoPath = (path: string) => path.replace(/\{([^}]+)\}/g, ':$1')

/** Builds the OpenAPI 3.1 document from the registered routes. */
export function openApiDocument(
  routes: RouteSpec[],
  info: { title: string; version: string; description?: string },
  secured: boolean,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const r of routes) {
    const op: Record<string, unknown> = {
      summary: r.summary,
      operationId: `${r.method}${r.path
        .replace(/[{}]/g, '')
        .replace(/\/(\w)/g, (_, ch: string) => ch.toUpperCase())
        .replace(/[^A-Za-z0-9]/g, '')}`,
    }
    if (r.description) op.description = r.description
    const params = [...parameters(r.params, 'path'), ...parameters(r.query, 'query')]
    if (params.length > 0) op.parameters = params
    if (r.body) {
      const schema = jsonSchema(r.body.schema, 'input')
      op.requestBody = {
        required: true,
        ...(r.body.description ? { description: r.body.description } : {}),
        content: {
          'application/json': { schema },
          ...(r.body.yaml ? { 'application/yaml': { schema } } : {}),
        },
      }
    }
    const responses: Record<string, unknown> = {}
    for (const [status, res] of Object.entries(r.responses)) {
      responses[status] = {
        description: res.description,
        ...(res.schema
          ? {
              content: {
                [res.contentType ?? 'application/json']: { schema: jsonSchema(res.schema, 'output') },
              },
            }
          : res.contentType
            ? { content: { [res.contentType]: { schema: { type: 'string' } } } }
            : {}),
      }
    }
    // The browser guard answers these on every route but the public ones (see docs/security.md).
    if (!r.public) {
      responses['403'] ??= { description: 'an Origin header of a web page not listed with --allowed-origin' }
      responses['421'] ??= {
        description: 'a Host header that is not loopback, the bound address or an --allowed-host',
      }
    }
    op.responses = responses
    if (secured && r.public) op.security = []
    paths[r.path] ??= {}
    paths[r.path]![r.method] = op
  }
  return {
    openapi: '3.1.0',
    info,
    ...(secured
      ? {
          components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
          security: [{ bearer: [] }],
        }
      : {}),
    paths,
  }
}

/** Adds a documented route to the app. */
export type Register = (spec: RouteSpec, handler: Handler) => void
