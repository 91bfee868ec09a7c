import { DiagLogLevel, diag } from '@opentelemetry/api'
import { setGlobalErrorHandler } from '@opentelemetry/core'

/** Where telemetry problems go: never an exception into a run. */
export type DiagnosticSink = (message: string, detail?: Record<string, unknown>) => void

const REPEAT_MS = 30_000
let sink: DiagnosticSink = (message, detail) => {
  process.stderr.write(`otel: ${message}${detail ? ` ${JSON.stringify(detail)}` : ''}\n`)
}
const lastSeen = new Map<string, number>()

/**
 * Reports a telemetry problem to the diagnostic log, at most once per 30 s per message text, so
 * an unreachable collector cannot flood the log.
 */
export function reportDiagnostic(message: string, detail?: Record<string, unknown>): void {
  const now = Date.now()
  const last = lastSeen.get(message)
  if (last !== undefined && now - last < REPEAT_MS) return
  lastSeen.set(message, now)
  if (lastSeen.size > 200) lastSeen.clear()
  try {
    sink(message, detail)
  } catch {
    // A broken sink must not break a run either.
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name
  return typeof err === 'string' ? err : JSON.stringify(err)
}

/**
 * Routes OTel's own diagnostics (export failures, bad env values) to `target`. Called once per
 * process by `createTelemetry`; later calls replace the sink.
 */
export function setDiagnosticSink(target: DiagnosticSink): void {
  sink = target
  lastSeen.clear()
  setGlobalErrorHandler((err) => reportDiagnostic('telemetry export failed', { error: errorText(err) }))
  diag.setLogger(
    {
      error: (msg, ...args) => reportDiagnostic(msg, args.length ? { args: args.map(errorText) } : undefined),
      warn: (msg, ...args) => reportDiagnostic(msg, args.length ? { args: args.map(errorText) } : undefined),
      info: () => {},
      debug: () => {},
      verbose: () => {},
    },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  )
}
