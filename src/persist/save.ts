/**
 * One save, from cut to commit (main thread orchestration; all encoding, checksumming and disk
 * work happens in the worker pool).
 *
 *   1. cut: engine.freeze() — every table of every keyspace, synchronously, no data copied
 *   2. plan: split each frozen table into parts of up to kSegmentsPerPart segments; each part
 *      is one data file; small parts are packed into one task so dispatch cost stays low
 *   3. encode: tasks run in the pool; as each finishes, copy-on-write copies of the segments it
 *      covered are returned to the pool (memory drops during the save, not only at its end)
 *   4. commit: one worker task writes MANIFEST last, fsyncs, renames, fsyncs the parents
 *   5. release the cut; on any failure remove the temporary folder and report the failed step
 *
 * Guarantees: the save holds exactly the writes acknowledged before the cut (the frozen
 * generation is immutable while held); the cut is released only after every task touching it
 * has settled; the report names the step, path and errno of the first failure.
 */

import { join, dirname } from 'node:path';
import type { Engine, EngineCut } from '../engine/engine.js';
import type { FrozenTable } from '../table/generation.js';
import type { WorkerPool } from './worker-pool.js';
import type { FaultPlan, FsFailureInfo } from './fs-seam.js';
import type { EncodePart, EncodeResult, EncodeTask } from './encode.js';
import type { CommitTask, TaskResult } from './commit.js';
import { randomId } from './dirs.js';
import {
  kDataFileExtension,
  kFormatVersion,
  kManifestFormat,
  kOldLivePrefix,
  kTempPrefix,
  type Manifest,
  type ManifestFile,
  type ManifestKeyspace,
} from './format.js';
import { kVersion } from '../version.js';

/** 128 segments of 128 KiB heap: about 16 MiB of table per data file. */
export const kSegmentsPerPart = 128;

export type SaveKind = 'bgsave' | 'snapshot' | 'named';

export interface SaveRequest {
  kind: SaveKind;
  /** The final folder, or a function of the cut time (local snapshots are named by it). */
  finalDir: string | ((cutTimeMs: number) => string);
  mode: 'publish' | 'replace';
  /** Root of the data directory (the commit fsyncs new parents up to it). */
  dataDir: string;
  faults: FaultPlan | null;
}

export class SaveJob {
  readonly kind: SaveKind;
  readonly startedAtMs = Date.now();
  finalDir = '';
  generation = 0;
  keysTotal = 0;
  keysDone = 0;
  constructor(kind: SaveKind) {
    this.kind = kind;
  }
}

export interface SaveReport {
  ok: boolean;
  kind: SaveKind;
  finalDir: string;
  generation: number;
  cutTimeMs: number;
  cutPauseMs: number;
  changeCount: number;
  durationMs: number;
  records: number;
  sizeBytes: number;
  files: number;
  cowBytesPeak: number;
  failure: FsFailureInfo | null;
}

interface PlannedPart {
  part: EncodePart;
  frozen: FrozenTable;
  from: number;
  to: number;
}

function partPath(keyspace: string, table: string, index: number): string {
  return `${keyspace}/${table}/part-${String(index).padStart(5, '0')}${kDataFileExtension}`;
}

function planParts(cut: EngineCut): PlannedPart[] {
  const parts: PlannedPart[] = [];
  for (const table of cut.tables) {
    const frozen = table.frozen;
    if (frozen === null) continue;
    const status = frozen.status;
    let index = 0;
    for (let from = 0; from < frozen.segments.length; from += kSegmentsPerPart) {
      const to = Math.min(frozen.segments.length, from + kSegmentsPerPart);
      const statusIndexes: number[] = [];
      const segments = [];
      for (let i = from; i < to; i++) {
        statusIndexes.push(i);
        segments.push(frozen.wire(i));
      }
      parts.push({
        frozen,
        from,
        to,
        part: {
          keyspace: table.keyspace,
          table: table.name,
          part: index,
          model: table.model,
          relativePath: partPath(table.keyspace, table.name, index),
          segments,
          status,
          statusIndexes,
        },
      });
      index++;
    }
  }
  return parts;
}

/** Pack parts into tasks of at least kSegmentsPerPart segments (one big part is one task). */
function packTasks(parts: PlannedPart[]): PlannedPart[][] {
  const tasks: PlannedPart[][] = [];
  let current: PlannedPart[] = [];
  let segments = 0;
  for (const part of parts) {
    current.push(part);
    segments += part.to - part.from;
    if (segments >= kSegmentsPerPart) {
      tasks.push(current);
      current = [];
      segments = 0;
    }
  }
  if (current.length > 0) tasks.push(current);
  return tasks;
}

function tempNameFor(mode: SaveRequest['mode'], finalDir: string, generation: number): string {
  const tag = mode === 'replace' ? 'ks' : 'snap';
  return join(dirname(finalDir), `${kTempPrefix}${tag}-${generation}-${randomId()}`);
}

export async function runSave(engine: Engine, pool: WorkerPool, request: SaveRequest, job: SaveJob): Promise<SaveReport> {
  const started = performance.now();
  engine.resetCowPeaks();
  const cut = engine.freeze();
  const finalDir = typeof request.finalDir === 'string' ? request.finalDir : request.finalDir(cut.cutTimeMs);
  job.generation = cut.generation;
  job.finalDir = finalDir;
  const base = {
    kind: request.kind,
    finalDir,
    generation: cut.generation,
    cutTimeMs: cut.cutTimeMs,
    cutPauseMs: cut.pauseMs,
    changeCount: cut.changeCount,
  };
  const tempDir = tempNameFor(request.mode, finalDir, cut.generation);
  let failure: FsFailureInfo | null = null;
  let files: ManifestFile[] = [];
  const byPath = new Map<string, ManifestFile>();
  try {
    const parts = planParts(cut);
    for (const table of cut.tables) job.keysTotal += table.frozen?.entryCount() ?? 0;
    const tasks = packTasks(parts).map(async (group) => {
      const task: EncodeTask = { kind: 'encode', dir: tempDir, parts: group.map((p) => p.part), faults: request.faults };
      const result = (await pool.run(task)) as EncodeResult;
      if (!result.ok) {
        failure ??= result.failure;
        return;
      }
      for (const file of result.files) {
        byPath.set(file.path, { path: file.path, sizeBytes: file.sizeBytes, records: file.records, crc32: file.crc32 });
        job.keysDone += file.records;
      }
      for (const planned of group) planned.frozen.reclaimDone(planned.from, planned.to);
    });
    const settled = await Promise.allSettled(tasks);
    for (const outcome of settled) {
      if (outcome.status === 'rejected') {
        failure ??= { step: 'write', path: tempDir, code: 'EWORKER', message: String(outcome.reason), injected: false };
      }
    }
    if (failure === null) {
      files = parts.map((p) => byPath.get(p.part.relativePath) as ManifestFile);
      const manifest = buildManifest(cut, files);
      const commit: CommitTask = {
        kind: 'commit',
        tempDir,
        finalDir,
        mode: request.mode,
        manifest,
        oldDir: request.mode === 'replace' ? join(dirname(finalDir), `${kOldLivePrefix}${cut.generation}-${randomId()}`) : null,
        fsyncUpTo: request.dataDir,
        faults: request.faults,
      };
      const committed = (await pool.run(commit)) as TaskResult;
      if (!committed.ok) failure = committed.failure;
    }
  } catch (error) {
    failure ??= { step: 'write', path: tempDir, code: 'EINTERNAL', message: (error as Error).message, injected: false };
  } finally {
    cut.release();
  }
  if (failure !== null) {
    if (request.mode === 'replace') {
      // A failed swap may have moved the live save aside: put it back before the temporary
      // folder (possibly the complete new save) is removed, so data/ks matches the report.
      await pool.run({ kind: 'recover', dataDir: request.dataDir, prefer: 'previous', liveOnly: true }).catch(() => undefined);
    }
    // Best effort: a leftover temporary folder is also removed at next start.
    await pool.run({ kind: 'remove', path: tempDir }).catch(() => undefined);
  }
  const stats = engine.stats();
  return {
    ...base,
    ok: failure === null,
    durationMs: performance.now() - started,
    records: files.reduce((sum, file) => sum + file.records, 0),
    sizeBytes: files.reduce((sum, file) => sum + file.sizeBytes, 0),
    files: files.length,
    cowBytesPeak: stats.cowBytesPeak,
    failure,
  };
}

function buildManifest(cut: EngineCut, files: ManifestFile[]): Manifest {
  const keyspaces: ManifestKeyspace[] = cut.keyspaces.map((name) => ({ name, tables: [] }));
  const byKeyspace = new Map(keyspaces.map((space) => [space.name, space]));
  for (const table of cut.tables) {
    const prefix = `${table.keyspace}/${table.name}/`;
    const own = files.filter((file) => file.path.startsWith(prefix));
    byKeyspace.get(table.keyspace)?.tables.push({
      name: table.name,
      model: table.model,
      hashSeed: table.seed,
      records: own.reduce((sum, file) => sum + file.records, 0),
      files: own,
    });
  }
  return {
    format: kManifestFormat,
    formatVersion: kFormatVersion,
    generation: cut.generation,
    cutTime: new Date(cut.cutTimeMs).toISOString(),
    cutTimeMs: cut.cutTimeMs,
    createdBy: `frostkv ${kVersion}`,
    keyspaces,
    totals: {
      records: files.reduce((sum, file) => sum + file.records, 0),
      sizeBytes: files.reduce((sum, file) => sum + file.sizeBytes, 0),
      files: files.length,
    },
  };
}
