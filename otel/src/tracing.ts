import type { Tracer } from '@opentelemetry/api'
import { context, propagation, trace } from '@opentelemetry/api'
import { arch, hostname } from 'node:os'
import {
  defaultResource,
  detectResources,
  envDetector,
  type Resource,
  resourceFromAttributes,
} from '@opentelemetry/resources'
import { NodeSDK } from '@opentelemetry/sdk-node'
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace'
import { reportDiagnostic } from './diagnostics.ts'
import { exporterFromEnv } from './span-exporter-from-env.ts'

/** The path roles; each traces under its own service name so a trace UI draws the path. */
export type TraceRole = 'producer' | 'bridge' | 'consumer'
export const TRACE_ROLES: readonly TraceRole[] = ['producer', 'bridge', 'consumer']

/** Options for `createTracing`. */
export interface TracingOptions {
  /** Use this exporter instead of the one the environment selects (tests: InMemorySpanExporter). */
  exporter?: SpanExporter
  /** Export each span at once instead of batching (tests). @default false */
  simple?: boolean
  /** Service name before the role suffix, unless OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES set one. @default 'iotload' */
  serviceName?: string
  /**
   * Start `@opentelemetry/sdk-node` and register it as the process's global OpenTelemetry, so
   * code using `@opentelemetry/api` (a plugin, say) exports through the same pipeline. Only one
   * live `Tracing` registers at a time. @default true
   */
  registerGlobal?: boolean
}

/** iotload's tracing: one tracer per role, all exporting through one span processor. */
export interface Tracing {
  tracerFor(role: TraceRole): Tracer
  /** `service.name` of a role's spans: `<OTEL_SERVICE_NAME or iotload>-<role>`. */
  serviceName(role: TraceRole): string
  /** What the spans go to, for the start-up line: `otlp grpc http://…`, `zipkin http://…`, `custom`. */
  readonly target: string
  /**
   * Set up from this process's own environment (no custom exporter): a worker thread, which
   * inherits that environment, can set up the same tracing for itself.
   */
  readonly portable: boolean
  forceFlush(): Promise<void>
  shutdown(): Promise<void>
}

type Env = Record<string, string | undefined>

/** The `Tracing` whose NodeSDK holds the global registration, if any. */
let globalOwner: object | undefined

/** `service.name` from OTEL_SERVICE_NAME, else OTEL_RESOURCE_ATTRIBUTES, else the fallback. */
export function baseServiceName(env: Env, fallback = 'iotload'): string {
  const direct = env.OTEL_SERVICE_NAME?.trim()
  if (direct) return direct
  for (const pair of (env.OTEL_RESOURCE_ATTRIBUTES ?? '').split(',')) {
    const [k, v] = pair.split('=')
    if (k?.trim() === 'service.name' && v?.trim()) {
      try {
        return decodeURIComponent(v.trim())
      } catch {
        return v.trim()
      }
    }
  }
  return fallback
}

/**
 * The process resource: SDK defaults, OTEL_RESOURCE_ATTRIBUTES, host and runtime. Synchronous
 * attributes only (the host detector's machine id would hold every export until it resolves), and
 * not the process detector: its command line may hold a secret (a Redis URL with a password).
 */
function processResource(env: Env, fallbackName: string | undefined): Resource {
  const runtime = process.versions.bun ? ['bun', process.versions.bun] : ['nodejs', process.versions.node]
  return defaultResource()
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(
      resourceFromAttributes({
        'host.name': hostname(),
        'host.arch': arch(),
        'process.pid': process.pid,
        'process.runtime.name': runtime[0]!,
        'process.runtime.version': runtime[1]!,
        'service.name': baseServiceName(env, fallbackName),
      }),
    )
}

const swallow = (what: string) => (err: unknown) =>
  reportDiagnostic(what, { error: (err as Error)?.message ?? String(err) })

/**
 * Sets tracing up from the standard OTEL_* variables with `@opentelemetry/sdk-node`; undefined
 * when tracing is off. The SDK owns the process resource, the global registration and the one
 * span processor (batched per OTEL_BSP_*); each role gets a tracer provider on that processor
 * whose resource differs only in `service.name` (`iotload-producer`, `-bridge`, `-consumer`).
 */
export function createTracing(options: TracingOptions = {}, env: Env = process.env): Tracing | undefined {
  const chosen = options.exporter ? { exporter: options.exporter, target: 'custom' } : exporterFromEnv(env)
  if (!chosen) return undefined
  const processor: SpanProcessor = options.simple
    ? new SimpleSpanProcessor({ exporter: chosen.exporter })
    : new BatchSpanProcessor({ exporter: chosen.exporter, maxQueueSize: 4096, scheduledDelayMillis: 1000 })
  const resource = processResource(env, options.serviceName)
  const base = String(resource.attributes['service.name'])
  const self = {}
  let sdk: NodeSDK | undefined
  if (options.registerGlobal !== false && globalOwner === undefined) {
    try {
      sdk = new NodeSDK({
        resource,
        autoDetectResources: false,
        spanProcessors: [processor],
        metricReaders: [], // iotload's metrics are served to Prometheus by IotloadMetrics
        logRecordProcessors: [],
        instrumentations: [],
      })
      sdk.start()
      globalOwner = self
    } catch (err) {
      sdk = undefined
      swallow('OpenTelemetry SDK start failed; iotload traces still export')(err)
    }
  }
  const providers = new Map<TraceRole, TracerProvider>()
  const tracers = new Map<TraceRole, Tracer>()
  for (const role of TRACE_ROLES) {
    const provider = new TracerProvider({
      resource: resource.merge(resourceFromAttributes({ 'service.name': `${base}-${role}` })),
      // iotload samples messages itself (IOTLOAD_TRACE_SAMPLE); a span it starts is wanted.
      sampler: new AlwaysOnSampler(),
      spanProcessors: [processor],
    })
    providers.set(role, provider)
    tracers.set(role, provider.getTracer('@iotload/otel', '0.1.0'))
  }
  return {
    tracerFor: (role) => tracers.get(role)!,
    serviceName: (role) => `${base}-${role}`,
    target: chosen.target,
    portable: !options.exporter && env === process.env,
    forceFlush: () => processor.forceFlush().catch(swallow('trace flush failed')),
    async shutdown() {
      // The shared processor flushes and shuts its exporter down once, whoever asks first.
      await Promise.all([...providers.values()].map((p) => p.shutdown())).catch(
        swallow('trace shutdown failed'),
      )
      if (sdk) await sdk.shutdown().catch(swallow('trace shutdown failed'))
      if (globalOwner === self) {
        trace.disable()
        context.disable()
        propagation.disable()
        globalOwner = undefined
      }
    },
  }
}
