import type { Logger } from '../log/logger.ts'
import { ServiceError } from '../service/errors.ts'
import type { RunManager, RunSlot } from '../service/run-manager.ts'
import type { RunStore } from '../store/result-store.ts'
import { SqliteStore } from '../store/sqlite-store.ts'
import { CapacitySearch } from './capacity-search.ts'
import { type CapacityStore, type SearchRecord, SqliteCapacityStore } from './capacity-store.ts'
import type { CapacityOptions } from './options.ts'
import { prepareSearch } from './prepare.ts'

/** A search as the API shows it: stored figures, plus the probe running now while it runs. */
export type SearchView = SearchRecord & { current: { rate: number; runId: string } | null }

/** The find-max store of a results store: SQLite keeps searches beside the runs; others keep none. */
export function capacityStoreFor(store: RunStore): CapacityStore | undefined {
  return store instanceof SqliteStore ? new SqliteCapacityStore(store.database) : undefined
}

/**
 * Runs find-max searches for the daemon: each scenario validated like `POST /v1/runs` (the run
 * manager's policy and environment), each search holding one `--max-runs` slot while its probes
 * run one after another as ordinary runs, stopped with the daemon.
 */
export class CapacityManager {
  private readonly live = new Map<string, CapacitySearch>()

  constructor(
    private readonly runs: RunManager,
    private readonly store: CapacityStore | undefined,
    private readonly logger: Logger,
  ) {
    const interrupted = store?.markInterrupted() ?? []
    if (interrupted.length > 0)
      logger.warn('find-max searches left running by a previous daemon are marked interrupted', {
        searches: interrupted.join(','),
      })
  }

  /** Validates and starts a search; resolves once it is stored (its probes run on). */
  async start(scenario: unknown, options: CapacityOptions): Promise<{ id: string; status: string }> {
    const prepared = await prepareSearch(
      scenario,
      options,
      (raw) => this.runs.resolve(raw),
      this.runs.policy.limits,
    )
    let search: CapacitySearch | undefined
    // Taken after validation, with no await before the search exists: the limit holds under load.
    const slot: RunSlot = this.runs.reserveSlot(() => search?.stop())
    try {
      search = new CapacitySearch(prepared, {
        startRun: (resolved) => slot.startRun(resolved),
        resolveProbe: (raw) => this.runs.resolve(raw),
        ...(this.store ? { store: this.store } : {}),
        logger: this.logger,
      })
    } catch (err) {
      slot.release()
      throw err
    }
    const s = search
    this.live.set(s.id, s)
    this.logger.info('find-max started', { search: s.id, name: prepared.name })
    void s.done.then(
      (r) => this.logger.info('find-max ended', { search: s.id, status: r.status, message: r.message }),
      () => {},
    )
    void s.done.finally(() => {
      this.live.delete(s.id)
      slot.release()
    })
    return { id: s.id, status: s.status }
  }

  /** A search by id; 404 ServiceError when unknown. */
  get(id: string): SearchView {
    const s = this.live.get(id)
    const stored = this.store?.getSearch(id)
    if (s) {
      return {
        id: s.id,
        name: s.prepared.name,
        status: s.status,
        createdAt: s.createdAt,
        endedAt: null,
        options: stored?.options ?? s.prepared.options,
        scenario: s.prepared.redacted,
        result: null,
        error: null,
        probes: [...s.points],
        current: s.current,
      }
    }
    if (!stored) throw notFound(id)
    return { ...stored, current: null }
  }

  /** Newest first. */
  list(limit: number, offset: number): Array<Omit<SearchRecord, 'scenario' | 'probes'>> {
    return this.store?.listSearches({ limit, offset }) ?? []
  }

  /** Stops a running search: its current probe ends as `stopped`, the search too; results are kept. */
  stop(id: string): { id: string; status: string } {
    const s = this.live.get(id)
    if (!s) {
      const stored = this.store?.getSearch(id)
      if (!stored) throw notFound(id)
      throw new ServiceError(
        'conflict',
        'SEARCH_NOT_RUNNING',
        `search ${id} is ${stored.status}, not running`,
      )
    }
    s.stop()
    return { id, status: 'stopping' }
  }
}

function notFound(id: string): ServiceError {
  return new ServiceError('not-found', 'SEARCH_NOT_FOUND', `no find-max search with id '${id}'`)
}
