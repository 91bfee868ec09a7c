import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  type CollectionResult,
  MeterProvider,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics'
import { counterData, gaugeData, histogramData, hrTime, type Point } from './metric-data.ts'
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

type Read = (r: RunMetrics) => Point<number>
const producer =
  (f: (r: RunMetrics) => number): Read =>
  (r) => ({ value: f(r), attrs: r.producerAttrs, start: r.startTime })
const consumer =
  (f: (r: RunMetrics) => number): Read =>
  (r) => ({ value: f(r), attrs: r.consumerAttrs, start: r.startTime })

const COUNTERS: Array<{ name: string; description: string; read: Read }> = [
  {
    name: 'iotload.messages.sent',
    description: 'Measured messages sent (warm-up excluded)',
    read: producer((r) => r.sent),
  },
  {
    name: 'iotload.messages.received',
    description: 'Measured messages received, first arrivals',
    read: consumer((r) => r.received),
  },
  {
    name: 'iotload.messages.lost',
    description: 'Messages sent but never received (set when the run ends)',
    read: consumer((r) => r.lost),
  },
  {
    name: 'iotload.messages.duplicate',
    description: 'Duplicate arrivals',
    read: consumer((r) => r.duplicates),
  },
  {
    name: 'iotload.messages.invalid',
    description: 'Arrivals without valid iotload metadata',
    read: consumer((r) => r.invalid),
  },
  {
    name: 'iotload.publish.errors',
    description: 'Publishes the broker or client rejected',
    read: producer((r) => r.publishErrors),
  },
  {
    name: 'iotload.connection.reconnects',
    description: 'Reconnections of any role',
    read: producer((r) => r.reconnects),
  },
]

const GAUGES: Array<{ name: string; description: string; unit: string; read: Read }> = [
  {
    name: 'iotload.devices.connected',
    description: 'Connected emulated devices',
    unit: '{device}',
    read: producer((r) => r.connectedDevices),
  },
  {
    name: 'iotload.generator.lag_milliseconds',
    description: 'Worst send lag behind the open-loop schedule since the last scrape',
    unit: 'ms',
    read: producer((r) => (r.ended ? 0 : r.takeLagMs())),
  },
  {
    name: 'iotload.messages.gaps',
    description: 'Sequence gaps outstanding (lost or still in flight)',
    unit: '{message}',
    read: consumer((r) => r.gaps),
  },
]

/**
 * Process-wide iotload metrics: one MeterProvider read by a Prometheus exporter that never opens
 * its own port; the text is served by the daemon's GET /metrics or `serveMetrics`. Runs register
 * a `RunMetrics`; a metric producer turns the registered runs into counters, gauges and latency
 * histograms at scrape time.
 */
export class IotloadMetrics {
  readonly exporter: PrometheusExporter
  private readonly provider: MeterProvider
  private readonly serializer = new PrometheusSerializer('', false, undefined, true, true)
  private readonly runs = new Map<string, RunMetrics>()
  private readonly retain: number

  constructor(options: MetricsOptions = {}) {
    this.retain = options.retainEndedRuns ?? 10
    // Every series comes from this producer over the registered runs, never from SDK instruments:
    // the SDK keeps an observable instrument's series after its run is dropped (stuck at 0, and
    // counting towards the cardinality limit), which a long-lived daemon cannot afford.
    const producer: MetricProducer = { collect: async () => this.collect() }
    this.exporter = new PrometheusExporter({ preventServerStart: true, metricProducers: [producer] })
    this.provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName ?? 'iotload' }),
      readers: [this.exporter],
    })
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

  private async collect(): Promise<CollectionResult> {
    const end = hrTime(Date.now())
    const runs = [...this.runs.values()]
    const histogram = (r: RunMetrics, h: RunMetrics['e2e']) => ({
      value: h,
      attrs: r.consumerAttrs,
      start: r.startTime,
    })
    const legs = runs.flatMap((r) =>
      LEGS.filter((l) => r.legs[l].count > 0).map((l) => ({
        value: r.legs[l],
        attrs: r.legAttrs[l],
        start: r.startTime,
      })),
    )
    const metrics: MetricData[] = [
      ...COUNTERS.map((c) => counterData(c.name, c.description, runs.map(c.read), end)),
      ...GAUGES.map((g) => gaugeData(g.name, g.description, g.unit, runs.map(g.read), end)),
      histogramData(
        'iotload.e2e.latency_milliseconds',
        'End-to-end latency from the actual send time',
        runs.map((r) => histogram(r, r.e2e)),
        end,
      ),
      histogramData(
        'iotload.e2e.latency.corrected_milliseconds',
        'End-to-end latency from the intended send time (coordinated-omission corrected)',
        runs.map((r) => histogram(r, r.e2eCorrected)),
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
