import type { MetricsText } from '@iotload/otel'

/**
 * Joins the OpenTelemetry text (per-run latency histograms and counters) with the daemon's own
 * gauges (runs by status), so GET /metrics shows both. Metric names do not overlap.
 */
export function combinedMetrics(
  otel: () => Promise<MetricsText>,
  daemonText: () => string,
): () => Promise<MetricsText> {
  return async () => {
    const m = await otel()
    let own = ''
    try {
      own = daemonText()
    } catch {}
    return { contentType: m.contentType, body: `${m.body.trimEnd()}\n${own}` }
  }
}
