/**
 * Where a named snapshot (`MKSNAP <name>`) is written: inside data/rsnap, after resolving every
 * component of the name below rsnap.
 *
 * Guarantees:
 * - `resolveNamedSnapshotTarget(rsnapDir, name)` returns `<parent>/<leaf>` where `parent` is a
 *   real directory (no symlink left in its path) that lies inside realpath(rsnap), or refuses,
 *   naming the component that would lead outside. A symlink below rsnap that points elsewhere
 *   inside rsnap is followed (its resolved folder is used); one that points outside, or nowhere,
 *   is refused.
 * - Nothing is created outside rsnap: missing parent folders are created one level at a time,
 *   each inside a folder already checked (`mkdir -p` would follow a symlink before any check).
 * - rsnap itself may be a symlink (named snapshots on another disk): it is the resolved root.
 * - The save writes its temporary folder into the returned parent and renames it to the
 *   returned name in that same parent, so the rename target's parent is the folder checked here,
 *   not a path that is resolved again through a symlink that was checked earlier. What remains
 *   open is a real folder inside rsnap being replaced by a symlink while the save runs, which
 *   needs write access inside the data directory itself (Node has no openat/O_NOFOLLOW walk).
 *
 * Runs on the main thread with the promise-based fs calls (libuv's pool), so the event loop is
 * not blocked; it touches only the folders of one name.
 */

import { lstat, mkdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { describeFsError, errnoOf, mkdirFailure } from './fs-errors.js';

export type NamedTarget =
  | { ok: true; finalDir: string }
  | { ok: false; code: 'invalid-name' | 'failed'; message: string };

class Refusal extends Error {
  readonly code: 'invalid-name' | 'failed';
  constructor(code: 'invalid-name' | 'failed', message: string) {
    super(message);
    this.code = code;
  }
}

function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * Step from the checked real folder `into` to its child `part`: create it if missing, follow
 * it if it is a symlink that stays inside `root`; returns the child's real path.
 */
async function enterChecked(root: string, into: string, part: string, name: string): Promise<string> {
  const next = join(into, part);
  let entry = await lstat(next).catch((error: unknown) => {
    if (errnoOf(error) === 'ENOENT') return null;
    throw new Refusal('failed', describeFsError('look up', next, error));
  });
  if (entry === null) {
    try {
      await mkdir(next);
    } catch (error) {
      if (errnoOf(error) !== 'EEXIST') throw new Refusal('failed', `snapshot ${JSON.stringify(name)}: ${describeFsError('create the folder', next, error)}`);
    }
    entry = await lstat(next);
  }
  if (entry.isSymbolicLink()) {
    let target: string;
    try {
      target = await realpath(next);
    } catch (error) {
      throw new Refusal('invalid-name', `snapshot name ${JSON.stringify(name)}: ${next} is a symlink to nothing (${errnoOf(error)})`);
    }
    if (!isInside(root, target)) {
      throw new Refusal('invalid-name', `snapshot name ${JSON.stringify(name)} leaves ${root}: ${next} is a symlink to ${target}, outside rsnap`);
    }
    if (!(await stat(target)).isDirectory()) {
      throw new Refusal('invalid-name', `snapshot name ${JSON.stringify(name)}: ${next} is not a folder`);
    }
    return target;
  }
  if (!entry.isDirectory()) throw new Refusal('invalid-name', `snapshot name ${JSON.stringify(name)}: ${next} is not a folder`);
  return next;
}

/** Resolve (and create the parents of) the folder a named snapshot `name` publishes to. */
export async function resolveNamedSnapshotTarget(rsnapDir: string, name: string): Promise<NamedTarget> {
  try {
    try {
      await mkdir(rsnapDir, { recursive: true });
    } catch (error) {
      throw new Refusal('failed', mkdirFailure(rsnapDir, error).message);
    }
    const root = await realpath(rsnapDir);
    const parts = name.split('/');
    const leaf = parts.pop() as string;
    let parent = root;
    for (const part of parts) parent = await enterChecked(root, parent, part, name);
    return { ok: true, finalDir: join(parent, leaf) };
  } catch (error) {
    if (error instanceof Refusal) return { ok: false, code: error.code, message: error.message };
    return { ok: false, code: 'failed', message: `cannot prepare the folder of snapshot ${JSON.stringify(name)}: ${(error as Error).message}` };
  }
}
