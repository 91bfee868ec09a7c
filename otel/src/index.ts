/**
 * @iotload/otel: Prometheus metrics and per-message traces for iotload runs.
 * Plugins never import this; they depend on @opentelemetry/api at most.
 */
export { type DiagnosticSink, reportDiagnostic, setDiagnosticSink } from './diagnostics.ts'
export type {
  BridgeForwardInfo,
  MessageMeta,
  ReceiveInfo,
  RunEndInfo,
  RunTelemetryHooks,
  SecondInfo,
  SendInfo,
  SettleInfo,
} from './hooks.ts'
export { BucketHistogram, bucketRange, LATENCY_BUCKETS_MS } from './latency-buckets.ts'
export { type MessageSpanLabels, MessageSpans } from './message-spans.ts'
export { IotloadMetrics, type MetricsOptions, type MetricsText } from './metrics.ts'
export { type MetricsServer, type MetricsServerOptions, serveMetrics } from './metrics-server.ts'
export { createRunTelemetry, LATENCY_LEGS, type RunTelemetryOptions } from './run-telemetry.ts'
export { DEFAULT_SAMPLING, MessageSampler, parseSampling, type Sampling } from './sampling.ts'
export { createTelemetry, type Telemetry, type TelemetryOptions } from './telemetry.ts'
export {
  contextFromTraceparent,
  formatTraceparent,
  parseTraceparent,
  TRACEPARENT,
  usToHrTime,
} from './trace-context.ts'
export {
  type ChosenExporter,
  exporterFromEnv,
  type OtlpProtocol,
  otlpProtocol,
  otlpTracesUrl,
} from './span-exporter-from-env.ts'
export {
  baseServiceName,
  createTracing,
  TRACE_ROLES,
  type TraceRole,
  type Tracing,
  type TracingOptions,
} from './tracing.ts'
