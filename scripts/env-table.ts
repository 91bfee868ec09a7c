/**
 * Prints docs/environment.md: every IOTLOAD_* variable, scenario overrides generated from the
 * zod schemas (so the table cannot drift from the code), daemon settings listed by hand.
 *   node --import tsx scripts/env-table.ts > docs/environment.md
 */
import { envNameFor } from '../daemon/src/scenario/env-overrides.ts'
import { scenarioSchema } from '../daemon/src/scenario/schema.ts'
import { leafPaths, objectShape } from '../daemon/src/scenario/zod-walk.ts'
import { loadPlugin } from '../daemon/src/plugins/loader.ts'
import type { z } from 'zod'

/** Daemon and process settings (not scenario fields). */
export const DAEMON_SETTINGS: Array<[string, string]> = [
  ['IOTLOAD_HOST', 'REST API bind address. Default `127.0.0.1`; any other address requires a token.'],
  ['IOTLOAD_PORT', 'REST API port. Default `7878`.'],
  ['IOTLOAD_TOKEN', 'Bearer token for the REST API (secret). Required to bind a non-loopback address.'],
  ['IOTLOAD_DB', 'SQLite results file. Default `~/.local/share/iotload/iotload.db`.'],
  ['IOTLOAD_MAX_RUNS', 'Runs executing at once in one daemon; more get HTTP 429. Default `4`.'],
  [
    'IOTLOAD_PLUGIN_ALLOW',
    'Comma-separated packages the daemon may install/load besides `@iotload/broker-*`.',
  ],
  [
    'IOTLOAD_PLUGIN_DIR',
    'Plugin directory (an npm prefix): `iotload plugins install` and `POST /v1/plugins` install there, runs load from there. Default `~/.local/share/iotload/plugins`.',
  ],
  [
    'IOTLOAD_TRANSFORM_DIR',
    'Directory scenarios sent to the daemon may load `bridge.transform.module` from (symlinks resolved); refused when unset.',
  ],
  [
    'IOTLOAD_SECRETS_DIR',
    'Directory scenarios sent to the daemon may read `${file:…}` references and TLS files from; refused when unset.',
  ],
  [
    'IOTLOAD_ALLOW_SECRET_ENV',
    'Comma-separated variables `${env:…}` may read in scenarios sent to the daemon, besides `IOTLOAD_SECRET_*`.',
  ],
  [
    'IOTLOAD_SECRET_*',
    'Variables every scenario sent to the daemon may read through `${env:…}` (credential fields only).',
  ],
  [
    'IOTLOAD_ALLOWED_HOSTS',
    'Comma-separated Host names (`name`, `*.suffix`, `*`) the REST API answers to besides loopback ones and the bound address; others get 421.',
  ],
  [
    'IOTLOAD_ALLOWED_ORIGINS',
    'Comma-separated origins (`https://ui.example:8443`) of web pages that may call the REST API; other origins get 403.',
  ],
  [
    'IOTLOAD_ALLOW_EXEC',
    '`1` lets scenarios sent to the daemon run their `setup`/`faults`/`teardown` commands (docs/faults.md); refused with 400 otherwise. Off by default.',
  ],
  [
    'IOTLOAD_ALLOW_PLUGIN_INSTALL',
    '`1` lets `POST /v1/plugins` install from the npm registry (names allowed as for scenarios, scripts not run). Off by default.',
  ],
  ['IOTLOAD_MAX_RATE', 'Largest fleet-wide rate a scenario may ask for. Default `5000000/s`.'],
  [
    'IOTLOAD_MAX_DEVICES',
    'Most devices (or producer connections) a scenario may ask for. Default `1000000`.',
  ],
  ['IOTLOAD_MAX_RUN_TIME', 'Longest duration + warmup + drain of a scenario. Default `168h` (7 days).'],
  ['IOTLOAD_MAX_PAYLOAD_BYTES', 'Largest `producer.payloadSize`. Default `1048576` (1 MiB).'],
  [
    'IOTLOAD_MAX_WORKERS',
    'Largest `run.workers` a scenario may ask: each worker thread loads its plugins and clients again. Default `64`.',
  ],
  [
    'IOTLOAD_CLUSTER_URL',
    'Redis URL (`redis://`, `rediss://` for TLS, password in the URL or IOTLOAD_CLUSTER_PASSWORD) to join a cluster.',
  ],
  ['IOTLOAD_CLUSTER_PASSWORD', 'Redis password (secret), when not in the URL.'],
  [
    'IOTLOAD_CLUSTER_TLS_CA',
    'PEM file of the CA that signed the Redis server certificate (`rediss://`); the system CAs otherwise.',
  ],
  [
    'IOTLOAD_ROLES',
    'Cluster roles of this daemon: `producer`, `consumer`, `bridge` or `any` (comma-separated). Default `any`.',
  ],
  [
    'IOTLOAD_CAPACITY',
    'Cluster capacity: devices a producer daemon takes, or topics a consumer/bridge daemon claims.',
  ],
  ['IOTLOAD_ADVERTISE_HOST', 'Address other daemons use to reach this one (pod IP on Kubernetes).'],
  [
    'IOTLOAD_CLUSTER_PREFIX',
    'Redis key prefix of the cluster (several clusters can share one Redis). Default `iotload`.',
  ],
  [
    'IOTLOAD_CLUSTER_LEASE_MS',
    "Registration TTL, coordinator lock and topic-claim lease in ms (renewed from a worker thread); a dead daemon's topics are reclaimed and its runs adopted after it. Default `5000`.",
  ],
  [
    'IOTLOAD_CLUSTER_MAX_ADOPTIONS',
    'Adoptions that resume a run after its coordinator stalled or died; the next one ends it `failed` with what reached Redis merged. Default `3`.',
  ],
  [
    'IOTLOAD_CLUSTER_STALL_MS',
    "Main-thread silence (ms) after which a daemon's leases lapse, so a hung daemon is replaced. Default `30000`.",
  ],
  ['IOTLOAD_LOG_LEVEL', '`debug`, `info` (default), `warn`, `error`.'],
  ['IOTLOAD_LOG_FORMAT', '`text` (default) or `json` (one object per line, for log collectors).'],
  [
    'IOTLOAD_TRACE_SAMPLE',
    'Per-message trace sampling: a ratio (`0.001`), a rate (`5/s`, the default is 10/s) or `off`.',
  ],
  ['IOTLOAD_METRICS_HOST', 'Bind address of `iotload run --metrics-port`. Default `127.0.0.1`.'],
  [
    'IOTLOAD_METRICS_LINGER_MS',
    'How long a finished `iotload run --metrics-port` keeps serving /metrics, so a last scrape sees the final figures (ms). Default `0`.',
  ],
  ['IOTLOAD_IMAGE', 'deploy/compose.yaml only: the image the daemon services run. Default `iotload:latest`.'],
  [
    'IOTLOAD_CACHE',
    'Where `scripts/services/*.sh` keep downloaded Kafka, Pulsar and Zipkin distributions, and the tests their OTLP protos. Default `~/.cache/iotload`.',
  ],
]

/** The standard OpenTelemetry variables iotload reads (docs/observability.md has the details). */
export const OTEL_SETTINGS: Array<[string, string]> = [
  [
    'OTEL_TRACES_EXPORTER',
    '`otlp`, `zipkin`, `console` or `none`. Unset: `otlp` when an OTLP endpoint is set, else no tracing.',
  ],
  [
    'OTEL_EXPORTER_OTLP_ENDPOINT',
    'OTLP collector (Jaeger, …) for every signal; `http://localhost:4317` for gRPC, `:4318` for HTTP by default.',
  ],
  ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTLP collector for traces only (wins over the general endpoint).'],
  ['OTEL_EXPORTER_OTLP_PROTOCOL', '`grpc`, `http/protobuf` (default) or `http/json`.'],
  ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'The same, for traces only.'],
  [
    'OTEL_EXPORTER_OTLP_TIMEOUT',
    'Export timeout in ms (the OTLP exporters also read `…_HEADERS`, `…_COMPRESSION`, `…_CERTIFICATE`).',
  ],
  ['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 'The same, for traces only.'],
  ['OTEL_EXPORTER_ZIPKIN_ENDPOINT', 'Zipkin collector. Default `http://127.0.0.1:9411/api/v2/spans`.'],
  ['OTEL_SERVICE_NAME', "The services' base name on every span. Default `iotload`."],
  ['OTEL_RESOURCE_ATTRIBUTES', 'Resource attributes on every span (`key=value,…`).'],
  ['OTEL_SDK_DISABLED', '`true`: no tracing.'],
]

function rows(schema: z.ZodType, prefix: string[]): string[] {
  return leafPaths(schema, prefix)
    .filter((p) => p.length > prefix.length || prefix.length === 0)
    .filter((p) => {
      // Skip intermediate objects: only leaves are settable by one variable.
      let node: z.ZodType | undefined = schema
      for (const k of p.slice(prefix.length)) node = node ? objectShape(node)?.[k] : undefined
      return node !== undefined && objectShape(node) === undefined
    })
    .map((p) => `| \`${envNameFor(p)}\` | \`${p.join('.')}\` |`)
}

/** The whole document. */
export async function environmentDoc(): Promise<string> {
  const out: string[] = [
    '# Environment variables',
    '',
    'Generated by `node --import tsx scripts/env-table.ts > docs/environment.md`; a test checks it is current.',
    '',
    '## Daemon and process settings',
    '',
    '| variable | meaning |',
    '|---|---|',
    ...DAEMON_SETTINGS.map(([k, v]) => `| \`${k}\` | ${v} |`),
    '',
    '## OpenTelemetry',
    '',
    'The standard variables, read as the OpenTelemetry SDK defines them; see docs/observability.md.',
    '',
    '| variable | meaning |',
    '|---|---|',
    ...OTEL_SETTINGS.map(([k, v]) => `| \`${k}\` | ${v} |`),
    '',
    '## Scenario fields',
    '',
    'Every scenario field can be set or overridden by `IOTLOAD_<SECTION>_<FIELD>` (camelCase split by',
    'underscores). Values are YAML scalars: `2000` is a number, `true` a boolean, `{a: 1}` a mapping.',
    '`iotload run -` builds the scenario from these variables alone. SLO thresholds take any key:',
    '`IOTLOAD_SLO_E2E_P99=10ms` sets `slo["e2e.p99"]`. Secrets belong in `${env:NAME}` references.',
    '',
    '| variable | field |',
    '|---|---|',
    ...rows(scenarioSchema, []),
    '',
    '## Broker plugin fields',
    '',
    'Keys of `broker:` other than `plugin` and `auth` belong to the plugin; the same naming applies.',
    '',
  ]
  for (const name of ['mqtt', 'amqp', 'nats', 'kafka', 'pulsar', 'zeromq']) {
    let plugin: Awaited<ReturnType<typeof loadPlugin>>
    try {
      plugin = await loadPlugin(name)
    } catch {
      continue
    }
    out.push(
      `### ${name}`,
      '',
      '| variable | field |',
      '|---|---|',
      ...rows(plugin.configSchema, ['broker']),
      '',
    )
  }
  return `${out.join('\n')}\n`
}

async function main(): Promise<void> {
  process.stdout.write(await environmentDoc())
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '')) await main()
