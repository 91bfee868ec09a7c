import { Worker } from 'node:worker_threads'
import type { ConsumerFinal, FromWorker, ProducerFinal, ToWorker, WorkerInit } from './worker-protocol.ts'

/** Latest progress figures a worker posted (every 100 ms while it runs). */
export interface WorkerProgress {
  sentAll: number
  sent: number
  unique: number
  publishErrors: number
  inFlight: number
}

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
  private scheduled = false
  private scheduledWaiters: Array<() => void> = []
  private finalWaiters: Array<() => void> = []
  private ended = false

  constructor(
    readonly init: Omit<WorkerInit, 'entry'>,
    /** A completed second (or the final one) of this worker. */
    private readonly onSecond: (index: number, report: import('../recorder.ts').SecondReport) => void,
    /** The worker died: what is known of why. */
    private readonly onFailure: (index: number, error: string) => void,
    /** What the worker's per-message telemetry recorded (see `WorkerInit.telemetryModule`). */
    private readonly onTelemetry?: (state: unknown) => void,
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

  async terminate(): Promise<void> {
    await this.worker.terminate().catch(() => undefined)
  }

  private onMessage(m: FromWorker): void {
    if (m.type === 'ready') {
      this.ready = true
      for (const w of this.readyWaiters.splice(0)) w.resolve()
    } else if (m.type === 'second') {
      if (m.telemetry !== undefined) this.onTelemetry?.(m.telemetry)
      this.onSecond(this.init.index, m.report)
    } else if (m.type === 'progress') this.progress = m
    else if (m.type === 'scheduled') this.release('scheduled')
    else if (m.type === 'failed') this.die(m.error)
    else if (m.type === 'final') {
      if (m.telemetry !== undefined) this.onTelemetry?.(m.telemetry)
      if (m.report) this.onSecond(this.init.index, m.report)
      this.final = m.final
      this.release('final')
    }
  }

  private release(what: 'scheduled' | 'final'): void {
    if (what === 'scheduled') {
      this.scheduled = true
      for (const w of this.scheduledWaiters.splice(0)) w()
    } else for (const w of this.finalWaiters.splice(0)) w()
  }

  private die(error: string): void {
    if (this.failure || this.final) return
    this.failure = error
    for (const w of this.readyWaiters.splice(0)) w.reject(new Error(`${this.label}: ${error}`))
    this.release('scheduled')
    this.release('final')
    this.onFailure(this.init.index, error)
  }

  private end(): void {
    this.ended = true
    this.release('scheduled')
    this.release('final')
  }
}
