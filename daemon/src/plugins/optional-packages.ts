import { type BridgeRoleModule, PluginLoadError } from '@iotload/sdk'

/** The package of iotload's reference bridge (the `bridge:` role). */
export const BRIDGE_PACKAGE = '@iotload/ipaas-bridge'
/** The package whose embedded aedes broker `iotload quickstart` runs. */
export const EMBEDDED_BROKER_PACKAGE = '@iotload/broker-mqtt'

/** Whether an import failed because `pkg` itself is missing (not something that package imports). */
function isMissing(err: unknown, pkg: string): boolean {
  const code = (err as { code?: string }).code
  const message = String((err as Error).message)
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (package|module)/.test(message)) && message.includes(pkg)
  )
}

/**
 * Imports an iotload package the daemon does not depend on: it is installed beside the daemon by
 * whoever wants the feature. The daemon reaches plugin packages only through this file (a rule in
 * `npm run check` keeps it so); a missing package fails with what to install, not a bare
 * ERR_MODULE_NOT_FOUND.
 *
 * @example await importOptionalPackage(() => import('@iotload/ipaas-bridge'), BRIDGE_PACKAGE, 'bridge:')
 */
export async function importOptionalPackage<T>(
  load: () => Promise<T>,
  pkg: string,
  neededFor: string,
): Promise<T> {
  try {
    return await load()
  } catch (err) {
    const message = isMissing(err, pkg)
      ? `${neededFor} needs ${pkg}, which is not installed: npm install ${pkg} beside the daemon`
      : `${pkg} failed to load: ${(err as Error).message}`
    throw new PluginLoadError(message, { source: 'plugins', cause: err })
  }
}

let bridge: Promise<BridgeRoleModule> | undefined

/** Loads iotload's bridge role once per process, when a scenario first has a `bridge:` section. */
export function loadBridge(): Promise<BridgeRoleModule> {
  if (!bridge) {
    const loading = importOptionalPackage(
      () => import('@iotload/ipaas-bridge'),
      BRIDGE_PACKAGE,
      "a scenario's bridge:",
    )
    bridge = loading.then((mod): BridgeRoleModule => {
      if (typeof mod.startBridge !== 'function')
        throw new PluginLoadError(`${BRIDGE_PACKAGE} does not export startBridge`, { source: 'plugins' })
      return mod
    })
    bridge.catch(() => {
      bridge = undefined
    })
  }
  return bridge
}

/** A running embedded MQTT broker (aedes on loopback). */
export interface EmbeddedMqttBroker {
  /** `mqtt://127.0.0.1:<port>` */
  url: string
  close(): Promise<void>
}

/** Starts the embedded MQTT broker of `iotload quickstart`, importing its package only now. */
export async function startEmbeddedMqttBroker(): Promise<EmbeddedMqttBroker> {
  const mqtt = await importOptionalPackage(
    () => import('@iotload/broker-mqtt'),
    EMBEDDED_BROKER_PACKAGE,
    'the quickstart (an embedded MQTT broker)',
  )
  return mqtt.startEmbeddedBroker()
}
