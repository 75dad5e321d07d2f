/**
 * maxmemory with Redis's `noeviction` policy (the only one frostkv accepts): once the memory in
 * use is above `CONFIG SET maxmemory` (0: no limit), commands flagged `denyoom` are refused
 * with Redis's `-OOM` text; reads, deletes and everything else still run.
 *
 * Guarantees:
 * - "Memory in use" is INFO's `used_memory` (table data plus the JS heap), measured at most
 *   every kUsedMemoryRefreshMs, so a check costs a clock read on the request path.
 * - With maxmemory 0 (the default) nothing is ever refused and nothing is measured.
 */

import type { Database } from '../../database.js';
import type { ServerStats } from '../stats.js';
import { maxmemoryBytes } from './config.js';

export const kOomText = "OOM command not allowed when used memory > 'maxmemory'.";
/** How stale the measured memory may be (Redis measures per command; this is cheap enough). */
const kUsedMemoryRefreshMs = 100;

const measured = new WeakMap<ServerStats, { atMs: number; bytes: number; limit: number }>();

/** Whether denyoom commands must be refused now. */
export function overMaxmemory(db: Database, stats: ServerStats): boolean {
  const limit = maxmemoryBytes(stats);
  if (limit === 0) return false;
  const now = performance.now();
  let sample = measured.get(stats);
  // A new limit (CONFIG SET maxmemory) is judged against a fresh measurement.
  if (sample === undefined || sample.limit !== limit || now - sample.atMs >= kUsedMemoryRefreshMs) {
    sample = { atMs: now, bytes: db.status().dataBytes + process.memoryUsage().heapUsed, limit };
    measured.set(stats, sample);
  }
  return sample.bytes > limit;
}
