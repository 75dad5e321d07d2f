/**
 * The commit recipe, in one place (runs in a worker thread), and its crash recovery.
 *
 * Every save is written into a temporary folder inside the parent of its final name (so the
 * final rename never crosses filesystems, even when `data/snaps` is a symlink to another
 * mount). Committing it:
 *   0. check that every saved table's blocks tile the hash space (nothing missing or doubled)
 *   1. fsync every folder inside the temporary folder (their entries must be durable)
 *   2. write MANIFEST (open, write, fsync, close): the commit point of the folder's contents
 *   3. fsync the temporary folder
 *   4. publish:  the final name must not exist; rename temp -> final; fsync the parent
 *      replace (data/ks): rename ks -> .old-ks-<id> (if present); rename temp -> ks;
 *                         fsync the parent; remove the old folder
 *
 * Guarantees: a reader never sees a half-written save under a final name, nor one whose
 * blocks miss part of the hash space; after a crash at any instant `recoverTask` finds
 * `data/ks` complete-old or complete-new: if `ks` is missing, the newest `.tmp-ks-*` that
 * verifies completely (every file, every table's coverage) is installed, else the newest
 * `.old-ks-*` that verifies is put back; nothing is removed until the live save has loaded
 * (`cleanupTask`).
 */

import { join, dirname } from 'node:path';
import { ErrorCode } from '../util/errors.js';
import { FsFailure, FsSeam, type FaultPlan, type FsFailureInfo } from './fs-seam.js';
import { SaveCheckError, tilingProblem, type BlockList } from './checks.js';
import { verifyFolder } from './verify.js';
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
  /** Every saved table's blocks, as the encode tasks reported them: checked to tile the hash space. */
  coverage: Array<{ entity: string; blocks: BlockList }>;
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
  if (error instanceof SaveCheckError) return error.info;
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

/** Move a published save back to its temporary name (best effort: the caller is already failing). */
function unpublish(seam: FsSeam, task: CommitTask): void {
  try {
    seam.rename(task.finalDir, task.tempDir);
  } catch {
    // Still published; the report says the save failed, and it is complete (MANIFEST last).
  }
}

export function commitTask(task: CommitTask): TaskResult {
  const seam = new FsSeam(task.faults);
  try {
    for (const { entity, blocks } of task.coverage) {
      const problem = tilingProblem(blocks);
      if (problem !== null) throw new SaveCheckError('blocks cover the hash space', task.finalDir, `table ${entity}: ${problem}`);
    }
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
      try {
        for (const folder of ancestors(parent, task.fsyncUpTo)) seam.fsyncDir(folder);
      } catch (error) {
        // The save is reported failed, so it must not stay under its final name: a retry of
        // the same MKSNAP name must find the name free (Skytable 0.7 burned it).
        unpublish(seam, task);
        throw error;
      }
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
   * When data/ks is missing: start-up ('newest') installs the newest complete save left by the
   * interrupted swap, after verifying it completely; a live save that just reported failure in
   * a running server ('previous') puts back the save it moved aside (it was the live save a
   * moment ago), so what is on disk matches what was reported.
   */
  prefer: 'newest' | 'previous';
}

export interface RecoverReport {
  /** What happened to data/ks, if anything had to be done. */
  recovered: string | null;
  /** Candidates that were passed over, with the reason (they are left where they are). */
  rejected: string[];
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

interface Candidate {
  name: string;
  manifest: Manifest;
}

/** Leftover saves in the data directory whose names start with `prefix` and whose MANIFEST parses, newest cut first. */
function candidates(seam: FsSeam, dataDir: string, names: string[], prefix: string): Candidate[] {
  return names
    .filter((name) => name.startsWith(prefix))
    .map((name) => ({ name, manifest: hasValidManifest(seam, join(dataDir, name)) }))
    .filter((candidate): candidate is Candidate => candidate.manifest !== null)
    .sort((a, b) => b.manifest.generation - a.manifest.generation || (a.name < b.name ? 1 : -1));
}

/**
 * Repair a data directory whose data/ks is missing (a crash between the two renames of a
 * swap, or of a restore). Nothing is removed here: a candidate is installed only after it
 * verifies completely, and leftovers are removed by `cleanupTask` only once the live save has
 * loaded. If candidates exist but none verifies, the task fails and names each one, so start-up
 * refuses rather than start empty beside the only copies of the data.
 */
export function recoverTask(task: RecoverTask): TaskResult<RecoverReport> {
  const seam = new FsSeam();
  try {
    const live = join(task.dataDir, kLiveDirName);
    if (seam.stat(task.dataDir) === null || seam.lstat(live) !== null) return { ok: true, recovered: null, rejected: [] };
    const names = seam.readdir(task.dataDir).map((entry) => entry.name);
    const previous = candidates(seam, task.dataDir, names, kOldLivePrefix);
    if (task.prefer === 'previous') {
      const back = previous[0];
      if (back === undefined) return { ok: true, recovered: null, rejected: [] };
      seam.rename(join(task.dataDir, back.name), live);
      seam.fsyncDir(task.dataDir);
      return { ok: true, recovered: `put back the previous live save ${back.name} after a failed swap`, rejected: [] };
    }
    const order = [...candidates(seam, task.dataDir, names, `${kTempPrefix}${kLiveDirName}-`), ...previous];
    const rejected: string[] = [];
    for (const candidate of order) {
      const verdict = verifyFolder(seam, join(task.dataDir, candidate.name));
      if (verdict.problems.length > 0) {
        rejected.push(`${candidate.name}: ${(verdict.problems[0] as FsFailureInfo).message}`);
        continue;
      }
      seam.rename(join(task.dataDir, candidate.name), live);
      seam.fsyncDir(task.dataDir);
      const what = candidate.name.startsWith(kOldLivePrefix) ? 'put back the previous live save' : 'installed the complete live save';
      return { ok: true, recovered: `${what} ${candidate.name} (verified) after an interrupted swap`, rejected };
    }
    if (rejected.length > 0) {
      const message =
        `data/ks is missing and no leftover save verifies: ${rejected.join('; ')}. Nothing was moved or removed; ` +
        'start with --restore <snapshot folder>, or move a folder into place as ks yourself';
      return { ok: false, failure: { step: 'verify', path: live, code: ErrorCode.corruptSave, message, injected: false } };
    }
    return { ok: true, recovered: null, rejected };
  } catch (error) {
    return { ok: false, failure: failureOf(error) };
  }
}

export interface CleanupTask {
  kind: 'cleanup';
  dataDir: string;
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

/**
 * Remove leftover temporary, replaced and half-deleted folders (`.tmp-*`, `.old-ks-*`,
 * `.del-*`) from data/, snaps/ and rsnap/. Start-up runs it only after data/ks has loaded,
 * so a leftover is never the last good copy of anything.
 */
export function cleanupTask(task: CleanupTask): TaskResult<{ removed: string[] }> {
  const seam = new FsSeam();
  try {
    const removed: string[] = [];
    removeLeftovers(seam, task.dataDir, removed, false);
    removeLeftovers(seam, join(task.dataDir, kSnapsDirName), removed, false);
    removeLeftovers(seam, join(task.dataDir, kRsnapDirName), removed, true);
    return { ok: true, removed };
  } catch (error) {
    return { ok: false, failure: failureOf(error) };
  }
}
