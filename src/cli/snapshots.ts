/**
 * The offline snapshot commands: `frostkv snapshots list|verify|restore`.
 *
 * Guarantees: list and verify only read; list fails (exit 1) on a data directory that is
 * missing or not a directory, and prints `(no saves ...)` only for a real, empty one; every
 * line names a path at most once; restore takes the data directory lock first (so it
 * refuses while a server runs on that directory) and changes nothing unless the source
 * verifies. Each returns the process exit code: 0 success, 1 a bad save or a refusal.
 */

import { relative, sep } from 'node:path';
import { createWorkerPool, type WorkerPool } from '../persist/worker-pool.js';
import { acquireDataDirLock } from '../persist/lock.js';
import { ensureDataDir } from '../persist/data-dir.js';
import { restoreSave, verifySave } from '../persist/restore.js';
import type { TaskResult } from '../persist/commit.js';
import type { SaveListing } from '../persist/dirs.js';
import type { FsFailureInfo } from '../persist/fs-seam.js';
import type { Logger } from '../util/log.js';
import { countOf } from '../util/words.js';

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export const consoleOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

function humanBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

function progressLogger(output: Output): Logger {
  return {
    debug: () => undefined,
    info: (message) => output.err(message),
    warn: (message) => output.err(`warning: ${message}`),
    error: (message) => output.err(`error: ${message}`),
  };
}

async function withPool<T>(body: (pool: WorkerPool) => Promise<T>): Promise<T> {
  const pool = createWorkerPool();
  try {
    return await body(pool);
  } finally {
    await pool.destroy();
  }
}

export async function listSnapshots(dataDir: string, output: Output = consoleOutput): Promise<number> {
  return withPool(async (pool) => {
    const found = (await pool.run({ kind: 'findSaves', dataDir })) as TaskResult<{ saves: SaveListing[]; unknown: string[] }>;
    if (!found.ok) {
      output.err(`error: ${found.failure.message}`);
      return 1;
    }
    const rows = found.saves.map((save) => [
      save.location,
      save.kind,
      save.manifest === null ? 'unreadable' : save.manifest.cutTime.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'),
      save.manifest === null ? '-' : String(save.manifest.totals.records),
      save.manifest === null ? '-' : humanBytes(save.sizeBytes),
    ]);
    const header = ['SAVE', 'KIND', 'CUT TIME', 'KEYS', 'SIZE'];
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] as string).length)));
    const format = (row: string[]): string => row.map((cell, column) => cell.padEnd(widths[column] as number)).join('  ').trimEnd();
    output.out(format(header));
    for (const row of rows) output.out(format(row));
    if (rows.length === 0) output.out(`(no saves in ${dataDir})`);
    for (const save of found.saves) if (save.error !== null) output.err(`warning: ${save.location}: ${save.error}`);
    for (const entry of found.unknown) output.err(`warning: ${entry} is not a snapshot folder name (YYYYMMDD-HHMMSS); ignored`);
    return 0;
  });
}

/**
 * One problem of a verify, naming its file once: relative to the save folder (already named
 * on the header line), and without the path the message itself starts with.
 */
function problemLine(dir: string, problem: FsFailureInfo): string {
  const where = problem.path === dir ? '' : problem.path.startsWith(dir + sep) ? relative(dir, problem.path) : problem.path;
  let detail = problem.message;
  if (detail.startsWith(problem.path)) detail = detail.slice(problem.path.length).replace(/^:?\s*/, '');
  if (where === '') return `the folder ${detail}`;
  return `${where}: ${detail}`;
}

export async function verifySnapshot(dir: string, output: Output = consoleOutput): Promise<number> {
  return withPool(async (pool) => {
    const report = await verifySave(pool, dir, {
      logger: progressLogger(output),
    });
    if (report.ok && report.manifest !== null) {
      output.out(
        `${report.dir}: OK — ${countOf(report.records, 'key')} in ${countOf(report.filesChecked, 'file')} (${humanBytes(report.sizeBytes)}), cut at ${report.manifest.cutTime}, generation ${report.manifest.generation}`,
      );
      return 0;
    }
    output.out(`${report.dir}: BAD — ${report.problems.length} problem(s):`);
    for (const problem of report.problems) output.out(`  ${problemLine(report.dir, problem)}`);
    return 1;
  });
}

export async function restoreSnapshot(dir: string, dataDir: string, output: Output = consoleOutput): Promise<number> {
  let lock;
  try {
    ensureDataDir(dataDir);
    lock = acquireDataDirLock(dataDir);
  } catch (error) {
    output.err(`refusing to restore: ${(error as Error).message}`);
    return 1;
  }
  try {
    return await withPool(async (pool) => {
      const report = await restoreSave(pool, dataDir, dir, progressLogger(output));
      output.out(`restored ${report.source} (${countOf(report.manifest.totals.records, 'key')}, cut at ${report.manifest.cutTime}) as the live save of ${dataDir}`);
      if (report.backup !== null) output.out(`the previous live save was kept in ${report.backup}`);
      return 0;
    });
  } catch (error) {
    output.err((error as Error).message);
    return 1;
  } finally {
    lock.release();
  }
}
