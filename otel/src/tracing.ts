import type { Tracer } from '@opentelemetry/api'
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node'
import { reportDiagnostic } from './diagnostics.ts'

/** Options for `createTracing`. */
export interface TracingOptions {
  /** Use this exporter instead of the one the environment selects (tests: InMemorySpanExporter). */
  exporter?: SpanExporter
  /** Export each span at once instead of batching (tests). @default false */
  simple?: boolean
  /** @default 'iotload' */
  serviceName?: string
}

/** A tracer provider owned by iotload (not registered globally, so it never touches a host's OTel). */
export interface Tracing {
  readonly tracer: Tracer
  /** What the spans go to, for the start-up line: `otlp http://…`, `zipkin http://…`, `custom`. */
  readonly target: string
  forceFlush(): Promise<void>
  shutdown(): Promise<void>
}

type Env = Record<string, string | undefined>

/**
 * Picks the span exporter from the standard variables: `OTEL_TRACES_EXPORTER` = otlp | zipkin |
 * console | none. Unset, tracing is on only if an OTLP endpoint is configured
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), so a plain run pays nothing.
 * Bad values warn through the diagnostic log and fall back to no tracing; nothing throws.
 */
export function exporterFromEnv(
  env: Env = process.env,
): { exporter: SpanExporter; target: string } | undefined {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return undefined
  const otlpUrl = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT
  const chosen = (env.OTEL_TRACES_EXPORTER ?? (otlpUrl ? 'otlp' : 'none')).split(',')[0]!.trim().toLowerCase()
  try {
    switch (chosen) {
      case 'none':
      case '':
        return undefined
      case 'otlp': {
        const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL
        // @opentelemetry/exporter-trace-otlp-http speaks OTLP/HTTP with JSON bodies only.
        if (protocol && protocol !== 'http/json')
          reportDiagnostic('OTLP protocol not supported by iotload; sending http/json', { protocol })
        // The URL comes from `env` (the exporter alone would read process.env); headers, timeout
        // and compression it still reads from OTEL_EXPORTER_OTLP_* itself.
        const url = otlpTracesUrl(env)
        const timeout = Number(env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? env.OTEL_EXPORTER_OTLP_TIMEOUT)
        return {
          exporter: new OTLPTraceExporter({ url, ...(timeout > 0 ? { timeoutMillis: timeout } : {}) }),
          target: `otlp ${url}`,
        }
      }
      case 'zipkin': {
        const url = env.OTEL_EXPORTER_ZIPKIN_ENDPOINT ?? 'http://127.0.0.1:9411/api/v2/spans'
        return { exporter: new ZipkinExporter({ url, serviceName: 'iotload' }), target: `zipkin ${url}` }
      }
      case 'console':
        return { exporter: new ConsoleSpanExporter(), target: 'console' }
      default:
        reportDiagnostic('unknown OTEL_TRACES_EXPORTER; tracing off', { value: chosen })
        return undefined
    }
  } catch (err) {
    reportDiagnostic('trace exporter set-up failed; tracing off', { error: (err as Error).message })
    return undefined
  }
}

/** Signal URL per the spec: the traces endpoint as is, else the base endpoint + `/v1/traces`. */
export function otlpTracesUrl(env: Env): string {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim()
  if (traces) return traces
  const base = (env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || 'http://localhost:4318').replace(/\/+$/, '')
  return `${base}/v1/traces`
}

/** Creates iotload's tracer provider; undefined when tracing is off. */
export function createTracing(options: TracingOptions = {}, env: Env = process.env): Tracing | undefined {
  const chosen = options.exporter ? { exporter: options.exporter, target: 'custom' } : exporterFromEnv(env)
  if (!chosen) return undefined
  const processor = options.simple
    ? new SimpleSpanProcessor(chosen.exporter)
    : new BatchSpanProcessor(chosen.exporter, { maxQueueSize: 4096, scheduledDelayMillis: 1000 })
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName ?? 'iotload' }),
    spanProcessors: [processor],
  })
  return {
    tracer: provider.getTracer('@iotload/otel', '0.1.0'),
    target: chosen.target,
    forceFlush: () =>
      provider
        .forceFlush()
        .catch((err: unknown) =>
          reportDiagnostic('trace flush failed', { error: (err as Error)?.message ?? String(err) }),
        ),
    shutdown: () =>
      provider
        .shutdown()
        .catch((err: unknown) =>
          reportDiagnostic('trace shutdown failed', { error: (err as Error)?.message ?? String(err) }),
        ),
  }
}
