import { createTelemetry, type Telemetry } from '@iotload/otel'
import type { RunTelemetry } from '@iotload/sdk'
import type { Logger } from '../log/logger.ts'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'

let shared: Telemetry | undefined

/**
 * The process-wide telemetry (one metrics registry, one tracer provider from the OTEL_*
 * variables). Telemetry problems are logged as warnings, never thrown.
 */
export function processTelemetry(logger: Logger): Telemetry {
  shared ??= createTelemetry({
    diagnostics: (message, detail) => logger.warn(`telemetry: ${message}`, detail),
  })
  return shared
}

/** True when the OTEL_* variables select a trace exporter, so a CLI run should trace. */
export function tracingConfigured(telemetry: Telemetry): boolean {
  return telemetry.tracing !== undefined
}

/**
 * The engine hooks for one run, labelled with bounded attributes only: the run id, the broker
 * plugin, the producer's and the bridge's topic templates and the consumer's filter (never a
 * per-device topic).
 */
export function telemetryForRun(
  telemetry: Telemetry,
  resolved: ResolvedScenario,
  runId: string,
): RunTelemetry {
  const s = resolved.scenario
  const hooks = telemetry.forRun({
    run: runId,
    system: resolved.broker.pluginName,
    producerDestination: s.producer.topic,
    consumerDestination: resolved.consumerFilter,
    ...(s.bridge ? { bridgeSource: s.bridge.from } : {}),
    devices: s.producer.devices,
  })
  return hooks
}

/**
 * Per-run telemetry factory for the daemon's RunManager: each run gets its own labelled hooks
 * on the shared registry.
 */
export function daemonTelemetry(logger: Logger): {
  telemetry: Telemetry
  forRun: (resolved: ResolvedScenario, runId: string) => RunTelemetry
  metrics: Telemetry['metricsProvider']
} {
  const telemetry = processTelemetry(logger)
  return {
    telemetry,
    forRun: (resolved, runId) => telemetryForRun(telemetry, resolved, runId),
    metrics: telemetry.metricsProvider,
  }
}
