import { homedir } from 'node:os'
import { join } from 'node:path'

/** Results database: `IOTLOAD_DB`, else `$XDG_DATA_HOME/iotload/iotload.db` (~/.local/share/…). */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.IOTLOAD_DB) return env.IOTLOAD_DB
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share')
  return join(base, 'iotload', 'iotload.db')
}
