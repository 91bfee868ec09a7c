import { TRACE_ROLES } from '@iotload/otel'
import { newRunId } from '../engine/run.ts'
import type { RunTelemetry } from '@iotload/sdk'
import type { Logger } from '../log/logger.ts'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import { processTelemetry, telemetryForRun } from './run-telemetry.ts'

/** Telemetry of one CLI run: the run id to use, the hooks, and a close that flushes. */
export interface CliTelemetry {
  id: string
  telemetry: RunTelemetry | undefined
  /** Metrics endpoint URL, when `--metrics-port` was given. */
  metricsUrl: string | undefined
  close(): Promise<void>
}

/** How long a finished CLI run keeps serving /metrics so a last scrape sees the final figures. */
const FINAL_SCRAPE_MS = Number(process.env.IOTLOAD_METRICS_LINGER_MS ?? 0)

/**
 * Sets up telemetry for `iotload run`: metrics on `--metrics-port` (127.0.0.1; IOTLOAD_METRICS_HOST
 * to change), traces when the OTEL_* variables select an exporter. Neither → no hooks, no cost.
 * A port already taken fails the run before it starts (a misconfiguration the user should see).
 */
export async function cliTelemetry(
  resolved: ResolvedScenario,
  metricsPort: number | undefined,
  logger: Logger,
): Promise<CliTelemetry> {
  const id = newRunId()
  const telemetry = processTelemetry(logger)
  if (metricsPort === undefined && !telemetry.tracing)
    return { id, telemetry: undefined, metricsUrl: undefined, close: async () => {} }
  const server =
    metricsPort === undefined
      ? undefined
      : await telemetry.serve(metricsPort, process.env.IOTLOAD_METRICS_HOST)
  if (server) logger.info('serving Prometheus metrics', { url: server.url })
  if (telemetry.tracing)
    logger.info('tracing sampled messages', {
      to: telemetry.tracing.target,
      services: TRACE_ROLES.map((r) => telemetry.tracing?.serviceName(r)).join(','),
    })
  return {
    id,
    telemetry: telemetryForRun(telemetry, resolved, id),
    metricsUrl: server?.url,
    async close() {
      if (server && FINAL_SCRAPE_MS > 0) await new Promise((r) => setTimeout(r, FINAL_SCRAPE_MS))
      await server?.close()
      await telemetry.shutdown()
    },
  }
}
