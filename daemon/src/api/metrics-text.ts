import { secrets } from '../log/secret-registry.ts'
import type { StrayErrors } from '../service/last-resort.ts'
import type { RunManager } from '../service/run-manager.ts'

/** Prometheus content type for the text exposition format. */
export const PROMETHEUS_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/**
 * The daemon's own minimal Prometheus text (runs by status, active runs, run limit), served on
 * /metrics until an OpenTelemetry provider is injected.
 */
export function daemonMetricsText(manager: RunManager, stray?: StrayErrors): string {
  const lines = ['# HELP iotload_runs Runs known to this daemon, by status.', '# TYPE iotload_runs gauge']
  const counts = manager.countByStatus()
  for (const status of Object.keys(counts).sort())
    lines.push(`iotload_runs{status="${status}"} ${counts[status]}`)
  lines.push(
    '# HELP iotload_active_runs Runs executing now.',
    '# TYPE iotload_active_runs gauge',
    `iotload_active_runs ${manager.activeCount}`,
    '# HELP iotload_max_runs Runs this daemon executes at once (--max-runs).',
    '# TYPE iotload_max_runs gauge',
    `iotload_max_runs ${manager.maxRuns}`,
    // What every response and log line is scrubbed of: it must follow the active runs, never the
    // requests seen before (a refused request registers nothing).
    '# HELP iotload_daemon_redacted_values Secret values responses and logs are scrubbed of now.',
    '# TYPE iotload_daemon_redacted_values gauge',
    `iotload_daemon_redacted_values ${secrets.size}`,
  )
  if (stray)
    lines.push(
      '# HELP iotload_daemon_stray_errors_total Errors nothing caught (unhandled rejections, uncaught exceptions), logged and survived.',
      '# TYPE iotload_daemon_stray_errors_total counter',
      `iotload_daemon_stray_errors_total ${stray.count}`,
    )
  return `${lines.join('\n')}\n`
}
