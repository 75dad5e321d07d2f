/**
 * Verify and restore save folders (docs/persistence.md, Restore): `--restore <dir>` at startup and the offline
 * `frostkv snapshots verify|restore` commands.
 *
 * Guarantees:
 * - `verifySave` reads every file the manifest lists (size, crc32, structure, counts, every
 *   record in its block) in parallel workers, then checks every table's blocks tile the hash
 *   space (src/persist/verify.ts), and reports every problem, not just the first.
 * - `restoreSave` changes nothing unless the source verifies completely; then it copies the
 *   source into a temporary folder inside the data directory (complete and fsynced, MANIFEST
 *   last), moves the current live save to backups/<YYYYMMDD-HHMMSS> and renames the copy into
 *   place. A crash in between is finished by startup recovery (commit.ts).
 */

import { join, resolve } from 'node:path';
import { ErrorCode, FrostError } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/log.js';
import type { TaskRunner } from './worker-pool.js';
import type { FsFailureInfo } from './fs-seam.js';
import type { TaskResult } from './commit.js';
import type { DecodeResult, DecodeTask } from './decode.js';
import { randomId } from './dirs.js';
import { kLiveDirName, kTempPrefix, snapshotNameFor, type Manifest, type ManifestFile } from './format.js';
import { tableProblems } from './verify.js';

export const kVerifyProgressEveryMs = 2_000;

export interface VerifyReport {
  dir: string;
  ok: boolean;
  manifest: Manifest | null;
  filesChecked: number;
  records: number;
  sizeBytes: number;
  problems: FsFailureInfo[];
}

export async function verifySave(
  pool: TaskRunner,
  dir: string,
  options: { logger?: Logger; onProgress?: (filesDone: number, filesTotal: number, bytesDone: number) => void } = {},
): Promise<VerifyReport> {
  const logger = options.logger ?? silentLogger;
  const absolute = resolve(dir);
  const read = (await pool.run({ kind: 'readManifest', dir: absolute })) as TaskResult<{ missing: boolean; manifest: Manifest | null }>;
  if (!read.ok) return { dir: absolute, ok: false, manifest: null, filesChecked: 0, records: 0, sizeBytes: 0, problems: [read.failure] };
  if (read.missing || read.manifest === null) {
    const problem: FsFailureInfo = { step: 'stat', path: absolute, code: 'ENOENT', message: `${absolute} does not exist`, injected: false };
    return { dir: absolute, ok: false, manifest: null, filesChecked: 0, records: 0, sizeBytes: 0, problems: [problem] };
  }
  const manifest = read.manifest;
  const tasks: Array<Promise<DecodeResult>> = [];
  const filesTotal = manifest.totals.files;
  let filesDone = 0;
  let bytesDone = 0;
  const progress = setInterval(() => {
    logger.info(`verifying ${absolute}: ${filesDone}/${filesTotal} files, ${(bytesDone / 1e6).toFixed(0)} MB`);
    options.onProgress?.(filesDone, filesTotal, bytesDone);
  }, kVerifyProgressEveryMs);
  progress.unref();
  try {
    for (const space of manifest.keyspaces) {
      for (const table of space.tables) {
        for (const file of table.files) {
          const task: DecodeTask = {
            kind: 'decode',
            dir: absolute,
            keyspace: space.name,
            table: table.name,
            model: table.model,
            hashSeed: table.hashSeed,
            file,
            build: false,
            faults: null,
          };
          tasks.push(
            (pool.run(task) as Promise<DecodeResult>).then((result) => {
              filesDone++;
              bytesDone += file.sizeBytes;
              return result;
            }),
          );
        }
      }
    }
    const results = await Promise.all(tasks);
    const problems = results.flatMap((result) => (result.ok ? [] : [result.failure]));
    const files = manifest.keyspaces.flatMap((space) => space.tables.flatMap((table) => table.files));
    const decoded = new Map<string, Extract<DecodeResult, { ok: true }>>();
    results.forEach((result, index) => {
      if (result.ok) decoded.set((files[index] as ManifestFile).path, result);
    });
    problems.push(...tableProblems(absolute, manifest, decoded));
    const records = results.reduce((sum, result) => sum + (result.ok ? result.records : 0), 0);
    const sizeBytes = results.reduce((sum, result) => sum + (result.ok ? result.sizeBytes : 0), 0);
    options.onProgress?.(filesDone, filesTotal, bytesDone);
    return { dir: absolute, ok: problems.length === 0, manifest, filesChecked: results.length, records, sizeBytes, problems };
  } finally {
    clearInterval(progress);
  }
}

export interface RestoreReport {
  source: string;
  backup: string | null;
  manifest: Manifest;
}

/** Install `source` as the live save of `dataDir` (the caller holds the data directory lock). */
export async function restoreSave(pool: TaskRunner, dataDir: string, source: string, logger: Logger = silentLogger): Promise<RestoreReport> {
  const absoluteData = resolve(dataDir);
  const absoluteSource = resolve(source);
  if (absoluteSource === join(absoluteData, kLiveDirName)) {
    throw new FrostError(ErrorCode.restoreRefused, `${absoluteSource} is already the live save`);
  }
  logger.info(`verifying ${absoluteSource} before restoring it`);
  const verified = await verifySave(pool, absoluteSource, { logger });
  if (!verified.ok || verified.manifest === null) {
    const reasons = verified.problems.map((problem) => problem.message).join('; ');
    throw new FrostError(ErrorCode.restoreRefused, `refusing to restore ${absoluteSource}: it does not verify (${reasons}); nothing was changed`);
  }
  const manifest = verified.manifest;
  const tempDir = join(absoluteData, `${kTempPrefix}${kLiveDirName}-${manifest.generation}-${randomId()}`);
  const files = manifest.keyspaces.flatMap((space) => space.tables.flatMap((table) => table.files));
  const totalBytes = files.reduce((sum, file) => sum + file.sizeBytes, 0);
  let copiedBytes = 0;
  logger.info(`copying ${files.length} files (${(totalBytes / 1e6).toFixed(0)} MB) into ${tempDir}`);
  const progress = setInterval(() => {
    logger.info(`restoring: copied ${(copiedBytes / 1e6).toFixed(0)} of ${(totalBytes / 1e6).toFixed(0)} MB`);
  }, kVerifyProgressEveryMs);
  progress.unref();
  let failure: string | null = null;
  try {
    // One task per data file: the pool copies them in parallel.
    await Promise.all(
      files.map(async (file) => {
        const copied = (await pool.run({ kind: 'copySave', from: absoluteSource, to: tempDir, step: 'files', files: [file.path], faults: null })) as TaskResult;
        if (!copied.ok) failure ??= copied.failure.message;
        copiedBytes += file.sizeBytes;
      }),
    );
    if (failure === null) {
      const finished = (await pool.run({
        kind: 'copySave',
        from: absoluteSource,
        to: tempDir,
        step: 'finish',
        files: files.map((file) => file.path),
        faults: null,
      })) as TaskResult;
      if (!finished.ok) failure = finished.failure.message;
    }
  } finally {
    clearInterval(progress);
  }
  if (failure !== null) {
    await pool.run({ kind: 'remove', path: tempDir }).catch(() => undefined);
    throw new FrostError(ErrorCode.restoreFailed, `copying ${absoluteSource} failed: ${failure}; the live save is unchanged`);
  }
  const installed = (await pool.run({
    kind: 'installRestore',
    dataDir: absoluteData,
    tempDir,
    backupName: snapshotNameFor(Date.now()),
    faults: null,
  })) as TaskResult<{ backup: string | null }>;
  if (!installed.ok) {
    throw new FrostError(ErrorCode.restoreFailed, `installing the restored save failed: ${installed.failure.message}`);
  }
  if (installed.backup !== null) logger.info(`the previous live save was moved to ${installed.backup}`);
  return { source: absoluteSource, backup: installed.backup, manifest };
}
