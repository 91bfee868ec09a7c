import { createHash, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'

/** Paths served without a token: orchestrators probe them. */
const PUBLIC = new Set(['/healthz'])

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest()

/**
 * Bearer-token check. Both sides are hashed first so the comparison is constant-time and
 * independent of the presented token's length.
 */
export function bearerAuth(token: string): MiddlewareHandler {
  const expected = digest(token)
  return async (c, next) => {
    if (PUBLIC.has(c.req.path)) return next()
    const header = c.req.header('authorization') ?? ''
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header)
    if (!m || !timingSafeEqual(digest(m[1]!), expected)) {
      c.header('WWW-Authenticate', 'Bearer realm="iotload"')
      return c.json(
        {
          error: {
            code: 'UNAUTHORIZED',
            message: m ? 'invalid token' : 'this daemon requires Authorization: Bearer <token>',
          },
        },
        401,
      )
    }
    return next()
  }
}

/** Whether a bind address only accepts local connections. */
export function isLoopback(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
  return (
    h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h)
  )
}
