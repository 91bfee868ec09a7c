import { Hono } from 'hono'
import { createLogger, type Logger } from '../log/logger.ts'
import { type InstalledPlugin, listInstalledPlugins } from '../plugins/list-plugins.ts'
import { secrets } from '../log/secret-registry.ts'
import { PluginInstaller } from '../service/plugin-installer.ts'
import type { RunManager } from '../service/run-manager.ts'
import { bearerAuth } from './auth.ts'
import { limitBody } from './body-limit.ts'
import { browserGuard } from './browser-guard.ts'
import { errorHandler } from './errors.ts'
import { honoPath, openApiDocument, type Register, type RouteSpec } from './openapi.ts'
import { capacityRoutes } from './routes/capacity.ts'
import { pluginRoutes } from './routes/plugins.ts'
import { runRoutes } from './routes/runs.ts'
import { type MetricsProvider, systemRoutes } from './routes/system.ts'

/** What the REST app needs; everything but the run manager has a default. */
export interface AppDeps {
  manager: RunManager
  /** When set, every route but /healthz requires `Authorization: Bearer <token>`. */
  token?: string
  /** @default a PluginInstaller for the working directory */
  installer?: PluginInstaller
  /** @default listInstalledPlugins */
  listPlugins?: () => Promise<InstalledPlugin[]>
  /** /metrics provider (OpenTelemetry); the daemon's own run gauges otherwise. */
  metrics?: MetricsProvider
  logger?: Logger
  /** Largest accepted request body. @default 1 MiB */
  maxBodyBytes?: number
  /** Reported in the OpenAPI document. @default '0.1.0' */
  version?: string
  /** Host names the API answers to besides loopback ones (`--allowed-host`). @default [] */
  allowedHosts?: readonly string[]
  /** The address the daemon is bound to: accepted as a Host name unless it is a wildcard. */
  boundHost?: string
  /** Origins of web pages allowed to call the API (`--allowed-origin`). @default [] */
  allowedOrigins?: readonly string[]
  /**
   * POST /v1/plugins installs from the npm registry (`--allow-plugin-install`). Off by default: a
   * package that installs is code the daemon will run. @default false
   */
  allowPluginInstall?: boolean
}

const TEXTUAL = /^(application\/(json|[a-z0-9.+-]+\+json)|text\/)/

function scrubValue(v: unknown): unknown {
  if (typeof v === 'string') return secrets.scrub(v)
  if (Array.isArray(v)) return v.map(scrubValue)
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) out[secrets.scrub(k)] = scrubValue(x)
    return out
  }
  return v
}

function scrubBody(text: string, type: string): string {
  if (!type.includes('json')) return secrets.scrub(text)
  try {
    return JSON.stringify(scrubValue(JSON.parse(text)))
  } catch {
    return secrets.scrub(text)
  }
}

/**
 * The REST API as a hono app (serve it with @hono/node-server, or test it with `app.request()`).
 * @example
 * const app = createApp({ manager: new RunManager({ store }) })
 * const res = await app.request('/v1/runs')
 */
export function createApp(deps: AppDeps): Hono {
  const logger = deps.logger ?? createLogger()
  const app = new Hono()
  const routes: RouteSpec[] = []
  const maxBytes = deps.maxBodyBytes ?? 1024 * 1024

  app.onError(errorHandler(logger))
  app.notFound((c) =>
    c.json({ error: { code: 'NOT_FOUND', message: `no route ${c.req.method} ${c.req.path}` } }, 404),
  )

  // Last line of defence: no response carries a secret registered by any scenario (or the token).
  // JSON is scrubbed value by value, so a secret that happens to look like JSON syntax cannot break it.
  app.use('*', async (c, next) => {
    const t0 = performance.now()
    await next()
    const type = c.res.headers.get('content-type') ?? ''
    // An event stream is scrubbed event by event where it is written (routes/events.ts).
    if (c.res.body && TEXTUAL.test(type) && !type.startsWith('text/event-stream')) {
      const text = await c.res.clone().text()
      const clean = scrubBody(text, type)
      if (clean !== text) {
        const headers = new Headers(c.res.headers)
        headers.delete('content-length')
        c.res = new Response(clean, { status: c.res.status, headers })
      }
    }
    // No response is to be read as another type than it says (a CSV or JSON body as HTML). Set on
    // the final response: @hono/node-server rebuilds a response from its init once its body is read.
    c.res.headers.set('X-Content-Type-Options', 'nosniff')
    logger.debug('http', {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(performance.now() - t0),
    })
  })
  app.use(
    '*',
    browserGuard({
      ...(deps.allowedHosts ? { allowedHosts: deps.allowedHosts } : {}),
      ...(deps.boundHost ? { boundHost: deps.boundHost } : {}),
      ...(deps.allowedOrigins ? { allowedOrigins: deps.allowedOrigins } : {}),
    }),
  )
  if (deps.token) app.use('*', bearerAuth(deps.token))
  app.use('*', limitBody(maxBytes))

  const register: Register = (spec, handler) => {
    routes.push(spec)
    app.on(spec.method.toUpperCase(), honoPath(spec.path), handler)
  }
  runRoutes(register, deps.manager)
  capacityRoutes(register, deps.manager, logger)
  pluginRoutes(
    register,
    deps.installer ?? new PluginInstaller({ ignoreScripts: true }),
    deps.listPlugins ?? listInstalledPlugins,
    deps.allowPluginInstall === true,
  )
  systemRoutes(register, deps.manager, deps.metrics)

  const doc = openApiDocument(
    routes,
    {
      title: 'iotload daemon',
      version: deps.version ?? '0.1.0',
      description: 'Start, watch, stop and inspect load-test runs; list and install broker plugins.',
    },
    deps.token !== undefined,
  )
  app.get('/openapi.json', (c) => c.json(doc))
  return app
}
