import { Worker } from 'node:worker_threads'
import type { FleetConnectStats } from '../producer-fleet.ts'
import type { SecondReport } from '../recorder.ts'
import type { WorkerEvents } from './worker-events.ts'
import type { ConsumerFinal, FromWorker, ProducerFinal, ToWorker, WorkerInit } from './worker-protocol.ts'

/** Latest progress figures a worker posted (every 100 ms while it runs). */
export interface WorkerProgress {
  sentAll: number
  sent: number
  unique: number
  publishErrors: number
  inFlight: number
}

/** What the main thread does with a worker's reports. */
export interface WorkerHandlers {
  /** A completed second (or the final one) of this worker. */
  onSecond(index: number, report: SecondReport): void
  /** The worker died: what is known of why. */
  onFailure(index: number, error: string): void
  /** What the worker's per-message telemetry recorded (see `WorkerInit.telemetry`). */
  onTelemetry?(state: unknown): void
  /** Its connection changes and failed publishes, for the run's fault timeline. */
  onEvents?(events: WorkerEvents): void
}

/** Longest wait for the consumer's answer about loss windows. */
const LOSS_TIMEOUT_MS = 10_000

/**
 * The main thread's handle on one worker of a run: its messages as promises and callbacks, and
 * its death (an uncaught error, a non-zero exit, an exit before its final report) as `failure`.
 */
export class WorkerThread {
  private readonly worker: Worker
  progress: WorkerProgress = { sentAll: 0, sent: 0, unique: 0, publishErrors: 0, inFlight: 0 }
  final: ProducerFinal | ConsumerFinal | undefined
  /** Why the worker died, once it did; undefined while it lives or after a clean end. */
  failure: string | undefined
  private readyWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = []
  private ready = false
  /** A producer's connection figures once it connected. */
  readyConnections: FleetConnectStats | null = null
  private scheduled = false
  private scheduledWaiters: Array<() => void> = []
  private finalWaiters: Array<() => void> = []
  private ended = false

  private lossWaiters: Array<(results: Array<{ sent: number; lost: number }> | undefined) => void> = []

  constructor(
    readonly init: Omit<WorkerInit, 'entry'>,
    private readonly on: WorkerHandlers,
  ) {
    const entry = new URL('./worker-main.ts', import.meta.url).href
    this.worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
      workerData: { ...init, entry } satisfies WorkerInit,
    })
    this.worker.on('message', (m: FromWorker) => this.onMessage(m))
    this.worker.on('error', (err) => this.die(err.message || String(err)))
    this.worker.on('exit', (code) => {
      if (!this.final) this.die(`exited with code ${code} before it reported its results`)
      this.end()
    })
  }

  /** What the worker runs, for messages: `producer devices 0–4`, `consumer`. */
  get label(): string {
    const sh = this.init.shard
    return this.init.role === 'producer' && sh
      ? `worker ${this.init.index} (producer, devices ${sh.from}–${sh.from + sh.count - 1})`
      : `worker ${this.init.index} (consumer)`
  }

  post(m: ToWorker): void {
    if (!this.ended) this.worker.postMessage(m)
  }

  /** Resolves once the worker connected its role; rejects when it failed or died first. */
  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve()
    if (this.failure) return Promise.reject(new Error(`${this.label}: ${this.failure}`))
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }))
  }

  /** Resolves once a producer's schedule ended (or the worker is gone). */
  whenScheduled(): Promise<void> {
    if (this.scheduled || this.ended || this.failure) return Promise.resolve()
    return new Promise((r) => this.scheduledWaiters.push(r))
  }

  /** Resolves with the final report, or undefined when the worker is gone without one. */
  whenFinal(): Promise<ProducerFinal | ConsumerFinal | undefined> {
    if (this.final || this.ended || this.failure) return Promise.resolve(this.final)
    return new Promise((r) => this.finalWaiters.push(() => r(this.final)))
  }

  /** The consumer's loss in each window (see ToWorker `loss`); undefined when it cannot answer. */
  askLoss(
    t0Us: number,
    issued: number,
    windows: Array<[number, number]>,
  ): Promise<Array<{ sent: number; lost: number }> | undefined> {
    if (this.ended || this.failure) return Promise.resolve(undefined)
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(undefined), LOSS_TIMEOUT_MS)
      const settle = (r: Array<{ sent: number; lost: number }> | undefined) => {
        clearTimeout(timer)
        this.lossWaiters = this.lossWaiters.filter((w) => w !== settle)
        resolve(r)
      }
      this.lossWaiters.push(settle)
      this.worker.postMessage({ type: 'loss', t0Us, issued, windows } satisfies ToWorker)
    })
  }

  async terminate(): Promise<void> {
    await this.worker.terminate().catch(() => undefined)
  }

  private onMessage(m: FromWorker): void {
    if (m.type === 'ready') {
      this.ready = true
      this.readyConnections = m.connections ?? null
      for (const w of this.readyWaiters.splice(0)) w.resolve()
    } else if (m.type === 'second') {
      this.absorb(m)
      this.on.onSecond(this.init.index, m.report)
    } else if (m.type === 'loss') {
      for (const w of [...this.lossWaiters]) w(m.results)
    } else if (m.type === 'progress') this.progress = m
    else if (m.type === 'scheduled') this.release('scheduled')
    else if (m.type === 'failed') this.die(m.error)
    else if (m.type === 'final') {
      this.absorb(m)
      if (m.report) this.on.onSecond(this.init.index, m.report)
      this.final = m.final
      this.release('final')
    }
  }

  private absorb(m: { telemetry?: unknown; events?: WorkerEvents }): void {
    if (m.telemetry !== undefined) this.on.onTelemetry?.(m.telemetry)
    if (m.events) this.on.onEvents?.(m.events)
  }

  private release(what: 'scheduled' | 'final'): void {
    if (what === 'scheduled') {
      this.scheduled = true
      for (const w of this.scheduledWaiters.splice(0)) w()
    } else for (const w of this.finalWaiters.splice(0)) w()
  }

  private die(error: string): void {
    // A consumer that failed after its final report cannot answer about loss any more.
    for (const w of [...this.lossWaiters]) w(undefined)
    if (this.failure || this.final) return
    this.failure = error
    for (const w of this.readyWaiters.splice(0)) w.reject(new Error(`${this.label}: ${error}`))
    this.release('scheduled')
    this.release('final')
    for (const w of [...this.lossWaiters]) w(undefined)
    this.on.onFailure(this.init.index, error)
  }

  private end(): void {
    this.ended = true
    for (const w of [...this.lossWaiters]) w(undefined)
    this.release('scheduled')
    this.release('final')
  }
}
