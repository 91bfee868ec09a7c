import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { reportDiagnostic } from './diagnostics.ts'
import type { MetricsText } from './metrics.ts'

/** A running metrics endpoint. */
export interface MetricsServer {
  /** The bound port (useful with port 0). */
  port: number
  url: string
  close(): Promise<void>
}

/** Options for `serveMetrics`. */
export interface MetricsServerOptions {
  /** 0 picks a free port. */
  port: number
  /** @default '127.0.0.1' */
  host?: string
}

/**
 * Serves `GET /metrics` (Prometheus text) for CLI runs (`--metrics-port`); the daemon serves the
 * same provider on its REST API instead.
 */
export async function serveMetrics(
  provide: () => Promise<MetricsText>,
  options: MetricsServerOptions,
): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1'
  const server: Server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try GET /metrics\n')
      return
    }
    provide().then(
      (m) => res.writeHead(200, { 'content-type': m.contentType }).end(m.body),
      (err: unknown) => {
        reportDiagnostic('metrics scrape failed', { error: (err as Error)?.message ?? String(err) })
        res.writeHead(500).end()
      },
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  // Scrapers keep connections alive; an open keep-alive socket must not hold the process.
  server.unref()
  const port = (server.address() as AddressInfo).port
  return {
    port,
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
