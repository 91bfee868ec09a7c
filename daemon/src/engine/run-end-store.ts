import { describeError } from '@iotload/sdk'
import type { Logger } from '../log/logger.ts'
import type {
  DeviceRow,
  FaultCommandRow,
  ResultWriter,
  RunStatus,
  StreamSummaryRow,
} from '../store/result-store.ts'
import type { RunSummary } from './summary.ts'

/** What a run leaves in the store when it ends. */
export interface RunEnd {
  status: RunStatus
  summary: RunSummary
  rows: StreamSummaryRow[]
  devices: DeviceRow[]
  faults?: readonly FaultCommandRow[]
  error?: string
}

/**
 * Writes a finished run's rows, devices, fault commands and final status: one place for the
 * single-thread and the sharded run. A store that fails is logged, never thrown: the summary the
 * caller returns is the run's result either way.
 */
export function storeRunEnd(store: ResultWriter | undefined, logger: Logger, id: string, end: RunEnd): void {
  if (!store) return
  try {
    if (end.faults && end.faults.length > 0) store.saveFaults?.(id, end.faults)
    store.saveSummary(id, end.rows)
    if (end.devices.length > 0) store.saveDevices?.(id, end.devices)
    store.updateRun(id, {
      status: end.status,
      endedAt: Date.now(),
      summary: end.summary,
      error: end.error ?? null,
    })
  } catch (err) {
    logger.error('store write failed', { error: describeError(err) })
  }
}
