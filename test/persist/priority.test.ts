/**
 * Worker threads of the persistence pool run below the event loop: nice 19 and, where `chrt`
 * exists (Linux with util-linux, as on every machine CI uses), SCHED_IDLE, so a waking main
 * thread preempts them at once. Read from /proc for the real threads of this process.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createWorkerPool } from '../../src/persist/worker-pool.js';
import { currentThreadId, kChrtRssMaxBytes, mayForkForPolicy } from '../../src/persist/priority.js';
import { tempDir } from '../support/tmp.js';

const kSchedIdle = 5;
const kSchedOther = 0;

function hasChrt(): boolean {
  try {
    execFileSync('chrt', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** [tid, policy, nice] of every thread of this process (proc(5): fields 19 and 41 of stat). */
function threads(): Array<{ tid: number; policy: number; nice: number }> {
  return readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
    // Fields after the command name (which may hold spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { tid: Number(tid), nice: Number(fields[19 - 3]), policy: Number(fields[41 - 3]) };
  });
}

const linux = existsSync('/proc/self/task');

describe.skipIf(!linux)('persistence worker priority', () => {
  it('runs every pool worker at SCHED_IDLE and nice 19, and leaves the main thread alone', async () => {
    const before = new Set(threads().map((t) => t.tid));
    const pool = createWorkerPool();
    try {
      // Enough concurrent tasks that every worker of the pool has started.
      const dataDir = tempDir();
      await Promise.all(Array.from({ length: 8 }, () => pool.run({ kind: 'findSaves', dataDir })));
      const started = threads().filter((t) => !before.has(t.tid) && t.nice === 19);
      // Exactly the pool's workers: no other thread (libuv's pool, V8's) inherited their priority.
      expect(started.length).toBe(pool.threads.length);
      const expected = hasChrt() || process.env.CI !== undefined ? kSchedIdle : kSchedOther;
      for (const thread of started) expect(thread.policy, `thread ${thread.tid}`).toBe(expected);
      const main = threads().find((t) => t.tid === currentThreadId());
      expect(main?.policy).toBe(kSchedOther);
      expect(main?.nice).toBe(0);
    } finally {
      await pool.destroy();
    }
  });
});

describe('when a worker may fork chrt', () => {
  it('only while the process is small: a fork copies its page tables and marks its memory copy-on-write', () => {
    expect(mayForkForPolicy(64 * 1024 * 1024)).toBe(true);
    expect(mayForkForPolicy(kChrtRssMaxBytes + 1)).toBe(false);
    expect(mayForkForPolicy(4 * 1024 * 1024 * 1024)).toBe(false);
  });
});
