/**
 * @iotload/daemon: the iotload CLI and daemon. Most users run the `iotload` bin; these exports
 * serve embedding and tooling.
 */
export { main } from './cli/main.ts'
export { type InstalledPlugin, listInstalledPlugins } from './plugins/list-plugins.ts'
export { forgetPlugins, loadPlugin } from './plugins/loader.ts'
export { defaultPluginDir } from './plugins/plugin-dir.ts'
export { type PluginPackage, readPluginPackage, scanPluginDir } from './plugins/plugin-manifest.ts'
export {
  type InstallResult,
  PluginInstaller,
  type PluginInstallerOptions,
} from './service/plugin-installer.ts'
export type {
  ResultReader,
  ResultWriter,
  RunRecord,
  RunStatus,
  RunStore,
  SecondRecord,
  SeriesRow,
  StreamSummaryRow,
} from './store/result-store.ts'
export { SqliteStore } from './store/sqlite-store.ts'
