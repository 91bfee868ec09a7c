import type { ObservableResult } from '@opentelemetry/api'
import { ValueType } from '@opentelemetry/api'
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  AggregationTemporality,
  type CollectionResult,
  DataPointType,
  type HistogramMetricData,
  MeterProvider,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics'
import type { BucketHistogram } from './latency-buckets.ts'
import { LEGS, type RunLabels, RunMetrics } from './run-metrics.ts'

/** Prometheus text exposition, for GET /metrics handlers. */
export interface MetricsText {
  contentType: string
  body: string
}

/** Options for `IotloadMetrics`. */
export interface MetricsOptions {
  /** Ended runs whose final values stay exposed, so a last scrape still sees them. @default 10 */
  retainEndedRuns?: number
  /** `service.name` resource attribute. @default 'iotload' */
  serviceName?: string
}

const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
const SCOPE = { name: '@iotload/otel', version: '0.1.0' }

function histogramData(
  name: string,
  description: string,
  points: Array<{ h: BucketHistogram; attrs: RunMetrics['consumerAttrs']; start: [number, number] }>,
  end: [number, number],
): HistogramMetricData {
  return {
    descriptor: { name, description, unit: 'ms', valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: points.map(({ h, attrs, start }) => ({
      startTime: start,
      endTime: end,
      attributes: attrs,
      value: {
        buckets: { boundaries: Array.from(h.bounds), counts: Array.from(h.counts) },
        count: h.count,
        sum: h.sum,
        ...(h.count > 0 ? { min: h.min, max: h.max } : {}),
      },
    })),
  }
}

/**
 * Process-wide iotload metrics: one MeterProvider read by a Prometheus exporter that never opens
 * its own port; the text is served by the daemon's GET /metrics or `serveMetrics`. Runs register
 * a `RunMetrics`; counters and gauges are observable instruments read at scrape time, latency
 * histograms come from a metric producer over the runs' bucket counts.
 */
export class IotloadMetrics {
  readonly exporter: PrometheusExporter
  private readonly provider: MeterProvider
  private readonly serializer = new PrometheusSerializer('', false, undefined, true, true)
  private readonly runs = new Map<string, RunMetrics>()
  private readonly retain: number

  constructor(options: MetricsOptions = {}) {
    this.retain = options.retainEndedRuns ?? 10
    const histograms: MetricProducer = { collect: async () => this.collectHistograms() }
    this.exporter = new PrometheusExporter({ preventServerStart: true, metricProducers: [histograms] })
    this.provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName ?? 'iotload' }),
      readers: [this.exporter],
    })
    const meter = this.provider.getMeter(SCOPE.name, SCOPE.version)
    const counter = (name: string, description: string, read: (r: RunMetrics, o: ObservableResult) => void) =>
      meter.createObservableCounter(name, { description, valueType: ValueType.INT }).addCallback((o) => {
        for (const r of this.runs.values()) read(r, o)
      })
    counter('iotload.messages.sent', 'Measured messages sent (warm-up excluded)', (r, o) =>
      o.observe(r.sent, r.producerAttrs),
    )
    counter('iotload.messages.received', 'Measured messages received, first arrivals', (r, o) =>
      o.observe(r.received, r.consumerAttrs),
    )
    counter('iotload.messages.lost', 'Messages sent but never received (set when the run ends)', (r, o) =>
      o.observe(r.lost, r.consumerAttrs),
    )
    counter('iotload.messages.duplicate', 'Duplicate arrivals', (r, o) =>
      o.observe(r.duplicates, r.consumerAttrs),
    )
    counter('iotload.messages.invalid', 'Arrivals without valid iotload metadata', (r, o) =>
      o.observe(r.invalid, r.consumerAttrs),
    )
    counter('iotload.publish.errors', 'Publishes the broker or client rejected', (r, o) =>
      o.observe(r.publishErrors, r.producerAttrs),
    )
    counter('iotload.connection.reconnects', 'Reconnections of any role', (r, o) =>
      o.observe(r.reconnects, r.producerAttrs),
    )
    const gauge = (
      name: string,
      description: string,
      unit: string,
      read: (r: RunMetrics, o: ObservableResult) => void,
    ) =>
      meter.createObservableGauge(name, { description, unit }).addCallback((o) => {
        for (const r of this.runs.values()) read(r, o)
      })
    gauge('iotload.devices.connected', 'Connected emulated devices', '{device}', (r, o) =>
      o.observe(r.connectedDevices, r.producerAttrs),
    )
    gauge(
      'iotload.generator.lag_milliseconds',
      'Worst send lag behind the open-loop schedule since the last scrape',
      'ms',
      (r, o) => o.observe(r.ended ? 0 : r.takeLagMs(), r.producerAttrs),
    )
    gauge(
      'iotload.messages.gaps',
      'Sequence gaps outstanding (lost or still in flight)',
      '{message}',
      (r, o) => o.observe(r.gaps, r.consumerAttrs),
    )
  }

  /** Registers a run; its series appear from the next scrape on. */
  registerRun(labels: RunLabels, devices: number): RunMetrics {
    const r = new RunMetrics(labels, devices)
    this.runs.set(labels.run, r)
    return r
  }

  /** Marks a run ended and drops the oldest ended runs beyond the retention. */
  endRun(r: RunMetrics): void {
    r.ended = true
    r.connectedDevices = 0
    const ended = [...this.runs.values()].filter((x) => x.ended)
    for (const old of ended.slice(0, Math.max(0, ended.length - this.retain)))
      this.runs.delete(old.labels.run)
  }

  private async collectHistograms(): Promise<CollectionResult> {
    const end: [number, number] = [Math.floor(Date.now() / 1000), (Date.now() % 1000) * 1e6]
    const runs = [...this.runs.values()]
    const e2e = runs.map((r) => ({ h: r.e2e, attrs: r.consumerAttrs, start: r.startTime }))
    const co = runs.map((r) => ({ h: r.e2eCorrected, attrs: r.consumerAttrs, start: r.startTime }))
    const legs = runs.flatMap((r) =>
      LEGS.filter((l) => r.legs[l].count > 0).map((l) => ({
        h: r.legs[l],
        attrs: r.legAttrs[l],
        start: r.startTime,
      })),
    )
    const metrics = [
      histogramData(
        'iotload.e2e.latency_milliseconds',
        'End-to-end latency from the actual send time',
        e2e,
        end,
      ),
      histogramData(
        'iotload.e2e.latency.corrected_milliseconds',
        'End-to-end latency from the intended send time (coordinated-omission corrected)',
        co,
        end,
      ),
    ]
    if (legs.length > 0)
      metrics.push(
        histogramData('iotload.leg.latency_milliseconds', 'Latency of one leg of the path', legs, end),
      )
    return {
      resourceMetrics: { resource: resourceFromAttributes({}), scopeMetrics: [{ scope: SCOPE, metrics }] },
      errors: [],
    }
  }

  /** The current metrics as Prometheus text. Never rejects: a collection error becomes a comment. */
  async text(): Promise<MetricsText> {
    try {
      const { resourceMetrics } = await this.exporter.collect()
      return { contentType: CONTENT_TYPE, body: this.serializer.serialize(resourceMetrics) }
    } catch (err) {
      return {
        contentType: CONTENT_TYPE,
        body: `# iotload: metrics collection failed: ${(err as Error).message}\n`,
      }
    }
  }

  /** A provider for the daemon's GET /metrics (`metrics?: () => Promise<{contentType, body}>`). */
  readonly provide = (): Promise<MetricsText> => this.text()

  async shutdown(): Promise<void> {
    await this.provider.shutdown().catch(() => {})
  }
}
