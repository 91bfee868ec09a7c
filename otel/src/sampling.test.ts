import { afterEach, describe, expect, it } from 'vitest'
import { setDiagnosticSink } from './diagnostics.ts'
import { DEFAULT_SAMPLING, parseSampling } from './sampling.ts'
import { exporterFromEnv, otlpTracesUrl } from './span-exporter-from-env.ts'

const seen: string[] = []
setDiagnosticSink((m) => seen.push(m))
afterEach(() => {
  seen.length = 0
})

describe('parseSampling', () => {
  it('reads ratios, rates and off', () => {
    expect(parseSampling('0.25')).toEqual({ kind: 'ratio', ratio: 0.25 })
    expect(parseSampling('5/s')).toEqual({ kind: 'rate', perSecond: 5 })
    expect(parseSampling(' 2.5 / s ')).toEqual({ kind: 'rate', perSecond: 2.5 })
    expect(parseSampling('off')).toEqual({ kind: 'off' })
    expect(parseSampling('0')).toEqual({ kind: 'off' })
    expect(parseSampling(undefined)).toEqual(DEFAULT_SAMPLING)
  })

  it('warns through the diagnostic log and falls back on nonsense, never throws', () => {
    expect(parseSampling('lots')).toEqual(DEFAULT_SAMPLING)
    expect(parseSampling('1.5')).toEqual(DEFAULT_SAMPLING)
    expect(seen.some((m) => m.includes('invalid trace sampling'))).toBe(true)
  })
})

describe('exporterFromEnv', () => {
  it('is off unless an exporter or an OTLP endpoint is configured', () => {
    expect(exporterFromEnv({})).toBeUndefined()
    expect(exporterFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })?.target).toBe(
      'otlp http/protobuf http://127.0.0.1:4318/v1/traces',
    )
    expect(exporterFromEnv({ OTEL_TRACES_EXPORTER: 'zipkin' })?.target).toBe(
      'zipkin http://127.0.0.1:9411/api/v2/spans',
    )
    expect(
      exporterFromEnv({
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_SDK_DISABLED: 'true',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x',
      }),
    ).toBeUndefined()
  })

  it('an unknown exporter warns and turns tracing off', () => {
    expect(exporterFromEnv({ OTEL_TRACES_EXPORTER: 'jaegerthrift' })).toBeUndefined()
    expect(seen.some((m) => m.includes('unknown OTEL_TRACES_EXPORTER'))).toBe(true)
  })

  it('derives the OTLP traces URL as the spec says', () => {
    expect(otlpTracesUrl({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318/' })).toBe(
      'http://jaeger:4318/v1/traces',
    )
    expect(
      otlpTracesUrl({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b/custom',
      }),
    ).toBe('http://b/custom')
    expect(otlpTracesUrl({})).toBe('http://localhost:4318/v1/traces')
  })
})
