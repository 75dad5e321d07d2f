/**
 * Lower a worker thread's scheduling priority (Linux), so encoding and loading take the CPU the
 * main thread leaves instead of competing with it: with as many workers as cores, a save would
 * otherwise deschedule the event loop for whole time slices (measured: 4-12 ms lags).
 *
 * Guarantees: best effort and silent where unsupported (non-Linux, no /proc, no `chrt`); only
 * the calling thread changes (Linux's setpriority and sched_setscheduler on a thread id affect
 * that thread alone). The thread gets nice 19 first, then SCHED_IDLE when util-linux's `chrt`
 * can set it: a SCHED_IDLE thread runs only when no normal thread wants the core, so a waking
 * event loop preempts it at once, where a nice 19 thread keeps its slice until the scheduler's
 * next decision. Node has no binding for sched_setscheduler, hence one `chrt` run per worker at
 * its start, and never once the process is large: a child process is forked from this process,
 * and a fork copies its page tables and marks its memory copy-on-write (measured: 2-4 ms at
 * start, 107-183 ms at 4 GiB), so a worker that starts late (a replacement) keeps nice 19.
 */

import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** Niceness for worker threads: the lowest, for where SCHED_IDLE cannot be set. */
export const kWorkerNiceness = 19;
/** `chrt` answers in milliseconds; a stuck one must not hold a worker's start for long. */
const kChrtTimeoutMs = 2_000;
/** Above this resident size a worker does not fork `chrt` (see the header). */
export const kChrtRssMaxBytes = 256 * 1024 * 1024;

/** What a worker thread ended up with. */
export type WorkerPriority = 'idle' | 'nice' | 'unchanged';

/** This thread's Linux thread id, or null off Linux. */
export function currentThreadId(): number | null {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}

/** Whether a thread of a process this large may still fork `chrt` to become SCHED_IDLE. */
export function mayForkForPolicy(rssBytes: number): boolean {
  return rssBytes <= kChrtRssMaxBytes;
}

export function lowerThreadPriority(niceness = kWorkerNiceness): WorkerPriority {
  const tid = currentThreadId();
  if (tid === null) return 'unchanged';
  let result: WorkerPriority = 'unchanged';
  try {
    setPriority(tid, niceness);
    result = 'nice';
  } catch {
    // Not permitted or not supported: try the policy anyway.
  }
  if (!mayForkForPolicy(process.memoryUsage.rss())) return result;
  try {
    execFileSync('chrt', ['--idle', '--pid', '0', String(tid)], { stdio: 'ignore', timeout: kChrtTimeoutMs });
    result = 'idle';
  } catch {
    // No chrt (or not Linux): nice 19 alone is what the worker keeps.
  }
  return result;
}
