import type { Logger } from '../log/logger.ts'
import type { TrustPolicy } from '../scenario/trust-policy.ts'
import type { ResultReader, ResultWriter } from '../store/result-store.ts'
import type { ClusterMember } from './member.ts'

/** Coordinator settings. */
export interface CoordinatorOptions {
  member: ClusterMember
  /** Writes the merged run; reads its own record back (a stalled coordinator checks who owns it). */
  store: ResultWriter & Pick<ResultReader, 'getRun'>
  logger: Logger
  /** Environment for `${env:NAME}` while validating (IOTLOAD_* removed). */
  env: NodeJS.ProcessEnv
  /** What scenarios (submitted, or read back from Redis) may read, load and ask for. */
  policy: TrustPolicy
  /** Coordinator lease (and the plan's claim lease). @default 5000 */
  leaseMs?: number
  /** Longest wait for producers to advertise and topics to be claimed. @default 60000 */
  readyTimeoutMs?: number
  /**
   * Adoptions after a coordinator stalled or died that resume the run; the next one ends it
   * `failed` with everything in Redis merged, like a job queue's maxStalledCount. @default 3
   */
  maxAdoptions?: number
}

/** Where coordination starts: a submitted run at `advertise`, an adopted one where it was left. */
export type Phase = 'advertise' | 'go' | 'stop'

/** Clock figures of one daemon relative to the coordinator. */
export interface MemberClock {
  member: string
  offsetUs: number
  uncertaintyUs: number
}

/** One adoption of a run, listed at `run:{id}:adoptions` and in the summary. */
export interface AdoptionEvent {
  /** The coordinator that stopped renewing (or handed the run over). */
  from: string
  /** The daemon that took the run. */
  by: string
  /** Run state at adoption. */
  state: string
  atMs: number
  /** The previous coordinator handed the run over on shutdown: not a stall, not counted. */
  handover: boolean
}
