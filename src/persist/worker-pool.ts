/**
 * The piscina pool that encodes, decodes, verifies and commits saves off the main thread.
 *
 * Guarantees: one code path picks the worker file by the extension of this module. From the
 * build (`.js`) it starts the compiled `workers/persist-worker.js`. Under tsx or vitest (this
 * file is `.ts`) it starts `workers/persist-worker-dev.mjs`, which registers tsx inside the
 * worker and loads `persist-worker.ts`: Node 20 does not apply ESM loaders given to a worker
 * through execArgv (nodejs/node#47747, fixed only in Node 22), so `--import tsx` cannot work.
 * Every task is one object with a `kind`; the worker's default export dispatches on it.
 */

import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { lz4Available } from './compress.js';

export const kWorkerIdleTimeoutMs = 30_000;

export function defaultWorkerThreads(): number {
  return Math.max(1, availableParallelism());
}

export function workerEntry(): string {
  const fromSource = import.meta.url.endsWith('.ts');
  const file = fromSource ? 'persist-worker-dev.mjs' : 'persist-worker.js';
  return fileURLToPath(new URL(`../../workers/${file}`, import.meta.url));
}

export type WorkerPool = Piscina;

/**
 * What save orchestration needs from a pool: piscina's, or the save-protocol simulation's
 * (test/sim), which runs the same tasks one step at a time under a seeded scheduler.
 */
export interface TaskRunner {
  readonly options: { readonly maxThreads: number };
  run(task: object): Promise<unknown>;
}

export function createWorkerPool(threads = defaultWorkerThreads()): WorkerPool {
  // Load the lz4 addon on this thread too, once: Node unloads an addon when the last thread that
  // loaded it exits, and a Rust (napi-rs) addon unloaded while a worker thread's destructors
  // still run in it can crash the process as the pool shuts down (napi-rs/package-template#308).
  // Held here, it stays mapped for the life of the process.
  lz4Available();
  return new Piscina({
    filename: workerEntry(),
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: kWorkerIdleTimeoutMs,
  });
}
