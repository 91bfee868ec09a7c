import { parseArgs } from 'node:util'
import { createLogger } from '../log/logger.ts'
import { loadScenarioFile } from '../scenario/load-scenario.ts'
import { defaultDbPath } from './default-paths.ts'
import { EXIT } from './exit-codes.ts'
import { PLUGINS_USAGE, pluginsCommand } from './plugins-command.ts'
import { type LimitFlags, limitsFrom } from './limit-flags.ts'
import { localPolicy } from '../scenario/trust-policy.ts'
import { quickstart } from './quickstart.ts'
import { reportStartupError, runResolved } from './run-command.ts'
import { RESULTS_COMMANDS, RESULTS_USAGE, resultsCli, versionLine } from './results-cli.ts'
import { FIND_MAX_USAGE } from './find-max-command.ts'

const USAGE = `iotload: load tests for IoT message paths

usage:
  iotload run <scenario.yaml|json> [--json out.json] [--db path] [--quiet] [--verbose] [--metrics-port N]
                                     [--cluster redis://…]  run on a cluster's daemons (or IOTLOAD_CLUSTER_URL)
  iotload quickstart [--db path]     embedded MQTT broker + bridge + consumer, no services needed
${FIND_MAX_USAGE}
${PLUGINS_USAGE}
${RESULTS_USAGE}
  iotload --version
  iotload daemon [--host 127.0.0.1] [--port 7878] [--db path] [--token-file f] [--max-runs 4] [--plugin-allow pkg,…]
                 [--transform-dir DIR] [--secrets-dir DIR] [--secret-env NAME,…]
                 [--allowed-host name,…] [--allowed-origin https://ui:port,…] [--allow-plugin-install]
                 [--allow-exec]      let REST scenarios run fault/setup commands (docs/faults.md)
                                     [--cluster redis://host:6379]  join a cluster (docs/cluster.md)
                                     REST API (docs/rest-api.md, docs/security.md); non-loopback binds need a token

limits (run and daemon; a scenario cannot raise them):
  --max-rate 5000000/s  --max-devices 1000000  --max-run-time 168h  --max-payload-bytes 1048576  --max-workers 64

Scenario fields can be overridden by environment: IOTLOAD_PRODUCER_DEVICES=2000, IOTLOAD_BROKER_URL=…
With no scenario file (iotload run -), the scenario comes from IOTLOAD_* variables alone.
exit codes: 0 ok, 1 SLO failed, 2 bad input, 3 runtime failure`

const write = (s: string) => process.stderr.write(s)

/** CLI entry; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--version' || argv[0] === 'version') {
    process.stdout.write(`${versionLine()}\n`)
    return EXIT.ok
  }
  // Results commands parse their own flags (report, compare, export, runs, show, suite).
  if ((RESULTS_COMMANDS as readonly string[]).includes(argv[0] ?? '')) return resultsCli(argv)
  // find-max has flags of its own (repeatable --slo, search bounds): it parses them itself.
  if (argv[0] === 'find-max') return (await import('./find-max-command.ts')).findMaxCommand(argv.slice(1))
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        json: { type: 'string' },
        'metrics-port': { type: 'string' },
        db: { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
        host: { type: 'string' },
        port: { type: 'string' },
        'token-file': { type: 'string' },
        'max-runs': { type: 'string' },
        'plugin-allow': { type: 'string' },
        cluster: { type: 'string' },
        'transform-dir': { type: 'string' },
        'secrets-dir': { type: 'string' },
        'secret-env': { type: 'string' },
        'allowed-host': { type: 'string' },
        'allowed-origin': { type: 'string' },
        'allow-plugin-install': { type: 'boolean' },
        'allow-exec': { type: 'boolean' },
        'max-rate': { type: 'string' },
        'max-devices': { type: 'string' },
        'max-run-time': { type: 'string' },
        'max-payload-bytes': { type: 'string' },
        'max-workers': { type: 'string' },
      },
    })
  } catch (err) {
    write(`error: ${(err as Error).message}\n\n${USAGE}\n`)
    return EXIT.badInput
  }
  const { values, positionals } = parsed
  const [command, ...rest] = positionals
  const verbose = values.verbose === true
  const flags = {
    db: typeof values.db === 'string' ? values.db : defaultDbPath(),
    ...(typeof values.json === 'string' ? { json: values.json } : {}),
    quiet: values.quiet === true,
    verbose,
    ...(typeof values['metrics-port'] === 'string' ? { metricsPort: Number(values['metrics-port']) } : {}),
  }
  if (
    flags.metricsPort !== undefined &&
    !(Number.isInteger(flags.metricsPort) && flags.metricsPort <= 65535 && flags.metricsPort >= 0)
  ) {
    write(`error: --metrics-port must be a port number (0-65535), got '${values['metrics-port']}'\n`)
    return EXIT.badInput
  }
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`)
    return values.help ? EXIT.ok : EXIT.badInput
  }
  const logger = createLogger(verbose ? { level: 'debug' } : {})
  const opt = (v: unknown) => (typeof v === 'string' ? v : undefined)
  const limitFlags: LimitFlags = {
    maxRate: opt(values['max-rate']),
    maxDevices: opt(values['max-devices']),
    maxRunTime: opt(values['max-run-time']),
    maxPayloadBytes: opt(values['max-payload-bytes']),
    maxWorkers: opt(values['max-workers']),
  }
  switch (command) {
    case 'run': {
      const file = rest[0]
      if (!file) {
        write(`error: run needs a scenario file (or '-' for environment-only)\n`)
        return EXIT.badInput
      }
      let limits: ReturnType<typeof limitsFrom>
      try {
        limits = limitsFrom(limitFlags, process.env)
      } catch (err) {
        write(`error: ${(err as Error).message}\n`)
        return EXIT.badInput
      }
      const clusterUrl = typeof values.cluster === 'string' ? values.cluster : process.env.IOTLOAD_CLUSTER_URL
      if (clusterUrl) {
        // Cluster mode (docs/cluster.md): the daemons in the cluster execute the run.
        try {
          const { clusterRunCommand } = await import('./cluster-run-command.ts')
          return await clusterRunCommand(
            file,
            { cluster: clusterUrl, db: flags.db, json: flags.json },
            logger,
          )
        } catch (err) {
          return reportStartupError(err, verbose, write)
        }
      }
      let resolved: Awaited<ReturnType<typeof loadScenarioFile>>
      try {
        const policy = localPolicy(limits)
        if (file === '-') {
          const { resolveScenario } = await import('../scenario/load-scenario.ts')
          resolved = await resolveScenario({}, { policy })
        } else {
          resolved = await loadScenarioFile(file, { policy })
        }
      } catch (err) {
        return reportStartupError(err, verbose, write)
      }
      try {
        return await runResolved(resolved, flags, logger)
      } catch (err) {
        return reportStartupError(err, verbose, write)
      }
    }
    case 'quickstart':
      try {
        return await quickstart(flags)
      } catch (err) {
        return reportStartupError(err, verbose, write)
      }
    case 'plugins':
      return pluginsCommand(rest, verbose)
    case 'daemon': {
      const { daemonCommand } = await import('./daemon-command.ts')
      const str = (v: unknown) => (typeof v === 'string' ? v : undefined)
      return daemonCommand(
        {
          db: flags.db,
          verbose,
          host: str(values.host),
          port: str(values.port),
          tokenFile: str(values['token-file']),
          maxRuns: str(values['max-runs']),
          pluginAllow: str(values['plugin-allow']),
          cluster: str(values.cluster),
          transformDir: str(values['transform-dir']),
          secretsDir: str(values['secrets-dir']),
          secretEnv: str(values['secret-env']),
          allowedHost: str(values['allowed-host']),
          allowedOrigin: str(values['allowed-origin']),
          allowPluginInstall: values['allow-plugin-install'] === true,
          allowExec: values['allow-exec'] === true,
          ...limitFlags,
        },
        process.env,
        {},
        logger,
      )
    }
    default:
      write(`error: unknown command '${command}'\n\n${USAGE}\n`)
      return EXIT.badInput
  }
}
