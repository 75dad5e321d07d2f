/**
 * One save, from cut to commit (main thread orchestration; all encoding, checksumming and disk
 * work happens in the worker pool). ARCHITECTURE.md "The save protocol" is the full argument.
 *
 *   1. cut: engine.freeze() — every table of every keyspace, synchronously, no data copied;
 *      the record count of every frozen table is taken now, while its segments are intact
 *   2. plan: parts of up to kSegmentsPerPart segments still to encode, made only when a worker
 *      is free, never more in flight than threads; a segment written during the save (the
 *      table reports it "hot") goes into the next task, ahead of the sequential order
 *   3. encode: workers claim each segment (so hot and sequential tasks never encode one twice)
 *      and mark it done; as each task finishes, copy-on-write copies of its segments return to
 *      the pool, so memory drops during the save, not only at its end
 *   4. check: every segment of the cut is done, every table's encoded records equal its count
 *      at the cut; the commit task checks that each table's blocks tile the hash space
 *   5. commit: one worker task writes MANIFEST last, fsyncs, renames, fsyncs the parents
 *   6. release the cut; on any failure remove the temporary folder and report the failed step
 *
 * Guarantees: the save holds exactly the writes acknowledged before the cut (the frozen
 * generation is immutable while held); the sequential plan visits every segment of the cut
 * once, so it ends only when every segment is in some task; a save that fails a check in step
 * 4 is reported failed (step 'invariant', the check named) and never published; the cut is
 * released only after every task touching it has settled; the report names the step, path and
 * errno of the first failure.
 */

import { join, dirname } from 'node:path';
import type { CutTable, Engine, EngineCut } from '../engine/engine.js';
import type { FrozenTable } from '../table/generation.js';
import type { TaskRunner } from './worker-pool.js';
import type { FaultPlan, FsFailureInfo } from './fs-seam.js';
import type { EncodedFile, EncodePart, EncodeResult, EncodeTask } from './encode.js';
import { kSegmentStatusDone, kSegmentStatusPending } from '../table/layout.js';
import { SaveCheckError, type BlockList } from './checks.js';
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
  /**
   * Segments per sequential part (default kSegmentsPerPart). The save-protocol simulation uses
   * a few, so that small tables span many parts and every planning path is reached.
   */
  segmentsPerPart?: number;
  /** Called right after the cut, with it (the save-protocol simulation checks every cut). */
  onCut?: (cut: EngineCut) => void;
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
  /** Records in the frozen table, counted at the cut (its segments may be reused later). */
  recordsAtCut: number;
  /** Records and blocks the workers reported for this table. */
  recordsEncoded: number;
  /** Records of encoded segments left out because they had expired at the cut. */
  recordsExpired: number;
  blocks: BlockList;
}

/** Parts still to dispatch, in table order, and the segments written meanwhile (hot). */
class Planner {
  private readonly tables: TableSource[];
  private table = 0;
  private from = 0;
  private hot: Array<[number, number]> = [];
  private hotHead = 0;
  hotSegments = 0;
  private readonly segmentsPerPart: number;

  constructor(cut: EngineCut, segmentsPerPart: number) {
    this.segmentsPerPart = segmentsPerPart;
    this.tables = [];
    for (const table of cut.tables) {
      if (table.frozen === null) continue;
      const source: TableSource = {
        keyspace: table.keyspace,
        name: table.name,
        model: table.model,
        frozen: table.frozen,
        nextPart: 0,
        recordsAtCut: table.frozen.entryCount(),
        recordsEncoded: 0,
        recordsExpired: 0,
        blocks: [],
      };
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
    for (const i of indexes) {
      // Invariant 2 of ARCHITECTURE.md "The save protocol": an unfinished segment is intact.
      const segment = source.frozen.segments[i];
      if (segment === undefined || segment.freed || segment.idx !== i) {
        throw new SaveCheckError('unfinished segments intact', `${source.keyspace}:${source.name}`, `segment ${i} was freed or moved before it was encoded`);
      }
    }
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
      cutMs: source.frozen.cutMs,
    };
  }

  get sources(): readonly TableSource[] {
    return this.tables;
  }

  /**
   * The next task's parts: hot segments first, else the next `segmentsPerPart` segments of the
   * sequential order that are not done yet. Segments a hot task already finished are passed
   * over without counting: the plan ends (null) only after the sequential order has visited
   * every segment of every table. (Counting them ended the plan at the first range that hot
   * tasks had finished whole, and the segments after it were never encoded: issue 8.)
   */
  next(): Array<{ source: TableSource; part: EncodePart }> | null {
    const hot = this.takeHot();
    if (hot !== null) return hot;
    const out: Array<{ source: TableSource; part: EncodePart }> = [];
    let included = 0;
    while (included < this.segmentsPerPart && this.table < this.tables.length) {
      const source = this.tables[this.table] as TableSource;
      const count = source.frozen.segments.length;
      const indexes: number[] = [];
      while (this.from < count && included < this.segmentsPerPart) {
        if (!source.frozen.isDone(this.from)) {
          indexes.push(this.from);
          included++;
        }
        this.from++;
      }
      if (indexes.length > 0) out.push({ source, part: this.part(source, indexes) });
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
 * Run encode tasks until the plan is exhausted: never more tasks in flight than worker
 * threads, so a segment written during the save (hot) waits for one task at most before a
 * worker encodes it, and its copy-on-write memory returns early.
 */
function encodeAll(
  pool: TaskRunner,
  planner: Planner,
  tempDir: string,
  faults: FaultPlan | null,
  onFiles: (files: EncodedFile[], parts: Array<{ source: TableSource; part: EncodePart }>) => void,
): Promise<FsFailureInfo | null> {
  const threads = Math.max(1, pool.options.maxThreads);
  let inFlight = 0;
  let failure: FsFailureInfo | null = null;
  return new Promise((resolve) => {
    const kick = (): void => {
      while (failure === null && inFlight < threads) {
        let parts: ReturnType<Planner['next']>;
        try {
          parts = planner.next();
        } catch (error) {
          failure = error instanceof SaveCheckError ? error.info : internalFailure(tempDir, error);
          break;
        }
        if (parts === null) break;
        inFlight++;
        const task: EncodeTask = { kind: 'encode', dir: tempDir, parts: parts.map((p) => p.part), faults };
        (pool.run(task) as Promise<EncodeResult>).then(
          (result) => {
            if (!result.ok) {
              failure ??= result.failure;
              return;
            }
            try {
              onFiles(result.files, parts);
            } catch (error) {
              failure ??= error instanceof SaveCheckError ? error.info : internalFailure(tempDir, error);
            }
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

/** A task's files go into the manifest list and count towards their tables' checks. */
function recordFiles(written: EncodedFile[], parts: Array<{ source: TableSource; part: EncodePart }>, files: ManifestFile[], finalDir: string): void {
  for (const file of written) {
    files.push({ path: file.path, sizeBytes: file.sizeBytes, records: file.records, crc32: file.crc32 });
    const source = parts.find((p) => p.part.relativePath === file.path)?.source;
    if (source === undefined) throw new SaveCheckError('files match parts', finalDir, `a worker wrote ${file.path}, which no part asked for`);
    source.recordsEncoded += file.records;
    source.recordsExpired += file.expired;
    source.blocks.push(...file.blocks);
  }
  for (const { source, part } of parts) for (const index of part.statusIndexes) source.frozen.reclaimDone(index, index + 1);
}

async function cleanUpFailed(pool: TaskRunner, request: SaveRequest, tempDir: string): Promise<void> {
  if (request.mode === 'replace') {
    // A failed swap may have moved the live save aside: put it back before the temporary
    // folder (possibly the complete new save) is removed, so data/ks matches the report.
    await pool.run({ kind: 'recover', dataDir: request.dataDir, prefer: 'previous' }).catch(() => undefined);
  }
  // Best effort: a leftover temporary folder is also removed at next start.
  await pool.run({ kind: 'remove', path: tempDir }).catch(() => undefined);
}

function internalFailure(path: string, error: unknown): FsFailureInfo {
  return { step: 'write', path, code: 'EINTERNAL', message: error instanceof Error ? error.message : String(error), injected: false };
}

/**
 * Step 4: the save holds every segment of its cut exactly once. O(segments) on the main
 * thread (one Atomics.load each); the tiling of the blocks is checked by the commit worker.
 */
function checkEncoded(planner: Planner, finalDir: string): void {
  for (const source of planner.sources) {
    const entity = `${source.keyspace}:${source.name}`;
    const status = source.frozen.status;
    const missing: number[] = [];
    for (let i = 0; i < source.frozen.segments.length; i++) if (Atomics.load(status, i) !== kSegmentStatusDone) missing.push(i);
    if (missing.length > 0) {
      throw new SaveCheckError(
        'every segment of the cut encoded',
        finalDir,
        `table ${entity}: ${missing.length} of ${source.frozen.segments.length} segments were never encoded (first: ${missing.slice(0, 8).join(', ')})`,
      );
    }
    if (source.recordsEncoded + source.recordsExpired !== source.recordsAtCut) {
      throw new SaveCheckError(
        'records at the cut',
        finalDir,
        `table ${entity}: ${source.recordsAtCut} records at the cut, ${source.recordsEncoded} encoded and ${source.recordsExpired} expired at the cut`,
      );
    }
  }
}

export async function runSave(engine: Engine, pool: TaskRunner, request: SaveRequest, job: SaveJob): Promise<SaveReport> {
  const started = performance.now();
  engine.resetCowPeaks();
  const cut = engine.freeze();
  const planner = new Planner(cut, request.segmentsPerPart ?? kSegmentsPerPart);
  request.onCut?.(cut);
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
    for (const source of planner.sources) job.keysTotal += source.recordsAtCut;
    failure = await encodeAll(pool, planner, tempDir, request.faults, (written, parts) => {
      recordFiles(written, parts, files, finalDir);
      for (const file of written) job.keysDone += file.records;
    });
    if (failure === null) {
      checkEncoded(planner, finalDir);
      files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      const manifest = buildManifest(cut, files);
      const commit: CommitTask = {
        kind: 'commit',
        tempDir,
        finalDir,
        mode: request.mode,
        manifest,
        coverage: planner.sources.map((source) => ({ entity: `${source.keyspace}:${source.name}`, blocks: source.blocks })),
        oldDir: request.mode === 'replace' ? join(dirname(finalDir), `${kOldLivePrefix}${cut.generation}-${randomId()}`) : null,
        fsyncUpTo: request.dataDir,
        faults: request.faults,
      };
      const committed = (await pool.run(commit)) as TaskResult;
      if (!committed.ok) failure = committed.failure;
    }
  } catch (error) {
    failure ??= error instanceof SaveCheckError ? error.info : internalFailure(tempDir, error);
  } finally {
    planner.detach();
    cut.release();
  }
  if (failure !== null) await cleanUpFailed(pool, request, tempDir);
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
      ...(table.collection === undefined ? {} : { collection: table.collection }),
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
