import { OTLPTraceExporter as OtlpGrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc'
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { OTLPTraceExporter as OtlpProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin'
import { ConsoleSpanExporter, type SpanExporter } from '@opentelemetry/sdk-trace'
import { reportDiagnostic } from './diagnostics.ts'

type Env = Record<string, string | undefined>

/** The OTLP transports of the specification (`OTEL_EXPORTER_OTLP_PROTOCOL`). */
export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json'

/** A span exporter and what it sends to, for the start-up line (`otlp grpc http://…:4317`). */
export interface ChosenExporter {
  exporter: SpanExporter
  target: string
}

/** `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`, else the spec's default. */
export function otlpProtocol(env: Env): OtlpProtocol {
  const value = (env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? env.OTEL_EXPORTER_OTLP_PROTOCOL)?.trim()
  if (!value) return 'http/protobuf'
  if (value === 'grpc' || value === 'http/protobuf' || value === 'http/json') return value
  reportDiagnostic('unknown OTEL_EXPORTER_OTLP_PROTOCOL; using http/protobuf', { value })
  return 'http/protobuf'
}

/**
 * The traces URL per the spec: the signal endpoint as is, else the base endpoint plus
 * `/v1/traces` for HTTP; gRPC takes the endpoint as is (default port 4317, HTTP's 4318).
 */
export function otlpTracesUrl(env: Env, protocol: OtlpProtocol = 'http/json'): string {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim()
  if (traces) return traces
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()
  if (protocol === 'grpc') return base || 'http://localhost:4317'
  return `${(base || 'http://localhost:4318').replace(/\/+$/, '')}/v1/traces`
}

function otlpExporter(env: Env): ChosenExporter {
  const protocol = otlpProtocol(env)
  const url = otlpTracesUrl(env, protocol)
  const timeout = Number(env.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? env.OTEL_EXPORTER_OTLP_TIMEOUT)
  // The URL and timeout come from `env`; headers, compression and certificates each exporter
  // reads from the OTEL_EXPORTER_OTLP_* variables itself.
  const config = { url, ...(timeout > 0 ? { timeoutMillis: timeout } : {}) }
  const exporter =
    protocol === 'grpc'
      ? new OtlpGrpcExporter(config)
      : protocol === 'http/json'
        ? new OtlpJsonExporter(config)
        : new OtlpProtobufExporter(config)
  return { exporter, target: `otlp ${protocol} ${url}` }
}

/**
 * The span exporter the standard variables select: `OTEL_TRACES_EXPORTER` = otlp | zipkin |
 * console | none, the OTLP transport from `OTEL_EXPORTER_OTLP_PROTOCOL` (grpc, http/protobuf,
 * http/json). One deliberate difference from the SDK's default: with `OTEL_TRACES_EXPORTER` unset,
 * tracing is on only if an OTLP endpoint is configured, so a plain run pays nothing. Bad values
 * warn through the diagnostic log and fall back; nothing throws.
 */
export function exporterFromEnv(env: Env = process.env): ChosenExporter | undefined {
  if ((env.OTEL_SDK_DISABLED ?? '').trim().toLowerCase() === 'true') return undefined
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT
  const chosen = (env.OTEL_TRACES_EXPORTER ?? (endpoint ? 'otlp' : 'none'))
    .split(',')[0]!
    .trim()
    .toLowerCase()
  try {
    switch (chosen) {
      case 'none':
      case '':
        return undefined
      case 'otlp':
        return otlpExporter(env)
      case 'zipkin': {
        const url = env.OTEL_EXPORTER_ZIPKIN_ENDPOINT ?? 'http://127.0.0.1:9411/api/v2/spans'
        // No serviceName option: each span keeps its role's service.name from its resource.
        return { exporter: new ZipkinExporter({ url }), target: `zipkin ${url}` }
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
