/**
 * The active expiry sweep: removes keys whose time has passed even when nobody reads them
 * (lazy expiry on access, src/table/table.ts, catches the rest), in bounded slices.
 *
 * Guarantees:
 * - One slice holds the event loop for at most about `sliceBudgetMs` (1 ms by default): the
 *   clock is read after every batch of `kSampleBatch` sampled keys.
 * - It adapts as Redis's active expire cycle does: when more than `kRepeatExpiredShare` of
 *   the keys a slice sampled had expired and the slice used its budget, the next slice runs
 *   on the next turn (after pending I/O, via setImmediate); otherwise after `intervalMs`.
 * - Its deletes are ordinary table writes: during a save they copy on write like any other,
 *   and key-change listeners (WATCH) hear about them.
 * - Its timer never keeps the process alive (unref), and `stop()` ends it for good.
 */

import type { Engine } from './engine.js';

/** Redis runs its cycle 10 times a second (hz 10). */
export const kSweepIntervalMs = 100;
export const kSweepSliceBudgetMs = 1;
/** Keys sampled between two clock reads. */
const kSampleBatch = 64;
/** Redis repeats the cycle while more than 10% of the sampled keys were expired. */
const kRepeatExpiredShare = 0.1;

export interface SweepSliceResult {
  sampled: number;
  expired: number;
  elapsedMs: number;
  /** Whether the slice ran out of time (rather than out of keys to look at). */
  exhausted: boolean;
}

export class ExpirySweeper {
  private readonly engine: Engine;
  private readonly intervalMs: number;
  private readonly sliceBudgetMs: number;
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private stopped = false;
  /** Round-robin position over the engine's tables, so one big table does not starve others. */
  private tableCursor = 0;
  /** Totals since start, for INFO and tests. */
  slices = 0;
  expiredTotal = 0;

  constructor(engine: Engine, options: { intervalMs?: number; sliceBudgetMs?: number } = {}) {
    this.engine = engine;
    this.intervalMs = options.intervalMs ?? kSweepIntervalMs;
    this.sliceBudgetMs = options.sliceBudgetMs ?? kSweepSliceBudgetMs;
  }

  start(): void {
    if (this.stopped || this.timer !== null || this.immediate !== null) return;
    this.schedule(false);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }

  private schedule(soon: boolean): void {
    if (this.stopped) return;
    if (soon) {
      this.immediate = setImmediate(() => this.tick());
      this.immediate.unref();
    } else {
      this.timer = setTimeout(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
  }

  private tick(): void {
    this.timer = null;
    this.immediate = null;
    if (this.stopped || this.engine.isClosed) return;
    const result = this.runSlice();
    const busy = result.exhausted && result.sampled > 0 && result.expired / result.sampled > kRepeatExpiredShare;
    this.schedule(busy);
  }

  /** One slice over the engine's tables, within the time budget. */
  runSlice(): SweepSliceResult {
    const started = performance.now();
    const tables = [...this.engine.dataTables()];
    const result: SweepSliceResult = { sampled: 0, expired: 0, elapsedMs: 0, exhausted: false };
    let idleTables = 0;
    while (tables.length > 0 && idleTables < tables.length) {
      const table = tables[this.tableCursor % tables.length]!;
      const step = table.sweepExpired(this.engine.nowMs(), kSampleBatch);
      result.sampled += step.sampled;
      result.expired += step.expired;
      // A table that wrapped (or had nothing to sample) is done for this slice; move on.
      if (step.wrapped || step.sampled < kSampleBatch) {
        this.tableCursor++;
        idleTables++;
      }
      if (performance.now() - started >= this.sliceBudgetMs) {
        result.exhausted = true;
        break;
      }
    }
    result.elapsedMs = performance.now() - started;
    this.slices++;
    this.expiredTotal += result.expired;
    return result;
  }
}
