import { ConfigError, describeError } from '@iotload/sdk'
import type { JetStreamManager, StreamConfig } from '@nats-io/jetstream'
import type { NatsConfig } from './config.ts'
import { SOURCE } from './errors.ts'
import { derivedStreamSubject, subjectMatches } from './stream-subjects.ts'

type JetStreamModule = typeof import('@nats-io/jetstream')

const STREAM_NOT_FOUND = 10059
const STREAM_NAME_IN_USE = 10058

/** What one process knows about a stream: the subjects it captures. Shared by all connections. */
interface StreamState {
  patterns: string[]
  /** Serialises create/update so two connections never overwrite each other's subjects. */
  queue: Promise<void>
}

const known = new Map<string, StreamState>()

/**
 * Makes sure the configured stream exists and captures each subject before it is used. Subjects
 * already known to be covered return `undefined` synchronously, keeping the publish path free of awaits.
 */
export class StreamEnsurer {
  private readonly verified = new Set<string>()
  private readonly inflight = new Map<string, Promise<void>>()
  private readonly state: StreamState

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly js: JetStreamModule,
    private readonly config: NatsConfig,
    serverKey: string,
  ) {
    const key = `${serverKey}|${config.jetstream.stream}`
    let state = known.get(key)
    if (!state) {
      state = { patterns: [], queue: Promise.resolve() }
      known.set(key, state)
    }
    this.state = state
  }

  /** `undefined` when `subject` is known to be captured; otherwise a promise that resolves once it is. */
  ensure(subject: string): Promise<void> | undefined {
    if (this.verified.has(subject) || !this.config.jetstream.create) return undefined
    if (this.state.patterns.some((p) => subjectMatches(p, subject))) {
      this.verified.add(subject)
      return undefined
    }
    let pending = this.inflight.get(subject)
    if (!pending) {
      const run = this.state.queue.then(() => this.cover(subject))
      this.state.queue = run.catch(() => undefined)
      pending = run.finally(() => this.inflight.delete(subject))
      this.inflight.set(subject, pending)
    }
    return pending
  }

  private async cover(subject: string): Promise<void> {
    // Another connection of this process may have covered it while this call waited in the queue.
    if (this.state.patterns.some((p) => subjectMatches(p, subject))) return
    const js = this.config.jetstream
    const wanted = js.subjects ?? [derivedStreamSubject(subject)]
    let config = await this.currentConfig()
    if (config === undefined) {
      try {
        const info = await this.jsm.streams.add({
          name: js.stream,
          subjects: wanted,
          storage: js.storage === 'file' ? this.js.StorageType.File : this.js.StorageType.Memory,
        })
        config = info.config
      } catch (err) {
        if ((err as { code?: unknown }).code !== STREAM_NAME_IN_USE) throw this.configError(err)
        config = await this.currentConfig()
      }
    }
    let subjects = config?.subjects ?? []
    if (js.subjects === undefined && !subjects.some((p) => subjectMatches(p, subject)) && config) {
      try {
        const info = await this.jsm.streams.update(js.stream, {
          ...config,
          subjects: [...subjects, ...wanted],
        })
        subjects = info.config.subjects ?? []
      } catch (err) {
        throw this.configError(err)
      }
    }
    this.state.patterns = subjects
  }

  private async currentConfig(): Promise<StreamConfig | undefined> {
    try {
      return (await this.jsm.streams.info(this.config.jetstream.stream)).config
    } catch (err) {
      if ((err as { code?: unknown }).code === STREAM_NOT_FOUND) return undefined
      throw err
    }
  }

  private configError(err: unknown): ConfigError {
    return new ConfigError(
      'broker.jetstream',
      `cannot set up stream '${this.config.jetstream.stream}': ${describeError(err)}`,
      { source: SOURCE, cause: err },
    )
  }
}
