import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type OtlpReceiver, otlpProtoDir, type ReceivedSpan, startOtlpReceiver } from '@iotload/otel/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { IOTLOAD_BIN } from './test-helpers.ts'

const protoDir = otlpProtoDir()
/** Bun from the npm registry (devDependency), the binary inside the package. */
const BUN = join(createRequire(import.meta.url).resolve('bun/package.json'), '..', 'bin', 'bun.exe')

function run(
  runtime: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(runtime, [IOTLOAD_BIN, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (d) => {
      stderr += d
    })
    child.on('close', (code) => resolve({ code, stderr }))
  })
}

/**
 * The quickstart (embedded broker, bridge, consumer) traced over OTLP gRPC, as Jaeger v2 would
 * receive it on 4317, under both runtimes.
 */
describe.skipIf(!protoDir)('iotload quickstart exports its traces over OTLP gRPC', () => {
  let receiver: OtlpReceiver
  const dir = mkdtempSync(join(tmpdir(), 'iotload-otlp-'))
  beforeAll(async () => {
    receiver = await startOtlpReceiver(protoDir!)
  })
  afterAll(async () => {
    await receiver?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  for (const [runtime, bin] of [
    ['node', process.execPath],
    ['bun', BUN],
  ] as const) {
    it(`under ${runtime}: complete traces, one service per role, templated span names`, async () => {
      receiver.spans.length = 0
      const r = await run(bin, ['quickstart', '--quiet', '--db', join(dir, `${runtime}.db`)], {
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.grpcEndpoint,
        IOTLOAD_TRACE_SAMPLE: '2/s',
      })
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).toContain(`to=otlp grpc ${receiver.grpcEndpoint} services=iotload-producer,`)
      const spans = receiver.spans
      expect(new Set(spans.map((s) => `${s.service}: ${s.name}`))).toEqual(
        new Set([
          'iotload-producer: send devices/{device}/telemetry',
          'iotload-bridge: process devices/{device}/telemetry',
          'iotload-consumer: receive actions/+',
        ]),
      )
      const traces = new Map<string, ReceivedSpan[]>()
      for (const s of spans) traces.set(s.traceId, [...(traces.get(s.traceId) ?? []), s])
      // ~2 traced messages a second for 12 s; each trace has its three linked spans.
      expect(traces.size).toBeGreaterThanOrEqual(10)
      for (const trace of traces.values()) {
        const [send, process, receive] = ['send', 'process', 'receive'].map((op) =>
          trace.find((s) => s.name.startsWith(op)),
        )
        expect(process?.parentSpanId).toBe(send?.spanId)
        expect(receive?.parentSpanId).toBe(process?.spanId)
        expect(send?.attributes['messaging.destination.name']).toMatch(/^devices\/\d+\/telemetry$/)
      }
      expect(spans[0]?.resource['process.runtime.name']).toBe(runtime === 'bun' ? 'bun' : 'nodejs')
    }, 60_000)
  }
})
