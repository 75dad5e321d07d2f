/**
 * The commit recipe, in one place (runs in a worker thread), and its crash recovery.
 *
 * Every save is written into a temporary folder inside the parent of its final name (so the
 * final rename never crosses filesystems, even when `data/snaps` is a symlink to another
 * mount). Committing it:
 *   1. fsync every folder inside the temporary folder (their entries must be durable)
 *   2. write MANIFEST (open, write, fsync, close): the commit point of the folder's contents
 *   3. fsync the temporary folder
 *   4. publish:  the final name must not exist; rename temp -> final; fsync the parent
 *      replace (data/ks): rename ks -> .old-ks-<id> (if present); rename temp -> ks;
 *                         fsync the parent; remove the old folder
 *
 * Guarantees: a reader never sees a half-written save under a final name; after a crash at
 * any instant `recoverTask` finds `data/ks` complete-old or complete-new: if `ks` is missing,
 * the newest `.tmp-ks-*` with a valid MANIFEST is complete (its manifest was written last, after
 * every fsync) and is installed, else the `.old-ks-*` it replaced is put back.
 */

import { join, dirname } from 'node:path';
import { FsFailure, FsSeam, type FaultPlan, type FsFailureInfo } from './fs-seam.js';
import {
  FormatError,
  kDeletingPrefix,
  kLiveDirName,
  kManifestFileName,
  kOldLivePrefix,
  kRsnapDirName,
  kSnapsDirName,
  kTempPrefix,
  parseManifest,
  serializeManifest,
  type Manifest,
} from './format.js';

export interface CommitTask {
  kind: 'commit';
  tempDir: string;
  finalDir: string;
  mode: 'publish' | 'replace';
  manifest: Manifest;
  /** For 'replace': where the current live save is moved before the swap. */
  oldDir: string | null;
  /** fsync every folder from the final folder's parent up to this one (new parents are durable too). */
  fsyncUpTo: string;
  faults: FaultPlan | null;
}

/** `from` and its ancestors up to and including `upTo` (when `from` lies inside it). */
function ancestors(from: string, upTo: string): string[] {
  const chain: string[] = [];
  let current = from;
  for (;;) {
    chain.push(current);
    if (current === upTo) return chain;
    const parent = dirname(current);
    if (parent === current) return [from];
    current = parent;
  }
}

export type TaskResult<T = object> = ({ ok: true } & T) | { ok: false; failure: FsFailureInfo };

function failureOf(error: unknown): FsFailureInfo {
  if (error instanceof FsFailure) return error.info;
  if (error instanceof FormatError) return { step: 'verify', path: error.file, code: error.code, message: error.message, injected: false };
  throw error;
}

/** Folders under `root` (not `root` itself), deepest first. */
function foldersDeepestFirst(seam: FsSeam, root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of seam.readdir(dir)) {
      if (!entry.isDirectory()) continue;
      const path = join(dir, entry.name);
      walk(path);
      found.push(path);
    }
  };
  walk(root);
  return found;
}

export function commitTask(task: CommitTask): TaskResult {
  const seam = new FsSeam(task.faults);
  try {
    // A save of only volatile tables has no data files, so the folder may not exist yet.
    seam.mkdir(task.tempDir);
    for (const folder of foldersDeepestFirst(seam, task.tempDir)) seam.fsyncDir(folder);
    seam.writeFileDurable(join(task.tempDir, kManifestFileName), serializeManifest(task.manifest));
    seam.fsyncDir(task.tempDir);
    const parent = dirname(task.finalDir);
    if (task.mode === 'publish') {
      if (seam.lstat(task.finalDir) !== null) {
        return {
          ok: false,
          failure: { step: 'exists', path: task.finalDir, code: 'EEXIST', message: `${task.finalDir} already exists; a save never overwrites`, injected: false },
        };
      }
      seam.rename(task.tempDir, task.finalDir);
      for (const folder of ancestors(parent, task.fsyncUpTo)) seam.fsyncDir(folder);
      return { ok: true };
    }
    const oldDir = task.oldDir as string;
    const hadLive = seam.lstat(task.finalDir) !== null;
    if (hadLive) seam.rename(task.finalDir, oldDir);
    try {
      seam.rename(task.tempDir, task.finalDir);
    } catch (error) {
      // Put the previous live save back; if even that fails, startup recovery installs the
      // complete new one from the temporary folder.
      if (hadLive) {
        try {
          seam.rename(oldDir, task.finalDir);
        } catch {
          // Recovery at next start handles it (see the header).
        }
      }
      throw error;
    }
    for (const folder of ancestors(parent, task.fsyncUpTo)) seam.fsyncDir(folder);
    // The new live save is durable: the one it replaced, and any left by an earlier swap whose
    // final fsync failed, are no longer needed.
    try {
      for (const entry of seam.readdir(parent)) {
        if (entry.name.startsWith(kOldLivePrefix)) seam.removeTree(join(parent, entry.name));
      }
    } catch {
      // The save is committed; a leftover .old-ks-* folder is removed at next start.
    }
    return { ok: true };
  } catch (error) {
    return { ok: false, failure: failureOf(error) };
  }
}

export interface RemoveTask {
  kind: 'remove';
  path: string;
}

export function removeTask(task: RemoveTask): TaskResult {
  try {
    new FsSeam().removeTree(task.path);
    return { ok: true };
  } catch (error) {
    return { ok: false, failure: failureOf(error) };
  }
}

export interface RecoverTask {
  kind: 'recover';
  dataDir: string;
  /**
   * When data/ks is missing and both a complete new save and the previous one exist: startup
   * prefers the newest (it is complete and holds more); a live save that just reported failure
   * prefers the previous one, so what is on disk matches what was reported.
   */
  prefer: 'newest' | 'previous';
  /** Only repair data/ks (a failed save in a running server); leave other folders alone. */
  liveOnly: boolean;
}

export interface RecoverReport {
  /** What happened to data/ks, if anything had to be done. */
  recovered: string | null;
  /** Leftover temporary, old and half-deleted folders that were removed. */
  removed: string[];
}

function hasValidManifest(seam: FsSeam, dir: string): Manifest | null {
  try {
    return parseManifest(seam.readFile(join(dir, kManifestFileName)), join(dir, kManifestFileName));
  } catch {
    return null;
  }
}

function isLeftover(name: string): boolean {
  return name.startsWith(kTempPrefix) || name.startsWith(kDeletingPrefix) || name.startsWith(kOldLivePrefix);
}

function removeLeftovers(seam: FsSeam, dir: string, removed: string[], recurse: boolean): void {
  if (seam.stat(dir) === null) return;
  for (const entry of seam.readdir(dir)) {
    const path = join(dir, entry.name);
    if (isLeftover(entry.name)) {
      seam.removeTree(path);
      removed.push(path);
    } else if (recurse && entry.isDirectory() && seam.lstat(join(path, kManifestFileName)) === null) {
      // A folder that is not itself a save: a parent of nested named snapshots.
      removeLeftovers(seam, path, removed, true);
    }
  }
}

export function recoverTask(task: RecoverTask): TaskResult<RecoverReport> {
  const seam = new FsSeam();
  try {
    const live = join(task.dataDir, kLiveDirName);
    let recovered: string | null = null;
    if (seam.stat(task.dataDir) !== null && seam.lstat(live) === null) {
      const entries = seam.readdir(task.dataDir).map((entry) => entry.name);
      const complete = entries
        .filter((name) => name.startsWith(`${kTempPrefix}${kLiveDirName}-`))
        .map((name) => ({ name, manifest: hasValidManifest(seam, join(task.dataDir, name)) }))
        .filter((candidate) => candidate.manifest !== null)
        .sort((a, b) => (b.manifest as Manifest).generation - (a.manifest as Manifest).generation);
      const newest = complete[0];
      const previous = entries
        .filter((name) => name.startsWith(kOldLivePrefix) && hasValidManifest(seam, join(task.dataDir, name)) !== null)
        .sort()
        .at(-1);
      const usePrevious = previous !== undefined && (task.prefer === 'previous' || newest === undefined);
      if (usePrevious) {
        seam.rename(join(task.dataDir, previous), live);
        seam.fsyncDir(task.dataDir);
        recovered = `put back the previous live save ${previous} after an interrupted swap`;
      } else if (newest !== undefined && task.prefer === 'newest') {
        seam.rename(join(task.dataDir, newest.name), live);
        seam.fsyncDir(task.dataDir);
        recovered = `installed the complete live save ${newest.name} that a crash interrupted mid-swap`;
      }
    }
    if (task.liveOnly) return { ok: true, recovered, removed: [] };
    const removed: string[] = [];
    removeLeftovers(seam, task.dataDir, removed, false);
    removeLeftovers(seam, join(task.dataDir, kSnapsDirName), removed, false);
    removeLeftovers(seam, join(task.dataDir, kRsnapDirName), removed, true);
    return { ok: true, recovered, removed };
  } catch (error) {
    return { ok: false, failure: failureOf(error) };
  }
}
