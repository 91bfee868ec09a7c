import {
  ClosedError,
  ConfigError,
  ConnectionError,
  describeError,
  IotloadError,
  PluginLoadError,
  PublishError,
} from '@iotload/sdk'
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { z } from 'zod'
import type { Logger } from '../log/logger.ts'
import { secrets } from '../log/secret-registry.ts'
import { configErrorFrom, type FieldIssue } from '../scenario/zod-errors.ts'
import { ServiceError, type ServiceErrorKind } from '../service/errors.ts'

/** An HTTP-level refusal raised by the API itself (bad media type, bad token, …). */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly path?: string,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

const SERVICE_STATUS: Record<ServiceErrorKind, ContentfulStatusCode> = {
  'not-found': 404,
  conflict: 409,
  busy: 429,
  unavailable: 503,
  upstream: 502,
  'upstream-timeout': 504,
}

interface ErrorBody {
  error: { code: string; message: string; path?: string; issues?: FieldIssue[] }
}

/** Maps any thrown value to a status and the `{error: {code, message, path}}` body. */
export function toErrorResponse(err: unknown): { status: ContentfulStatusCode; body: ErrorBody } {
  if (err instanceof ApiError)
    return {
      status: err.status,
      body: {
        error: {
          code: err.code,
          message: err.message,
          ...(err.path !== undefined ? { path: err.path } : {}),
        },
      },
    }
  if (err instanceof ServiceError)
    return { status: SERVICE_STATUS[err.kind], body: { error: { code: err.code, message: err.message } } }
  if (err instanceof ConfigError) {
    const issues = (err as ConfigError & { issues?: FieldIssue[] }).issues
    return {
      status: 400,
      body: {
        error: { code: err.code, message: err.message, path: err.path, ...(issues ? { issues } : {}) },
      },
    }
  }
  // The client named the plugin; a missing or broken one is their input to fix.
  if (err instanceof PluginLoadError)
    return { status: 400, body: { error: { code: err.code, message: err.message } } }
  if (err instanceof ConnectionError || err instanceof PublishError)
    return { status: 502, body: { error: { code: err.code, message: err.message } } }
  if (err instanceof ClosedError)
    return { status: 503, body: { error: { code: err.code, message: err.message } } }
  if (err instanceof IotloadError)
    return { status: 500, body: { error: { code: err.code, message: err.message } } }
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode
    return { status, body: { error: { code: `HTTP_${status}`, message: err.message || 'request refused' } } }
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error; see the daemon log' } } }
}

/** The app's one `onError`: sdk, service and API errors to JSON; unexpected ones logged, never echoed. */
export function errorHandler(logger: Logger) {
  return (err: Error, c: Context) => {
    const { status, body } = toErrorResponse(err)
    if (status >= 500)
      logger.error('request failed', { method: c.req.method, path: c.req.path, error: describeError(err) })
    body.error.message = secrets.scrub(body.error.message)
    return c.json(body, status)
  }
}

/** Validates a request part with its schema; failures become ConfigError (→ 400) under `prefix`. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, prefix: string): z.output<S> {
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw configErrorFrom(parsed.error, prefix)
  return parsed.data
}
