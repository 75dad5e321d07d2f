/**
 * One save, from cut to commit (main thread orchestration; all encoding, checksumming and disk
 * work happens in the worker pool).
 *
 *   1. cut: engine.freeze() — every table of every keyspace, synchronously, no data copied
 *   2. plan: parts of up to kSegmentsPerPart segments, made only when a worker is free, never
 *      more in flight than threads; a segment written during the save (the table reports it
 *      "hot") goes into the next task, ahead of the sequential order
 *   3. encode: workers claim each segment (so hot and sequential tasks never encode one twice)
 *      and mark it done; as each task finishes, copy-on-write copies of its segments return to
 *      the pool, so memory drops during the save, not only at its end
 *   4. commit: one worker task writes MANIFEST last, fsyncs, renames, fsyncs the parents
 *   5. release the cut; on any failure remove the temporary folder and report the failed step
 *
 * Guarantees: the save holds exactly the writes acknowledged before the cut (the frozen
 * generation is immutable while held); the cut is released only after every task touching it
 * has settled; the report names the step, path and errno of the first failure.
 */

import { join, dirname } from 'node:path';
import type { CutTable, Engine, EngineCut } from '../engine/engine.js';
import type { FrozenTable } from '../table/generation.js';
import type { WorkerPool } from './worker-pool.js';
import type { FaultPlan, FsFailureInfo } from './fs-seam.js';
import type { EncodePart, EncodeResult, EncodeTask } from './encode.js';
import { kSegmentStatusPending } from '../table/layout.js';
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

/** 32 segments of 128 KiB heap: about 4 MiB of table per sequential part (one data file). */
export const kSegmentsPerPart = 32;
/** Segments written during the save (hot) are encoded first, this many per priority task. */
export const kHotBatchMax = 64;
/** Hot notifications kept before new ones are dropped (the sequential parts cover them anyway). */
export const kHotQueueMax = 65_536;

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
  /** Segments encoded ahead of their turn because they were written during the save. */
  hotSegments: number;
  cowBytesPeak: number;
  failure: FsFailureInfo | null;
}

interface TableSource {
  keyspace: string;
  name: string;
  model: CutTable['model'];
  frozen: FrozenTable;
  nextPart: number;
}

/** Parts still to dispatch, in table order, and the segments written meanwhile (hot). */
class Planner {
  private readonly tables: TableSource[];
  private table = 0;
  private from = 0;
  private hot: Array<[number, number]> = [];
  private hotHead = 0;
  hotSegments = 0;

  constructor(cut: EngineCut) {
    this.tables = [];
    for (const table of cut.tables) {
      if (table.frozen === null) continue;
      const source: TableSource = { keyspace: table.keyspace, name: table.name, model: table.model, frozen: table.frozen, nextPart: 0 };
      const index = this.tables.length;
      this.tables.push(source);
      // The status array is allocated now, before any write can ask whether a segment is done.
      void table.frozen.status;
      table.frozen.onHot = (segment) => {
        if (this.hot.length - this.hotHead < kHotQueueMax) this.hot.push([index, segment]);
      };
    }
  }

  detach(): void {
    for (const source of this.tables) source.frozen.onHot = null;
  }

  private part(source: TableSource, indexes: number[]): EncodePart {
    const index = source.nextPart++;
    return {
      keyspace: source.keyspace,
      table: source.name,
      part: index,
      model: source.model,
      relativePath: partPath(source.keyspace, source.name, index),
      segments: indexes.map((i) => source.frozen.wire(i)),
      status: source.frozen.status,
      statusIndexes: indexes,
    };
  }

  /** The next task's parts: hot segments first, else the next sequential ranges. */
  next(): Array<{ source: TableSource; part: EncodePart }> | null {
    const hot = this.takeHot();
    if (hot !== null) return hot;
    const out: Array<{ source: TableSource; part: EncodePart }> = [];
    let segments = 0;
    while (segments < kSegmentsPerPart && this.table < this.tables.length) {
      const source = this.tables[this.table] as TableSource;
      const count = source.frozen.segments.length;
      const to = Math.min(count, this.from + kSegmentsPerPart - segments);
      const indexes: number[] = [];
      for (let i = this.from; i < to; i++) if (!source.frozen.isDone(i)) indexes.push(i);
      if (indexes.length > 0) out.push({ source, part: this.part(source, indexes) });
      segments += to - this.from;
      this.from = to;
      if (this.from >= count) {
        this.table++;
        this.from = 0;
      }
    }
    return out.length === 0 ? null : out;
  }

  private takeHot(): Array<{ source: TableSource; part: EncodePart }> | null {
    const byTable = new Map<number, number[]>();
    let taken = 0;
    while (this.hotHead < this.hot.length && taken < kHotBatchMax) {
      const [table, segment] = this.hot[this.hotHead++] as [number, number];
      const source = this.tables[table] as TableSource;
      // Skip segments already claimed or finished by a running task.
      if (Atomics.load(source.frozen.status, segment) !== kSegmentStatusPending) continue;
      const list = byTable.get(table) ?? [];
      if (list.includes(segment)) continue;
      list.push(segment);
      byTable.set(table, list);
      taken++;
    }
    if (this.hotHead === this.hot.length) {
      this.hot = [];
      this.hotHead = 0;
    }
    if (taken === 0) return null;
    this.hotSegments += taken;
    return [...byTable].map(([table, indexes]) => {
      const source = this.tables[table] as TableSource;
      return { source, part: this.part(source, indexes) };
    });
  }
}

function partPath(keyspace: string, table: string, index: number): string {
  return `${keyspace}/${table}/part-${String(index).padStart(5, '0')}${kDataFileExtension}`;
}

function tempNameFor(mode: SaveRequest['mode'], finalDir: string, generation: number): string {
  const tag = mode === 'replace' ? 'ks' : 'snap';
  return join(dirname(finalDir), `${kTempPrefix}${tag}-${generation}-${randomId()}`);
}

/**
 * Run encode tasks until every segment of the cut is done: never more tasks in flight than
 * worker threads, so a segment written during the save (hot) waits for one task at most
 * before a worker encodes it, and its copy-on-write memory returns early.
 */
function encodeAll(
  pool: WorkerPool,
  planner: Planner,
  tempDir: string,
  faults: FaultPlan | null,
  onFiles: (files: Array<ManifestFile & { segments: number }>, parts: Array<{ source: TableSource; part: EncodePart }>) => void,
): Promise<FsFailureInfo | null> {
  const threads = Math.max(1, pool.options.maxThreads);
  let inFlight = 0;
  let failure: FsFailureInfo | null = null;
  return new Promise((resolve) => {
    const kick = (): void => {
      while (failure === null && inFlight < threads) {
        const parts = planner.next();
        if (parts === null) break;
        inFlight++;
        const task: EncodeTask = { kind: 'encode', dir: tempDir, parts: parts.map((p) => p.part), faults };
        (pool.run(task) as Promise<EncodeResult>).then(
          (result) => {
            if (result.ok) onFiles(result.files, parts);
            else failure ??= result.failure;
          },
          (error: unknown) => {
            failure ??= { step: 'write', path: tempDir, code: 'EWORKER', message: String(error), injected: false };
          },
        ).finally(() => {
          inFlight--;
          kick();
        });
      }
      if (inFlight === 0) resolve(failure);
    };
    kick();
  });
}

export async function runSave(engine: Engine, pool: WorkerPool, request: SaveRequest, job: SaveJob): Promise<SaveReport> {
  const started = performance.now();
  engine.resetCowPeaks();
  const cut = engine.freeze();
  const planner = new Planner(cut);
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
  const files: ManifestFile[] = [];
  try {
    for (const table of cut.tables) job.keysTotal += table.frozen?.entryCount() ?? 0;
    failure = await encodeAll(pool, planner, tempDir, request.faults, (written, parts) => {
      for (const file of written) {
        files.push({ path: file.path, sizeBytes: file.sizeBytes, records: file.records, crc32: file.crc32 });
        job.keysDone += file.records;
      }
      for (const { source, part } of parts) for (const index of part.statusIndexes) source.frozen.reclaimDone(index, index + 1);
    });
    if (failure === null) {
      files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
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
    planner.detach();
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
    hotSegments: planner.hotSegments,
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
