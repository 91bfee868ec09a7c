import type { RunManager } from '../../service/run-manager.ts'
import { daemonMetricsText, PROMETHEUS_TYPE } from '../metrics-text.ts'
import type { Register } from '../openapi.ts'
import { healthResponse } from '../schemas.ts'

/** Provider of /metrics, e.g. the OpenTelemetry Prometheus exporter. */
export type MetricsProvider = () => Promise<{ contentType: string; body: string }>

/** /healthz and /metrics. */
export function systemRoutes(register: Register, manager: RunManager, metrics?: MetricsProvider): void {
  register(
    {
      method: 'get',
      path: '/healthz',
      summary: 'Liveness (no token needed)',
      public: true,
      responses: { 200: { description: 'alive', schema: healthResponse } },
    },
    (c) => c.json({ status: 'ok' as const, activeRuns: manager.activeCount }),
  )

  register(
    {
      method: 'get',
      path: '/metrics',
      summary: 'Prometheus text exposition',
      responses: { 200: { description: 'metrics', contentType: PROMETHEUS_TYPE } },
    },
    async (c) => {
      const m = metrics ? await metrics() : { contentType: PROMETHEUS_TYPE, body: daemonMetricsText(manager) }
      return c.body(m.body, 200, { 'Content-Type': m.contentType })
    },
  )
}
