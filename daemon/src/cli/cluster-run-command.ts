import { readFileSync, writeFileSync } from 'node:fs'
import { EXIT } from './exit-codes.ts'
import type { Logger } from '../log/logger.ts'
import { applyEnvOverrides } from '../scenario/env-overrides.ts'
import { parseScenarioText, resolveScenario } from '../scenario/load-scenario.ts'
import { localPolicy } from '../scenario/trust-policy.ts'
import { scenarioSchema } from '../scenario/schema.ts'
import { SqliteStore } from '../store/sqlite-store.ts'
import { clusterSettingsFrom } from '../cluster/cluster-run-manager.ts'
import { ClusterCoordinator } from '../cluster/coordinator.ts'
import { ClusterMember } from '../cluster/member.ts'

/** Flags of `iotload run … --cluster` (or with IOTLOAD_CLUSTER_URL set). */
export interface ClusterRunFlags {
  cluster?: string | undefined
  db: string
  json?: string | undefined
}

/**
 * `iotload run <file|-> --cluster redis://…`: joins the cluster without roles, coordinates the
 * run on the daemons there, stores the merged run in `--db`, prints the summary as JSON and exits
 * (0 completed, 1 an SLO failed, 3 otherwise). With `-` the scenario comes from IOTLOAD_* variables alone.
 */
export async function clusterRunCommand(
  file: string,
  flags: ClusterRunFlags,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const settings = clusterSettingsFrom({ cluster: flags.cluster, host: '127.0.0.1' }, env)
  if (!settings) throw new Error('no cluster URL (--cluster or IOTLOAD_CLUSTER_URL)')
  const raw =
    file === '-' ? {} : (parseScenarioText(readFileSync(file, 'utf8'), file) as Record<string, unknown>)
  // Validates with the IOTLOAD_* overrides, then applies the same overrides to the copy the daemons
  // get (secret references stay unresolved: each daemon resolves them itself).
  const resolved = await resolveScenario(raw, { env })
  applyEnvOverrides(
    raw,
    [{ schema: scenarioSchema }, { schema: resolved.broker.plugin.configSchema, prefix: ['broker'] }],
    env,
  )
  // The plugin name is read from the environment, not applied as an override: pin it for the daemons.
  raw.broker = { ...((raw.broker ?? {}) as Record<string, unknown>), plugin: resolved.broker.pluginName }
  const store = new SqliteStore(flags.db)
  const member = new ClusterMember(
    {
      redis: settings.redis,
      roles: [],
      capacity: 0,
      advertise: `cli-${process.pid}`,
      prefix: settings.prefix,
      ttlMs: settings.leaseMs,
      stallBudgetMs: settings.stallBudgetMs,
    },
    logger,
  )
  const scenarioEnv: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(env)) if (!k.startsWith('IOTLOAD_')) scenarioEnv[k] = v
  try {
    await member.start(() => {})
    const coordinator = new ClusterCoordinator({
      member,
      store,
      logger,
      env: scenarioEnv,
      // The CLI's operator submitted this run: their scenario keeps full access here; every
      // daemon that executes a part re-validates it under its own policy.
      policy: localPolicy(),
      leaseMs: settings.leaseMs,
      maxAdoptions: settings.maxAdoptions,
    })
    const { id } = await coordinator.submit(raw)
    const stop = () => coordinator.stop(id)
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    await coordinator.settled(id)
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
    const run = store.getRun(id)
    const text = `${JSON.stringify(run?.summary ?? { id, error: run?.error }, null, 2)}\n`
    if (flags.json) writeFileSync(flags.json, text)
    process.stdout.write(text)
    if (run?.status !== 'completed') return EXIT.runtime
    return (run.summary as { sloPassed?: boolean }).sloPassed === false ? EXIT.sloFailed : EXIT.ok
  } finally {
    await member.close()
    store.close()
  }
}
