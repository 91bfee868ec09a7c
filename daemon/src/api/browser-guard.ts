import type { MiddlewareHandler } from 'hono'
import { isLoopback } from './auth.ts'

/** Options of `browserGuard`: which names this daemon answers to besides loopback ones. */
export interface BrowserGuardOptions {
  /**
   * Host names accepted in the Host header besides loopback names and addresses: exact names,
   * `*.suffix` patterns, or `*` for any (only sensible with a token). @default []
   */
  allowedHosts?: readonly string[]
  /** The address the daemon is bound to; accepted unless it is a wildcard (0.0.0.0, ::). */
  boundHost?: string
  /** Origins (`https://ui.example:8443`) whose pages may call the API, besides the daemon's own. @default [] */
  allowedOrigins?: readonly string[]
}

/** Served whatever the Host: orchestrators probe it by pod address, and it tells nothing. */
const ANY_HOST = new Set(['/healthz'])

/** `[::1]:7878` → `::1`, `Example.COM:80` → `example.com`. */
export function hostName(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase()
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined)
  const colon = h.lastIndexOf(':')
  return colon > 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h
}

function matches(name: string, pattern: string): boolean {
  const p = pattern.trim().toLowerCase()
  if (p === '*') return true
  if (p.startsWith('*.')) return name.endsWith(p.slice(1)) && name.length > p.length - 1
  return name === hostName(p)
}

function problem(code: string, message: string) {
  return { error: { code, message } }
}

/**
 * Keeps web pages in the operator's browser from driving the daemon. DNS rebinding points an
 * attacker's name at 127.0.0.1, so the browser sends `Host: attacker.example`: refused with 421.
 * A cross-site request carries the attacker page's `Origin`: refused with 403. No CORS headers are
 * ever sent, so a browser never lets another origin read a response.
 */
export function browserGuard(o: BrowserGuardOptions = {}): MiddlewareHandler {
  const allowed = o.allowedHosts ?? []
  const bound =
    o.boundHost && !['0.0.0.0', '::', '[::]'].includes(o.boundHost) ? hostName(o.boundHost) : undefined
  const origins = new Set((o.allowedOrigins ?? []).map((x) => x.trim().toLowerCase().replace(/\/$/, '')))
  const hostOk = (name: string) => isLoopback(name) || name === bound || allowed.some((p) => matches(name, p))
  return async (c, next) => {
    const header = c.req.header('host') ?? new URL(c.req.url).host
    if (!ANY_HOST.has(c.req.path) && !hostOk(hostName(header)))
      return c.json(
        problem(
          'HOST_NOT_ALLOWED',
          `this daemon does not answer to the host name '${hostName(header).slice(0, 100)}'; list it with --allowed-host (IOTLOAD_ALLOWED_HOSTS)`,
        ),
        421,
      )
    const origin = c.req.header('origin')
    if (origin !== undefined) {
      const o2 = origin.trim().toLowerCase()
      let sameOrigin = false
      try {
        sameOrigin = new URL(o2).host === header.trim().toLowerCase()
      } catch {}
      if (!sameOrigin && !origins.has(o2))
        return c.json(
          problem(
            'ORIGIN_NOT_ALLOWED',
            'requests from web pages of other origins are refused; list the origin with --allowed-origin (IOTLOAD_ALLOWED_ORIGINS)',
          ),
          403,
        )
    }
    return next()
  }
}
