// Entry of a run's worker thread: registers the TypeScript loader in this thread (Bun runs
// TypeScript natively), then loads the worker, whose URL the main thread passes in workerData.entry.
import { workerData } from 'node:worker_threads'

if (!process.versions.bun) (await import('tsx/esm/api')).register()
await import(workerData.entry)
