import { existsSync } from 'node:fs'
import { ConfigError } from '@iotload/sdk'
import { SqliteStore } from '../store/sqlite-store.ts'

/** Opens the results database for reading; a missing file is an error, not a new empty database. */
export function openExistingStore(path: string): SqliteStore {
  if (!existsSync(path))
    throw new ConfigError(
      '--db',
      `no results database at ${path} (run something first, or pass --db / IOTLOAD_DB)`,
    )
  return new SqliteStore(path)
}
