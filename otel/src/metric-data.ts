import type { Attributes } from '@opentelemetry/api'
import { ValueType } from '@opentelemetry/api'
import {
  AggregationTemporality,
  DataPointType,
  type GaugeMetricData,
  type HistogramMetricData,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics'
import type { BucketHistogram } from './latency-buckets.ts'

/** OTel's [seconds, nanoseconds] time. */
export type HrTime = [number, number]

export function hrTime(ms: number): HrTime {
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6]
}

/** One series of a metric: the value, its attributes and when its run started. */
export interface Point<V> {
  value: V
  attrs: Attributes
  start: HrTime
}

export function counterData(
  name: string,
  description: string,
  points: Array<Point<number>>,
  end: HrTime,
): SumMetricData {
  return {
    descriptor: { name, description, unit: '', valueType: ValueType.INT },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: points.map((p) => ({
      startTime: p.start,
      endTime: end,
      attributes: p.attrs,
      value: p.value,
    })),
  }
}

export function gaugeData(
  name: string,
  description: string,
  unit: string,
  points: Array<Point<number>>,
  end: HrTime,
): GaugeMetricData {
  return {
    descriptor: { name, description, unit, valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.GAUGE,
    dataPoints: points.map((p) => ({
      startTime: p.start,
      endTime: end,
      attributes: p.attrs,
      value: p.value,
    })),
  }
}

export function histogramData(
  name: string,
  description: string,
  points: Array<Point<BucketHistogram>>,
  end: HrTime,
): HistogramMetricData {
  return {
    descriptor: { name, description, unit: 'ms', valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: points.map(({ value: h, attrs, start }) => ({
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
