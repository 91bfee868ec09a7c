import { type DiagnosticSink, setDiagnosticSink } from './diagnostics.ts'
import { IotloadMetrics, type MetricsText } from './metrics.ts'
import { type MetricsServer, serveMetrics } from './metrics-server.ts'
import { createRunTelemetry, type RunTelemetryOptions } from './run-telemetry.ts'
import { parseSampling, type Sampling } from './sampling.ts'
import { createTracing, type Tracing, type TracingOptions } from './tracing.ts'
import type { RunTelemetryHooks } from './hooks.ts'

/** Options for `createTelemetry`. */
export interface TelemetryOptions {
  /** Diagnostic log for telemetry failures. @default one line on stderr per distinct problem per 30 s */
  diagnostics?: DiagnosticSink
  /** Tracing set-up (exporter override for tests). Without it, `OTEL_*` variables decide. */
  tracing?: TracingOptions
  /** @default from IOTLOAD_TRACE_SAMPLE, else 10/s */
  sampling?: Sampling
  /** Environment to read. @default process.env */
  env?: Record<string, string | undefined>
}

/** Process-wide telemetry: one metrics registry and (if configured) one tracer provider. */
export interface Telemetry {
  readonly metrics: IotloadMetrics
  readonly tracing: Tracing | undefined
  readonly sampling: Sampling
  /** Hooks for one run. */
  forRun(o: Omit<RunTelemetryOptions, 'metrics' | 'tracing' | 'sampling'>): RunTelemetryHooks
  /** Provider for the daemon's GET /metrics. */
  metricsProvider(): Promise<MetricsText>
  /** Serves GET /metrics on its own port (CLI `--metrics-port`). */
  serve(port: number, host?: string): Promise<MetricsServer>
  /** Flushes spans and stops exporters; never rejects. */
  shutdown(): Promise<void>
}

/**
 * Sets up iotload's telemetry from options and the standard OTel environment. Never throws on
 * bad environment values: they warn through the diagnostic log and fall back.
 *
 * @example
 * const telemetry = createTelemetry({ diagnostics: (msg, d) => logger.warn(msg, d) })
 * const server = await telemetry.serve(9464)
 */
export function createTelemetry(options: TelemetryOptions = {}): Telemetry {
  if (options.diagnostics) setDiagnosticSink(options.diagnostics)
  else
    setDiagnosticSink((msg, d) => process.stderr.write(`otel: ${msg}${d ? ` ${JSON.stringify(d)}` : ''}\n`))
  const env = options.env ?? process.env
  const metrics = new IotloadMetrics()
  const tracing = createTracing(options.tracing, env)
  const sampling = options.sampling ?? parseSampling(env.IOTLOAD_TRACE_SAMPLE)
  return {
    metrics,
    tracing,
    sampling,
    forRun: (o) => createRunTelemetry({ ...o, metrics, sampling, ...(tracing ? { tracing } : {}) }),
    metricsProvider: metrics.provide,
    serve: (port, host) => serveMetrics(metrics.provide, { port, ...(host ? { host } : {}) }),
    async shutdown() {
      await tracing?.shutdown()
      await metrics.shutdown()
    },
  }
}
