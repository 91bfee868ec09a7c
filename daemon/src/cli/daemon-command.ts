import { readFileSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { createApp } from '../api/app.ts'
import { isLoopback } from '../api/auth.ts'
import { daemonMetricsText } from '../api/metrics-text.ts'
import type { MetricsProvider } from '../api/routes/system.ts'
import type { RunTelemetry } from '../engine/telemetry-hooks.ts'
import { createLogger, type Logger } from '../log/logger.ts'
import type { ResolvedScenario } from '../scenario/load-scenario.ts'
import { secrets } from '../scenario/secrets.ts'
import { PluginInstaller } from '../service/plugin-installer.ts'
import { RunManager } from '../service/run-manager.ts'
import { ClusterRunManager, clusterSettingsFrom } from '../cluster/cluster-run-manager.ts'
import { SqliteStore } from '../store/sqlite-store.ts'
import { combinedMetrics } from '../telemetry/daemon-metrics.ts'
import { daemonTelemetry } from '../telemetry/run-telemetry.ts'
import { EXIT } from './exit-codes.ts'
import { type LimitFlags, limitsFrom } from './limit-flags.ts'
import { remotePolicy, type TrustPolicy } from '../scenario/trust-policy.ts'
import { installLastResortHandlers } from '../service/last-resort.ts'

/** Port the daemon listens on unless `--port` / IOTLOAD_PORT say otherwise. */
export const DEFAULT_PORT = 7878
/** Shorter tokens are refused: the token is the only thing guarding a non-loopback bind. */
export const MIN_TOKEN_LENGTH = 16

/** `iotload daemon` flags (strings as parsed; each falls back to its IOTLOAD_* variable). */
export type DaemonFlags = {
  db: string
  /** @default IOTLOAD_HOST or 127.0.0.1 */
  host?: string | undefined
  /** @default IOTLOAD_PORT or 7878 */
  port?: string | undefined
  /** File holding the bearer token. @default IOTLOAD_TOKEN */
  tokenFile?: string | undefined
  /** @default IOTLOAD_MAX_RUNS or 4 */
  maxRuns?: string | undefined
  /** Comma-separated packages installable/loadable besides @iotload/broker-*. @default IOTLOAD_PLUGIN_ALLOW */
  pluginAllow?: string | undefined
  /** Redis URL of a cluster to join (docs/cluster.md). @default IOTLOAD_CLUSTER_URL */
  cluster?: string | undefined
  /** Directory submitted scenarios may load `bridge.transform.module` from. @default IOTLOAD_TRANSFORM_DIR, none */
  transformDir?: string | undefined
  /** Directory submitted scenarios may read `${file:…}` and TLS files from. @default IOTLOAD_SECRETS_DIR, none */
  secretsDir?: string | undefined
  /** Comma-separated variables `${env:…}` may read besides IOTLOAD_SECRET_*. @default IOTLOAD_ALLOW_SECRET_ENV */
  secretEnv?: string | undefined
  /** Comma-separated Host names accepted besides loopback ones. @default IOTLOAD_ALLOWED_HOSTS */
  allowedHost?: string | undefined
  /** Comma-separated origins of web pages that may call the API. @default IOTLOAD_ALLOWED_ORIGINS */
  allowedOrigin?: string | undefined
  /** POST /v1/plugins may install from npm (scripts not run). @default IOTLOAD_ALLOW_PLUGIN_INSTALL=1, off */
  allowPluginInstall?: boolean | undefined
  /** Scenarios sent over REST may run `setup`/`faults`/`teardown` commands. @default IOTLOAD_ALLOW_EXEC=1, off */
  allowExec?: boolean | undefined
  verbose?: boolean | undefined
} & LimitFlags

/** Hooks the OpenTelemetry package can supply. */
export interface DaemonHooks {
  /** GET /metrics. @default the OpenTelemetry registry followed by the daemon's run gauges */
  metrics?: MetricsProvider
  /** Per-run metrics/tracing hooks. @default the process telemetry, labelled per run */
  telemetryFor?: (resolved: ResolvedScenario, id: string) => RunTelemetry | undefined
  /** Called once the daemon has stopped its runs, to flush exporters. @default the process telemetry's shutdown */
  shutdown?: () => Promise<void>
}

function intSetting(value: string, name: string, min: number, max: number): number {
  const n = Number(value)
  if (!/^\d+$/.test(value.trim()) || n < min || n > max)
    throw new Error(`${name} must be an integer from ${min} to ${max}, got '${value}'`)
  return n
}

function list(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

function existingDir(path: string | undefined, flag: string): string | undefined {
  if (path === undefined || path === '') return undefined
  let st: ReturnType<typeof statSync>
  try {
    st = statSync(path)
  } catch (err) {
    throw new Error(`${flag} '${path}': ${(err as NodeJS.ErrnoException).code ?? err}`)
  }
  if (!st.isDirectory()) throw new Error(`${flag} '${path}' is not a directory`)
  return resolve(path)
}

function readToken(flags: DaemonFlags, env: NodeJS.ProcessEnv): string | undefined {
  let token: string | undefined
  if (flags.tokenFile) {
    try {
      token = readFileSync(flags.tokenFile, 'utf8').trim()
    } catch (err) {
      throw new Error(
        `cannot read --token-file '${flags.tokenFile}': ${(err as NodeJS.ErrnoException).code ?? err}`,
      )
    }
  } else if (env.IOTLOAD_TOKEN) {
    token = env.IOTLOAD_TOKEN.trim()
  } else {
    return undefined
  }
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token))
    throw new Error(
      `the token must be at least ${MIN_TOKEN_LENGTH} characters without whitespace (e.g. openssl rand -hex 32)`,
    )
  return token
}

/**
 * Runs the REST daemon until SIGTERM/SIGINT, then stops every run cleanly, closes the store and
 * resolves with the exit code. Runs left executing by a killed predecessor are marked `interrupted`.
 */
export async function daemonCommand(
  flags: DaemonFlags,
  env: NodeJS.ProcessEnv = process.env,
  hooks: DaemonHooks = {},
  logger: Logger = createLogger(flags.verbose ? { level: 'debug' } : {}),
): Promise<number> {
  const fail = (msg: string) => {
    process.stderr.write(`error: ${msg}\n`)
    return EXIT.badInput
  }
  let host: string
  let port: number
  let maxRuns: number
  let token: string | undefined
  let policy: TrustPolicy
  try {
    host = flags.host ?? env.IOTLOAD_HOST ?? '127.0.0.1'
    port = intSetting(flags.port ?? env.IOTLOAD_PORT ?? String(DEFAULT_PORT), '--port', 0, 65535)
    maxRuns = intSetting(flags.maxRuns ?? env.IOTLOAD_MAX_RUNS ?? '4', '--max-runs', 0, 1000)
    token = readToken(flags, env)
    policy = remotePolicy({
      allowPlugins: list(flags.pluginAllow ?? env.IOTLOAD_PLUGIN_ALLOW),
      transformDir: existingDir(flags.transformDir ?? env.IOTLOAD_TRANSFORM_DIR, '--transform-dir'),
      secretsDir: existingDir(flags.secretsDir ?? env.IOTLOAD_SECRETS_DIR, '--secrets-dir'),
      secretEnv: list(flags.secretEnv ?? env.IOTLOAD_ALLOW_SECRET_ENV),
      allowExec: flags.allowExec === true || env.IOTLOAD_ALLOW_EXEC === '1',
      limits: limitsFrom(flags, env),
    })
  } catch (err) {
    return fail((err as Error).message)
  }
  if (!isLoopback(host) && !token)
    return fail(
      `refusing to listen on ${host} without a token: anyone who can reach it could start load against your brokers. Set IOTLOAD_TOKEN or --token-file, or bind 127.0.0.1`,
    )
  const allowedHosts = list(flags.allowedHost ?? env.IOTLOAD_ALLOWED_HOSTS)
  if (allowedHosts.includes('*') && !token)
    return fail(
      "--allowed-host '*' answers any Host name, which lets a web page read the API through DNS rebinding; it needs a token (IOTLOAD_TOKEN or --token-file)",
    )
  if (token) secrets.add(token)
  const allow = [...policy.allowPlugins]

  let store: SqliteStore
  try {
    store = new SqliteStore(flags.db)
  } catch (err) {
    return fail(`cannot open the results database '${flags.db}': ${(err as Error).message}`)
  }
  const interrupted = store.markInterrupted()
  if (interrupted.length > 0)
    logger.warn('runs left executing by a previous daemon are marked interrupted', {
      runs: interrupted.join(','),
    })

  const otel = daemonTelemetry(logger)
  let cluster: ReturnType<typeof clusterSettingsFrom>
  try {
    cluster = clusterSettingsFrom({ cluster: flags.cluster, host }, env)
  } catch (err) {
    store.close()
    return fail((err as Error).message)
  }
  const managerOptions = {
    store,
    logger,
    maxRuns,
    env,
    policy,
    telemetryFor: hooks.telemetryFor ?? otel.forRun,
  }
  // Cluster mode (docs/cluster.md): submissions become cluster runs this daemon coordinates.
  const manager = cluster
    ? new ClusterRunManager({ ...managerOptions, logger }, cluster)
    : new RunManager(managerOptions)
  // Installed before anything can run: a plugin's stray error must not take the daemon down.
  const stray = installLastResortHandlers(logger)
  const app = createApp({
    manager,
    logger,
    installer: new PluginInstaller({
      allow,
      ignoreScripts: true,
      ...(env.IOTLOAD_PLUGIN_DIR ? { prefix: env.IOTLOAD_PLUGIN_DIR } : {}),
    }),
    allowPluginInstall: flags.allowPluginInstall === true || env.IOTLOAD_ALLOW_PLUGIN_INSTALL === '1',
    ...(token ? { token } : {}),
    allowedHosts,
    allowedOrigins: list(flags.allowedOrigin ?? env.IOTLOAD_ALLOWED_ORIGINS),
    boundHost: host,
    metrics: hooks.metrics ?? combinedMetrics(otel.metrics, () => daemonMetricsText(manager, stray)),
  })

  const server = serve({
    fetch: app.fetch,
    hostname: host,
    port,
    // A scenario arrives in well under a second: a client trickling its body holds a socket for
    // 30 s at most, not Node's default 5 minutes.
    serverOptions: { requestTimeout: 30_000, headersTimeout: 10_000 },
  })
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve)
      server.once('error', reject)
    })
  } catch (err) {
    store.close()
    stray.uninstall()
    process.stderr.write(`error: cannot listen on ${host}:${port}: ${(err as Error).message}\n`)
    return EXIT.runtime
  }
  const actual = (server.address() as AddressInfo).port
  const shown = host.includes(':') ? `[${host}]` : host
  logger.info('iotload daemon listening', {
    url: `http://${shown}:${actual}`,
    auth: token ? 'bearer' : 'none',
    maxRuns,
    db: flags.db,
    ...(policy.transformDir ? { transformDir: policy.transformDir } : {}),
    ...(policy.secretsDir ? { secretsDir: policy.secretsDir } : {}),
    ...(policy.allowExec ? { allowExec: true } : {}),
  })
  if (manager instanceof ClusterRunManager) {
    try {
      await manager.join(actual)
    } catch (err) {
      logger.error('cannot join the cluster', { error: (err as Error).message })
    }
  }

  return new Promise<number>((resolve) => {
    let stopping = false
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`${signal} again: exiting without waiting for runs\n`)
        process.exit(130)
      }
      stopping = true
      logger.info('shutting down: stopping runs and keeping their results', {
        signal,
        active: manager.activeCount,
      })
      server.close()
      if ('closeIdleConnections' in server) server.closeIdleConnections()
      void manager
        .shutdown()
        .then(() => (hooks.shutdown ?? (() => otel.telemetry.shutdown()))())
        .catch((err) => logger.error('shutdown failed', { error: (err as Error).message }))
        .finally(() => {
          store.close()
          stray.uninstall()
          process.off('SIGTERM', onSignal)
          process.off('SIGINT', onSignal)
          logger.info('daemon stopped')
          resolve(manager.activeCount > 0 ? EXIT.runtime : EXIT.ok)
        })
    }
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
  })
}
