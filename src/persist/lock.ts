/**
 * The data directory lock: one frostkv process per data directory (two Skytable servers on one
 * directory lost data, Skytable issue 167).
 *
 * Guarantees:
 * - The lock is an exclusive BSD flock(2) on `<dataDir>/frostkv.lock`, held by an open file
 *   description that only this process has. The kernel drops it when the process ends in any
 *   way (SIGKILL, the OOM killer, a container stopped), so a dead holder never blocks a restart,
 *   whatever pid it had or whoever has that pid now. No pid is ever checked for liveness.
 * - Two holders never coexist: the kernel grants the flock to one open file description at a
 *   time (two opens in one process conflict too). A holder removes the file when it releases,
 *   so after locking, the file must still be the one at the path, else the attempt is repeated.
 * - The file's content (pid, host, start time) is written by the holder after it locks, and is
 *   read only to name the holder in a refusal (ERR_DATA_DIR_LOCKED); it never decides anything.
 * - Node has no flock(). The call is made by a helper process on the descriptor this process
 *   opened, passed to it as fd 3: util-linux flock(1), else perl (Fcntl's flock). The helper
 *   exits at once; the lock stays with the shared open file description, which from then on
 *   only this process holds (Node opens files close-on-exec, so no later child inherits it).
 *   The decision and the options weighed are in docs/decisions.md.
 * - Runs synchronously (a few milliseconds): it is called once at startup, before anything is
 *   served, and by `snapshots restore`.
 */

import * as fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, FrostError } from '../util/errors.js';
import { describeFsError } from './fs-errors.js';
import { kLockFileName } from './format.js';

/** Kept for callers that match on it; the code lives in the registry (src/util/errors.ts). */
export const kLockedCode = ErrorCode.dataDirLocked;

/** Exit status the helpers use for "another open file description holds the lock" (EX_TEMPFAIL). */
const kHeldExitCode = 75;
/** A helper that never answers is a broken system, not a held lock. */
const kHelperTimeoutMs = 10_000;
/**
 * A refusal reads the holder's pid from the file only after this long: a holder writes it just
 * after locking, so a starter that lost the race by a millisecond would otherwise read nothing,
 * or the content a dead holder left.
 */
const kHolderSettleMs = 100;
/** How long a refusal keeps re-reading an empty lock file for the holder's pid. */
const kHolderWaitMs = 1_000;
const kHolderPollMs = 20;
/** Tries when the file is replaced between open and lock (a holder releasing meanwhile). */
const kLockAttemptsMax = 5;

interface LockHelper {
  command: string;
  args: string[];
}

const kHelpers: readonly LockHelper[] = [
  { command: 'flock', args: ['--exclusive', '--nonblock', '--conflict-exit-code', String(kHeldExitCode), '3'] },
  {
    command: 'perl',
    args: ['-e', `use Fcntl qw(:flock); open(my $fh, "+<&=", 3) or exit 70; flock($fh, LOCK_EX | LOCK_NB) or exit($!{EWOULDBLOCK} ? ${kHeldExitCode} : 71); exit 0`],
  },
];

interface LockContent {
  pid: number;
  host: string;
  startedAt: string;
}

export interface DataDirLock {
  path: string;
  release(): void;
}

/** Locks this process holds, by `dev:ino` of the lock file: to say "this process" in a refusal. */
const heldHere = new Set<string>();

function identity(stats: fs.Stats): string {
  return `${stats.dev}:${stats.ino}`;
}

function unusable(message: string): FrostError {
  return new FrostError(ErrorCode.dataDirUnusable, message);
}

/** flock(fd, LOCK_EX | LOCK_NB) through a helper: true when locked, false when held elsewhere. */
function tryLock(fd: number, path: string): boolean {
  const missing: string[] = [];
  for (const helper of kHelpers) {
    const run = spawnSync(helper.command, helper.args, { stdio: ['ignore', 'ignore', 'pipe', fd], timeout: kHelperTimeoutMs });
    if ((run.error as { code?: string } | undefined)?.code === 'ENOENT') {
      missing.push(helper.command);
      continue;
    }
    if (run.status === 0) return true;
    if (run.status === kHeldExitCode) return false;
    const why = run.error?.message ?? (run.stderr.toString().trim() || `exit status ${String(run.status ?? run.signal)}`);
    throw unusable(`cannot lock ${path} with ${helper.command}: ${why}`);
  }
  throw unusable(`cannot lock ${path}: none of ${missing.join(', ')} is installed (frostkv needs util-linux flock(1) or perl to hold the data directory lock)`);
}

function readHolder(path: string): LockContent | null {
  try {
    const parsed = JSON.parse(fs.readFileSync(path, 'utf8')) as Partial<LockContent>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return null;
    return { pid: parsed.pid, host: parsed.host, startedAt: String(parsed.startedAt ?? '') };
  } catch {
    return null;
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The holder's record, once it has had time to write it (see kHolderSettleMs). */
function settledHolder(path: string): LockContent | null {
  sleepSync(kHolderSettleMs);
  for (let waitedMs = 0; ; waitedMs += kHolderPollMs) {
    const holder = readHolder(path);
    if (holder !== null || waitedMs >= kHolderWaitMs) return holder;
    sleepSync(kHolderPollMs);
  }
}

function lockedError(dataDir: string, path: string, fd: number): FrostError {
  let who: string;
  if (heldHere.has(identity(fs.fstatSync(fd)))) {
    who = 'this process already has it open';
  } else {
    const holder = settledHolder(path);
    who = holder === null
      ? 'another process holds its lock (it has not written its pid yet)'
      : `another frostkv process holds it (pid ${holder.pid} on host ${holder.host}, started ${holder.startedAt})`;
  }
  return new FrostError(
    ErrorCode.dataDirLocked,
    `the data directory ${dataDir} is in use: ${who}; two servers on one data directory would overwrite each other's saves`,
  );
}

/** Remove the lock file; one that cannot be removed (a read-only remount) is harmless once unlocked. */
function removeQuietly(path: string): void {
  try {
    fs.rmSync(path, { force: true });
  } catch {
    // Unlocked and stale: the next holder locks it and rewrites its content.
  }
}

function openLockFile(path: string): number {
  try {
    // Read-only: flock needs no write access, and a descriptor open for writing would keep
    // the file system from being remounted read-only while frostkv runs.
    return fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_CREAT, 0o644);
  } catch (error) {
    throw unusable(`${describeFsError('create the lock file', path, error)}; the data directory must be a directory frostkv can write to`);
  }
}

/** Record who holds the lock (for refusals), through a second descriptor; on failure the lock is given up. */
function writeHolder(fd: number, path: string): void {
  const content: LockContent = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  try {
    const bytes = Buffer.from(`${JSON.stringify(content)}\n`, 'utf8');
    const writer = fs.openSync(path, 'r+');
    try {
      fs.ftruncateSync(writer, 0);
      fs.writeSync(writer, bytes, 0, bytes.length, 0);
      fs.fsyncSync(writer);
    } finally {
      fs.closeSync(writer);
    }
  } catch (error) {
    removeQuietly(path);
    fs.closeSync(fd);
    throw unusable(`${describeFsError('write the lock file', path, error)}; the data directory must be a directory frostkv can write to`);
  }
}

export function acquireDataDirLock(dataDir: string): DataDirLock {
  const path = join(dataDir, kLockFileName);
  for (let attempt = 0; attempt < kLockAttemptsMax; attempt++) {
    const fd = openLockFile(path);
    let locked: boolean;
    try {
      locked = tryLock(fd, path);
      if (!locked) throw lockedError(dataDir, path, fd);
    } catch (error) {
      fs.closeSync(fd);
      throw error;
    }
    const mine = fs.fstatSync(fd);
    const atPath = fs.statSync(path, { throwIfNoEntry: false });
    if (atPath === undefined || identity(atPath) !== identity(mine)) {
      // A holder released (and removed) the file between our open and our lock: start over.
      fs.closeSync(fd);
      continue;
    }
    writeHolder(fd, path);
    const key = identity(mine);
    heldHere.add(key);
    let released = false;
    return {
      path,
      release(): void {
        if (released) return;
        released = true;
        heldHere.delete(key);
        // Removed while still locked, so a later opener finds it gone and opens afresh.
        removeQuietly(path);
        fs.closeSync(fd);
      },
    };
  }
  throw new FrostError(ErrorCode.dataDirLocked, `could not take the lock ${path}: it was replaced ${kLockAttemptsMax} times while locking (other processes keep taking it)`);
}
