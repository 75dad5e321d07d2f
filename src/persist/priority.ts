/**
 * Lower a worker thread's scheduling priority (Linux), so encoding and loading take the CPU the
 * main thread leaves instead of competing with it: with as many workers as cores, a save would
 * otherwise deschedule the event loop for whole time slices (measured: 4-12 ms lags).
 *
 * Guarantees: best effort and silent where unsupported (non-Linux, no /proc); only the calling
 * thread changes (Linux's setpriority on a thread id affects that thread alone).
 */

import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Niceness for worker threads: CFS weights nice 10 at about a tenth of nice 0. */
export const kWorkerNiceness = 10;

export function lowerThreadPriority(niceness = kWorkerNiceness): boolean {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (!Number.isInteger(tid) || tid <= 0) return false;
    setPriority(tid, niceness);
    return true;
  } catch {
    return false;
  }
}
