import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'

/** The OTLP definitions' release on Maven Central (io.opentelemetry.proto:opentelemetry-proto). */
export const OTLP_PROTO_VERSION = '1.11.0-alpha'
const ARTIFACT = `io.opentelemetry.proto:opentelemetry-proto:${OTLP_PROTO_VERSION}`
const TRACE_SERVICE = 'opentelemetry/proto/collector/trace/v1/trace_service.proto'

/**
 * A directory holding the official OTLP `.proto` files (`opentelemetry/proto/**`), the include
 * root for decoding. They come from the opentelemetry-proto jar on Maven Central (the definitions
 * ship inside it), fetched once with `mvn dependency:copy` into `IOTLOAD_CACHE` (default
 * ~/.cache/iotload) and unzipped there; nothing is kept in the repository.
 *
 * Returns undefined (after one loud line) when Maven or unzip is missing locally; under
 * `CI=true` that throws, as a missing broker does.
 */
export function otlpProtoDir(): string | undefined {
  const cache = process.env.IOTLOAD_CACHE ?? join(homedir(), '.cache', 'iotload')
  const dir = join(cache, `otlp-proto-${OTLP_PROTO_VERSION}`)
  if (existsSync(join(dir, TRACE_SERVICE))) return dir
  try {
    mkdirSync(dir, { recursive: true })
    execFileSync(
      'mvn',
      ['-B', '-q', 'dependency:copy', `-Dartifact=${ARTIFACT}`, `-DoutputDirectory=${dir}`],
      { stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 },
    )
    const jar = join(dir, `opentelemetry-proto-${OTLP_PROTO_VERSION}.jar`)
    execFileSync('unzip', ['-o', '-q', jar, 'opentelemetry/proto/*', '-d', dir], { stdio: 'pipe' })
    if (!existsSync(join(dir, TRACE_SERVICE))) throw new Error(`${TRACE_SERVICE} not in ${jar}`)
    return dir
  } catch (err) {
    const e = err as Error & { stderr?: Buffer }
    const line = `the OTLP .proto files (${ARTIFACT}) could not be fetched with mvn: ${e.stderr?.toString().trim() || e.message}`
    if (process.env.CI === 'true') throw new Error(line)
    process.stderr.write(`\n!!! SKIPPING: ${line} !!!\n\n`)
    return undefined
  }
}
