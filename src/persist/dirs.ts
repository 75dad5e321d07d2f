/**
 * Folder-level persistence work that runs in worker threads: reading manifests, listing and
 * pruning local snapshots, measuring the data directory, and the copy and swap steps of a
 * restore.
 *
 * Guarantees:
 * - Only folders named `YYYYMMDD-HHMMSS` in `snaps/` count as local snapshots; anything else is
 *   reported as unknown and never touched.
 * - Pruning renames a snapshot to `.del-*` before deleting it, so a crash mid-delete never
 *   leaves a partial folder under a snapshot name (the leftover is removed at next start).
 * - A restore copy is a complete save (every file fsynced, MANIFEST written last) before the
 *   live save is moved aside, and the swap is two renames in one parent plus fsyncs.
 */

import { copyFileSync } from 'node:fs';
import { join, dirname, relative, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FsFailure, FsSeam, type FaultPlan, type FsFailureInfo } from './fs-seam.js';
import { kindOf } from './fs-errors.js';
import {
  FormatError,
  kBackupsDirName,
  kDeletingPrefix,
  kLiveDirName,
  kManifestFileName,
  kSnapshotNamePattern,
  kTempPrefix,
  parseManifest,
  type Manifest,
} from './format.js';
import type { TaskResult } from './commit.js';

function failureOf(error: unknown): FsFailureInfo {
  if (error instanceof FsFailure) return error.info;
  if (error instanceof FormatError) return { step: 'verify', path: error.file, code: error.code, message: error.message, injected: false };
  throw error;
}

export function randomId(): string {
  return randomBytes(4).toString('hex');
}

// ---------------------------------------------------------------- manifests

export interface ReadManifestTask {
  kind: 'readManifest';
  dir: string;
}

/** `missing: true` when the folder does not exist at all (a fresh data directory). */
export function readManifestTask(task: ReadManifestTask): TaskResult<{ missing: boolean; manifest: Manifest | null; manifestBytes: number }> {
  const seam = new FsSeam();
  try {
    if (seam.stat(task.dir) === null) return { ok: true, missing: true, manifest: null, manifestBytes: 0 };
    const path = join(task.dir, kManifestFileName);
    if (seam.stat(path) === null) {
      throw new FormatError(path, 'manifest present', 'the save folder has no MANIFEST (incomplete or not a save)');
    }
    const bytes = seam.readFile(path);
    return { ok: true, missing: false, manifest: parseManifest(bytes, path), manifestBytes: bytes.length };
  } catch (error) {
    return { ok: false, failure: failureOf(error) };
  }
}

// ---------------------------------------------------------------- local snapshots

export interface ListSnapshotsTask {
  kind: 'listSnapshots';
  snapsDir: string;
}

export interface SnapshotListing {
  names: string[];
  unknown: string[];
}

function listLocal(seam: FsSeam, snapsDir: string): SnapshotListing {
  if (seam.stat(snapsDir) === null) return { names: [], unknown: [] };
  const names: string[] = [];
  const unknown: string[] = [];
  for (const entry of seam.readdir(snapsDir)) {
    if (entry.name.startsWith(kTempPrefix) || entry.name.startsWith(kDeletingPrefix)) continue;
    if (kSnapshotNamePattern.test(entry.name) && entry.isDirectory()) names.push(entry.name);
    else unknown.push(entry.name);
  }
  names.sort();
  unknown.sort();
  return { names, unknown };
}

export function listSnapshotsTask(task: ListSnapshotsTask): TaskResult<SnapshotListing> {
  try {
    return { ok: true, ...listLocal(new FsSeam(), task.snapsDir) };
  } catch (error) {
    return { ok: false, failure: failureOf(error) };
  }
}

export interface PruneTask {
  kind: 'prune';
  snapsDir: string;
  /** Keep at most this many (0 keeps all). */
  atmost: number;
  faults: FaultPlan | null;
}

export function pruneTask(task: PruneTask): TaskResult<{ deleted: string[]; kept: string[]; unknown: string[] }> {
  const seam = new FsSeam(task.faults);
  try {
    const listing = listLocal(seam, task.snapsDir);
    const deleted: string[] = [];
    if (task.atmost > 0) {
      const excess = listing.names.length - task.atmost;
      // Oldest first: names are UTC timestamps, so name order is time order.
      for (const name of listing.names.slice(0, Math.max(0, excess))) {
        const doomed = join(task.snapsDir, `${kDeletingPrefix}${name}-${randomId()}`);
        seam.rename(join(task.snapsDir, name), doomed);
        deleted.push(name);
        seam.removeTree(doomed);
      }
      if (deleted.length > 0) seam.fsyncDir(task.snapsDir);
    }
    return { ok: true, deleted, kept: listing.names.slice(deleted.length), unknown: listing.unknown };
  } catch (error) {
    return { ok: false, failure: failureOf(error) };
  }
}

// ---------------------------------------------------------------- sizes and listings

export interface DiskUsageTask {
  kind: 'diskUsage';
  dir: string;
}

export function diskUsageTask(task: DiskUsageTask): TaskResult<{ bytes: number }> {
  const seam = new FsSeam();
  let bytes = 0;
  const walk = (dir: string): void => {
    for (const entry of seam.readdir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) bytes += seam.lstat(path)?.size ?? 0;
    }
  };
  try {
    if (seam.stat(task.dir) !== null) walk(task.dir);
    return { ok: true, bytes };
  } catch (error) {
    return { ok: false, failure: failureOf(error) };
  }
}

export interface FindSavesTask {
  kind: 'findSaves';
  dataDir: string;
}

export interface SaveListing {
  /** `snaps/<name>`, `rsnap/<name>` or `ks`. */
  location: string;
  path: string;
  kind: 'live' | 'local' | 'named';
  manifest: Manifest | null;
  sizeBytes: number;
  error: string | null;
}

/** Every save under a data directory with its manifest (or why it could not be read); a data directory that is missing or not a directory is a failure. */
export function findSavesTask(task: FindSavesTask): TaskResult<{ saves: SaveListing[]; unknown: string[] }> {
  const seam = new FsSeam();
  const saves: SaveListing[] = [];
  const unknown: string[] = [];
  const describeSave = (path: string, kind: SaveListing['kind']): void => {
    const location = relative(task.dataDir, path).split(sep).join('/');
    try {
      const bytes = seam.readFile(join(path, kManifestFileName));
      const manifest = parseManifest(bytes, join(path, kManifestFileName));
      saves.push({ location, path, kind, manifest, sizeBytes: manifest.totals.sizeBytes + bytes.length, error: null });
    } catch (error) {
      saves.push({ location, path, kind, manifest: null, sizeBytes: 0, error: (error as Error).message });
    }
  };
  try {
    const top = seam.stat(task.dataDir);
    if (top === null || !top.isDirectory()) {
      const what = top === null ? 'does not exist' : `is ${kindOf(top)}, not a directory`;
      const code = top === null ? 'ENOENT' : 'ENOTDIR';
      return { ok: false, failure: { step: 'stat', path: task.dataDir, code, message: `the data directory ${task.dataDir} ${what}`, injected: false } };
    }
    const live = join(task.dataDir, kLiveDirName);
    if (seam.stat(live) !== null) describeSave(live, 'live');
    const snaps = join(task.dataDir, 'snaps');
    const listing = listLocal(seam, snaps);
    for (const name of listing.names) describeSave(join(snaps, name), 'local');
    unknown.push(...listing.unknown.map((name) => `snaps/${name}`));
    const walkNamed = (dir: string): void => {
      if (seam.stat(dir) === null) return;
      for (const entry of seam.readdir(dir)) {
        if (entry.name.startsWith('.')) continue;
        const path = join(dir, entry.name);
        if (seam.stat(path)?.isDirectory() !== true) continue;
        if (seam.lstat(join(path, kManifestFileName)) !== null) describeSave(path, 'named');
        else walkNamed(path);
      }
    };
    walkNamed(join(task.dataDir, 'rsnap'));
    return { ok: true, saves, unknown };
  } catch (error) {
    return { ok: false, failure: failureOf(error) };
  }
}

// ---------------------------------------------------------------- restore

export interface CopySaveTask {
  kind: 'copySave';
  from: string;
  to: string;
  /** 'files': copy these data files (run in parallel tasks); 'finish': fsync the folders, MANIFEST last. */
  step: 'files' | 'finish';
  files: string[];
  faults: FaultPlan | null;
}

/**
 * Copy a verified save into `to` (a new temp folder) in two steps: data files (several tasks
 * in parallel), then 'finish': fsync every folder and copy MANIFEST last, so the copy is
 * complete before it has a manifest.
 */
export function copySaveTask(task: CopySaveTask): TaskResult {
  const seam = new FsSeam(task.faults);
  try {
    if (task.step === 'files') {
      for (const file of task.files) {
        const target = join(task.to, ...file.split('/'));
        seam.mkdir(dirname(target));
        copyDurable(seam, join(task.from, ...file.split('/')), target);
      }
      return { ok: true };
    }
    seam.mkdir(task.to);
    const folders = new Set<string>();
    for (const file of task.files) folders.add(dirname(join(task.to, ...file.split('/'))));
    const sorted = [...folders].sort((a, b) => b.length - a.length);
    for (const folder of sorted) if (folder !== task.to) seam.fsyncDir(folder);
    copyDurable(seam, join(task.from, kManifestFileName), join(task.to, kManifestFileName));
    seam.fsyncDir(task.to);
    return { ok: true };
  } catch (error) {
    return { ok: false, failure: failureOf(error) };
  }
}

function copyDurable(seam: FsSeam, from: string, to: string): void {
  // copyFileSync may use copy_file_range/reflinks; the fsync after it makes the copy durable.
  try {
    copyFileSync(from, to);
  } catch (error) {
    const candidate = error as { code?: string; message?: string };
    throw new FsFailure({ step: 'write', path: to, code: candidate.code ?? 'EUNKNOWN', message: candidate.message ?? String(error), injected: false });
  }
  const fd = seam.open(to, 'r+');
  try {
    seam.fsync(fd, to);
  } finally {
    seam.close(fd, to);
  }
}

export interface InstallRestoreTask {
  kind: 'installRestore';
  dataDir: string;
  tempDir: string;
  backupName: string;
  faults: FaultPlan | null;
}

/** Move the live save to backups/<name> and the restored copy into its place. */
export function installRestoreTask(task: InstallRestoreTask): TaskResult<{ backup: string | null }> {
  const seam = new FsSeam(task.faults);
  try {
    const live = join(task.dataDir, kLiveDirName);
    let backup: string | null = null;
    if (seam.lstat(live) !== null) {
      const backups = join(task.dataDir, kBackupsDirName);
      seam.mkdir(backups);
      let name = task.backupName;
      for (let n = 1; seam.lstat(join(backups, name)) !== null; n++) name = `${task.backupName}-${n}`;
      backup = join(backups, name);
      seam.rename(live, backup);
      seam.fsyncDir(backups);
    }
    seam.rename(task.tempDir, live);
    seam.fsyncDir(task.dataDir);
    return { ok: true, backup };
  } catch (error) {
    return { ok: false, failure: failureOf(error) };
  }
}
