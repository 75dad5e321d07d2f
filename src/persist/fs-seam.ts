/**
 * The file-system seam: every file-system operation of a save, load, commit, restore or prune
 * goes through an FsSeam, so tests can fail the Nth operation of a kind, once or persistently.
 *
 * Guarantees:
 * - With no fault plan, each method is the plain synchronous node:fs call (these run in worker
 *   threads, where blocking is the point).
 * - A fault plan's counter is a SharedArrayBuffer shared by every worker thread of a save, so
 *   "the Nth write" means the Nth write of the whole save, whichever thread makes it.
 * - Every failure (real or injected) becomes an FsFailure naming the step, the path and the
 *   errno code, so the caller can report which step of a save failed. A real failure's message
 *   says what was being done to which path and the cause in words (`the file system is
 *   read-only (EROFS)`); a failed recursive mkdir reports the real cause, not Node's ENOENT.
 */

import * as fs from 'node:fs';
import { describeFsError, errnoOf, mkdirFailure } from './fs-errors.js';

export type FsOp = 'mkdir' | 'open' | 'write' | 'fsync' | 'close' | 'rename' | 'remove' | 'read' | 'stat' | 'readdir';

export const kFsOps: readonly FsOp[] = ['mkdir', 'open', 'write', 'fsync', 'close', 'rename', 'remove', 'read', 'stat', 'readdir'];

export interface FaultPlan {
  /** Which operations count; 'any' counts every operation. */
  op: FsOp | 'any';
  /** Fail the nth counted operation (1-based). */
  nth: number;
  /** Keep failing every counted operation from the nth on. */
  persistent: boolean;
  errno: 'EIO' | 'ENOSPC' | 'EACCES';
  /** Shared counter: Int32Array over a SharedArrayBuffer, element 0 counts operations. */
  counter: Int32Array;
}

export function newFaultPlan(op: FaultPlan['op'], nth: number, persistent = false, errno: FaultPlan['errno'] = 'EIO'): FaultPlan {
  return { op, nth, persistent, errno, counter: new Int32Array(new SharedArrayBuffer(4)) };
}

/** How many counted operations a plan has seen (to know when a run never reached the nth). */
export function faultCount(plan: FaultPlan): number {
  return Atomics.load(plan.counter, 0);
}

/** A failure of one file-system step, serialisable across the worker boundary. */
export interface FsFailureInfo {
  /** The fs step, or 'verify' (a file disagrees with its manifest), 'exists' (the name is taken), 'invariant' (a save check). */
  step: FsOp | 'verify' | 'exists' | 'invariant';
  path: string;
  code: string;
  message: string;
  injected: boolean;
}

export class FsFailure extends Error {
  readonly info: FsFailureInfo;
  constructor(info: FsFailureInfo) {
    super(info.message);
    this.name = 'FsFailure';
    this.info = info;
  }
}

/** What each step was trying to do, for messages: `cannot <action> <path>: <cause> (<CODE>)`. */
const kActions: Readonly<Record<FsOp, string>> = {
  mkdir: 'create the folder',
  open: 'create or open',
  write: 'write to',
  fsync: 'flush to disk',
  close: 'close',
  rename: 'rename',
  remove: 'remove',
  read: 'read',
  stat: 'look up',
  readdir: 'list the folder',
};

/** A real failure of `op` on `path`, in words; a failed recursive mkdir is diagnosed (see fs-errors.ts). */
function describe(op: FsOp, path: string, error: unknown): { code: string; message: string } {
  if (op === 'mkdir') return mkdirFailure(path, error);
  return { code: errnoOf(error), message: describeFsError(kActions[op], path, error) };
}

export class FsSeam {
  private readonly plan: FaultPlan | null;

  constructor(plan: FaultPlan | null = null) {
    this.plan = plan;
  }

  private tick(op: FsOp, path: string): void {
    const plan = this.plan;
    if (plan === null) return;
    if (plan.op !== 'any' && plan.op !== op) return;
    const n = Atomics.add(plan.counter, 0, 1) + 1;
    if (n === plan.nth || (plan.persistent && n > plan.nth)) {
      throw new FsFailure({
        step: op,
        path,
        code: plan.errno,
        message: `${plan.errno}: injected fault at ${op} #${n} of ${path}`,
        injected: true,
      });
    }
  }

  private run<T>(op: FsOp, path: string, body: () => T): T {
    this.tick(op, path);
    try {
      return body();
    } catch (error) {
      if (error instanceof FsFailure) throw error;
      const { code, message } = describe(op, path, error);
      throw new FsFailure({ step: op, path, code, message, injected: false });
    }
  }

  mkdir(path: string): void {
    this.run('mkdir', path, () => fs.mkdirSync(path, { recursive: true }));
  }

  /** Create a directory that must not exist yet. */
  mkdirExclusive(path: string): void {
    this.run('mkdir', path, () => fs.mkdirSync(path));
  }

  open(path: string, flags: string): number {
    return this.run('open', path, () => fs.openSync(path, flags, 0o644));
  }

  write(fd: number, bytes: Uint8Array, offset: number, length: number, path: string): void {
    this.run('write', path, () => {
      let done = 0;
      while (done < length) done += fs.writeSync(fd, bytes, offset + done, length - done);
    });
  }

  fsync(fd: number, path: string): void {
    this.run('fsync', path, () => fs.fsyncSync(fd));
  }

  close(fd: number, path: string): void {
    this.run('close', path, () => fs.closeSync(fd));
  }

  /** fsync a directory, so the entries created or renamed in it are durable. */
  fsyncDir(path: string): void {
    this.run('fsync', path, () => {
      const fd = fs.openSync(path, 'r');
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    });
  }

  rename(from: string, to: string): void {
    this.run('rename', `${from} -> ${to}`, () => fs.renameSync(from, to));
  }

  removeTree(path: string): void {
    this.run('remove', path, () => fs.rmSync(path, { recursive: true, force: true }));
  }

  readFile(path: string): Buffer {
    return this.run('read', path, () => fs.readFileSync(path));
  }

  /**
   * Read a whole file into `scratch` (grown when too small) and return a view of its bytes,
   * valid until the next call with the same scratch. Reusing the buffer matters here: a fresh
   * buffer per file pays the first-touch cost of every page it reads into.
   */
  readInto(path: string, scratch: { buffer: Buffer }): Buffer {
    return this.run('read', path, () => {
      const fd = fs.openSync(path, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        if (scratch.buffer.length < size) scratch.buffer = Buffer.allocUnsafeSlow(Math.max(size, scratch.buffer.length * 2));
        let done = 0;
        while (done < size) {
          const read = fs.readSync(fd, scratch.buffer, done, size - done, done);
          if (read === 0) break;
          done += read;
        }
        return scratch.buffer.subarray(0, done);
      } finally {
        fs.closeSync(fd);
      }
    });
  }

  /** Read up to `length` bytes at `position` into `into`; returns bytes read. */
  readAt(fd: number, into: Uint8Array, offset: number, length: number, position: number, path: string): number {
    return this.run('read', path, () => fs.readSync(fd, into, offset, length, position));
  }

  lstat(path: string): fs.Stats | null {
    return this.run('stat', path, () => fs.lstatSync(path, { throwIfNoEntry: false }) ?? null);
  }

  stat(path: string): fs.Stats | null {
    return this.run('stat', path, () => fs.statSync(path, { throwIfNoEntry: false }) ?? null);
  }

  readdir(path: string): fs.Dirent[] {
    return this.run('readdir', path, () => fs.readdirSync(path, { withFileTypes: true }));
  }

  /** Write a whole file and fsync it (open, write, fsync, close: each step a counted op). */
  writeFileDurable(path: string, bytes: Uint8Array): void {
    const fd = this.open(path, 'wx');
    try {
      this.write(fd, bytes, 0, bytes.length, path);
      this.fsync(fd, path);
    } finally {
      this.close(fd, path);
    }
  }
}
