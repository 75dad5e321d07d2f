/**
 * Persistence for one data directory (docs/persistence.md): startup load, the periodic
 * live save (BGSAVE) to data/ks, periodic and on-demand local snapshots, named snapshots,
 * retention, the failsafe read-only state, status, and the final save on close.
 *
 * Guarantees:
 * - Live saves never overlap (each waits for the previous); the period runs from the start of
 *   one to the start of the next, and a late save delays the next rather than stacking.
 * - A periodic (or shutdown) live save with no change since the last successful one is
 *   skipped and counts as a success; a live save someone asked for always runs. A failed live
 *   save always makes the database read-only, and only a live save clears that; a failed
 *   periodic snapshot does so when `snapshot.failsafe` is on, cleared by a periodic snapshot or
 *   a live save (src/persist/failsafe.ts). Client snapshots (MKSNAP) never set or clear it.
 * - A periodic snapshot that finds a local snapshot running skips its turn (not a failure); one
 *   that finds nothing changed since the last local snapshot this process published skips too,
 *   and counts as a success (a copy of the same data would only push older history out).
 * - Every save, failure, skip and read-only transition is also reported through `onEvent`.
 * - A local snapshot never fails because its second's folder exists: it counts this run's
 *   folder of that second as its own when nothing changed since that cut, else cuts again in
 *   the next second (see localSnapshot); nothing is ever overwritten.
 * - Start-up removes no leftover folder until data/ks has loaded.
 * - `lastSaveTimeMs` moves only after a live save's final fsync.
 * - Startup refuses a corrupt or mismatched live save, naming the file and the failed check.
 */

import { join, resolve, sep } from 'node:path';
import type { Engine, TableDefinition } from '../engine/engine.js';
import { ErrorCode, FrostError } from '../util/errors.js';
import { silentLogger, type Logger } from '../util/log.js';
import type { TaskRunner } from './worker-pool.js';
import type { FaultPlan, FsFailureInfo } from './fs-seam.js';
import type { TaskResult, RecoverReport } from './commit.js';
import type { DecodeResult, DecodeTask } from './decode.js';
import type { SaveListing, SnapshotListing } from './dirs.js';
import { acquireDataDirLock, type DataDirLock } from './lock.js';
import { resolveNamedSnapshotTarget } from './rsnap-target.js';
import { ensureDataDir } from './data-dir.js';
import { runSave, SaveJob, type SaveKind, type SaveReport } from './save.js';
import { restoreSave } from './restore.js';
import { tableProblems } from './verify.js';
import { Failsafe, type ReadOnlyCause } from './failsafe.js';
import type { PersistenceEvent } from './events.js';
import { countOf } from '../util/words.js';
import {
  isSafeSnapshotName,
  kLiveDirName,
  kRsnapDirName,
  kSnapsDirName,
  snapshotNameFor,
  type Manifest,
} from './format.js';

export const kShutdownRetryEveryMs = 10_000;
export const kProgressLogEveryMs = 5_000;
/** Cuts a local snapshot tries when that second's folder exists already (see localSnapshot). */
export const kSameSecondAttemptsMax = 3;

/** Resolve just after the next whole UTC second begins. */
function waitForNextSecond(): Promise<void> {
  const now = Date.now();
  const delayMs = 1000 - (now % 1000) + 1;
  return new Promise((resolveWait) => setTimeout(resolveWait, delayMs));
}

export interface PersistenceSettings {
  dataDir: string;
  bgsave: { enabled: boolean; every: number };
  snapshot: { enabled: boolean; every: number; atmost: number; failsafe: boolean };
  /** Run a final live save on close (false only with --nosave). */
  saveOnShutdown: boolean;
  /** A save folder to install as the live save before loading (`--restore`). */
  restoreFrom: string | null;
}

/**
 * How a close ends. `finalSave`: 'configured' (the default) runs the final live save unless
 * saveOnShutdown is off (--nosave); 'always' runs it anyway and 'skip' never (RESP's SHUTDOWN
 * SAVE and NOSAVE). `signal` gives up on a final save that keeps failing.
 */
export interface CloseOptions {
  signal?: AbortSignal;
  retryEveryMs?: number;
  finalSave?: 'configured' | 'always' | 'skip';
}

/** Tests set `plan` to make the file-system seam fail; read at the start of every save. */
export interface FaultInjector {
  plan: FaultPlan | null;
}

export interface SaveOutcome {
  status: 'ok' | 'err' | 'never';
  finishedAtMs: number | null;
  durationMs: number | null;
  cutPauseMs: number | null;
  records: number | null;
  sizeBytes: number | null;
  error: FsFailureInfo | null;
  target: string | null;
}

export interface PersistenceStatus {
  dataDir: string;
  changesSinceLastSave: number;
  saving: Array<{ kind: SaveKind; target: string; startedAtMs: number; keysDone: number; keysTotal: number }>;
  /** Last successful live save (LASTSAVE), after its final fsync; the loaded save's cut at startup. */
  lastSaveTimeMs: number | null;
  /** The most recent save of any kind. */
  last: SaveOutcome & { kind: SaveKind | null };
  bgsave: SaveOutcome & { enabled: boolean; everySeconds: number; skippedCount: number };
  snapshot: SaveOutcome & { enabled: boolean; everySeconds: number; atmost: number; failsafe: boolean; skippedCount: number };
  cowBytesNow: number;
  /** Copy-on-write peak during the last save. */
  cowBytesPeak: number;
  snapshotCount: number;
  readOnly: boolean;
  readOnlyReason: string | null;
  /** What the refused writes wait for: `bgsave` (a live save to succeed), `snapshot` (a snapshot or live save). */
  readOnlyCauses: ReadOnlyCause[];
}

export type SnapshotCode = 'ok' | 'disabled' | 'busy' | 'invalid-name' | 'duplicate' | 'failed';

export interface SnapshotResult {
  code: SnapshotCode;
  /** Folder name under snaps/ or rsnap/. */
  name: string | null;
  path: string | null;
  report: SaveReport | null;
  message: string;
}

export interface LiveSaveResult {
  ok: boolean;
  skipped: boolean;
  report: SaveReport | null;
}

function emptyOutcome(): SaveOutcome {
  return { status: 'never', finishedAtMs: null, durationMs: null, cutPauseMs: null, records: null, sizeBytes: null, error: null, target: null };
}

function outcomeOf(report: SaveReport): SaveOutcome {
  return {
    status: report.ok ? 'ok' : 'err',
    finishedAtMs: Date.now(),
    durationMs: report.durationMs,
    cutPauseMs: report.cutPauseMs,
    records: report.records,
    sizeBytes: report.sizeBytes,
    error: report.failure,
    target: report.finalDir,
  };
}

function describeFailure(failure: FsFailureInfo): string {
  return `${failure.step} failed for ${failure.path}: ${failure.message}`;
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export class Persistence {
  readonly settings: PersistenceSettings;
  private readonly engine: Engine;
  private readonly pool: TaskRunner;
  private readonly logger: Logger;
  private readonly faults: FaultInjector;
  private readonly onEvent: (event: PersistenceEvent) => void;
  private readonly failsafe: Failsafe;
  private lock: DataDirLock | null = null;

  private readonly jobs = new Set<SaveJob>();
  private liveChain: Promise<unknown> = Promise.resolve();
  private liveQueued = 0;
  private localSnapshotRunning = false;
  /** The last local snapshot this process published: its folder name and the change count at its cut. */
  private lastLocalSnapshot: { name: string; changeCount: number } | null = null;
  private readonly namedInProgress = new Set<string>();
  private readonly running = new Set<Promise<unknown>>();

  private lastSavedChangeCount = 0;
  private hasLiveSave = false;
  private lastSaveTimeMs: number | null = null;
  private last: SaveOutcome & { kind: SaveKind | null } = { ...emptyOutcome(), kind: null };
  private bgsaveOutcome = emptyOutcome();
  private bgsaveSkipped = 0;
  private snapshotOutcome = emptyOutcome();
  private snapshotSkipped = 0;
  private lastCowPeak = 0;
  private snapshotCount = 0;
  private bgsaveTimer: NodeJS.Timeout | null = null;
  private snapshotTimer: NodeJS.Timeout | null = null;
  private closing = false;

  constructor(
    engine: Engine,
    pool: TaskRunner,
    settings: PersistenceSettings,
    options: { logger?: Logger; faults?: FaultInjector; onEvent?: (event: PersistenceEvent) => void } = {},
  ) {
    this.engine = engine;
    this.pool = pool;
    this.settings = { ...settings, dataDir: resolve(settings.dataDir) };
    this.logger = options.logger ?? silentLogger;
    this.faults = options.faults ?? { plan: null };
    this.onEvent = options.onEvent ?? (() => undefined);
    this.failsafe = new Failsafe(engine, this.logger, this.onEvent);
  }

  get dataDir(): string {
    return this.settings.dataDir;
  }

  private get liveDir(): string {
    return join(this.dataDir, kLiveDirName);
  }

  private get snapsDir(): string {
    return join(this.dataDir, kSnapsDirName);
  }

  private get rsnapDir(): string {
    return join(this.dataDir, kRsnapDirName);
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.running.add(promise);
    void promise.finally(() => this.running.delete(promise)).catch(() => undefined);
    return promise;
  }

  // ------------------------------------------------------------ startup

  /** Lock the data directory, recover from a crash, restore if asked, load, start the timers. */
  async open(): Promise<void> {
    ensureDataDir(this.dataDir);
    this.lock = acquireDataDirLock(this.dataDir);
    try {
      const recovered = (await this.pool.run({ kind: 'recover', dataDir: this.dataDir, prefer: 'newest' })) as TaskResult<RecoverReport>;
      if (!recovered.ok) {
        const code = recovered.failure.code === ErrorCode.corruptSave ? ErrorCode.corruptSave : ErrorCode.dataDirUnusable;
        throw new FrostError(code, `refusing to start: startup recovery failed: ${recovered.failure.message}`);
      }
      for (const reason of recovered.rejected) this.logger.warn(`not installing a leftover save that does not verify: ${reason}`);
      if (recovered.recovered !== null) this.logger.warn(`recovered data/ks: ${recovered.recovered}`);
      if (this.settings.restoreFrom !== null) {
        const restored = await restoreSave(this.pool, this.dataDir, this.settings.restoreFrom, this.logger);
        this.logger.info(`restored ${restored.source} as the live save`, { backup: restored.backup });
      }
      await this.load();
      // Only now that data/ks has loaded is no leftover folder the last good copy of anything.
      const cleaned = (await this.pool.run({ kind: 'cleanup', dataDir: this.dataDir })) as TaskResult<{ removed: string[] }>;
      if (cleaned.ok) for (const path of cleaned.removed) this.logger.info(`removed leftover temporary folder ${path}`);
      else this.logger.warn(`could not remove leftover folders: ${describeFailure(cleaned.failure)}`);
      await this.refreshSnapshotCount(true);
      this.startTimers();
    } catch (error) {
      this.lock.release();
      this.lock = null;
      throw error;
    }
  }

  private async load(): Promise<void> {
    const read = (await this.pool.run({ kind: 'readManifest', dir: this.liveDir })) as TaskResult<{ missing: boolean; manifest: Manifest | null }>;
    if (!read.ok) throw this.corrupt(read.failure);
    if (read.missing || read.manifest === null) {
      this.logger.info(`no live save in ${this.liveDir}: starting a fresh database`);
      return;
    }
    const manifest = read.manifest;
    const started = performance.now();
    // Keys whose time passed while the save sat on disk are dropped as they are read.
    const nowMs = this.engine.nowMs();
    const definitions: TableDefinition[] = [];
    const tasks: Array<Promise<{ key: string; path: string; result: DecodeResult }>> = [];
    let filesDone = 0;
    const filesTotal = manifest.keyspaces.reduce((n, space) => n + space.tables.reduce((m, table) => m + table.files.length, 0), 0);
    const progress = setInterval(() => {
      this.logger.info(`loading ${this.liveDir}: ${filesDone}/${filesTotal} files`);
    }, kProgressLogEveryMs);
    try {
      for (const space of manifest.keyspaces) {
        for (const table of space.tables) {
          definitions.push({ keyspace: space.name, table: table.name, model: table.model, seed: table.hashSeed, ...(table.collection === undefined ? {} : { collection: table.collection }) });
          for (const file of table.files) {
            const task: DecodeTask = {
              kind: 'decode',
              dir: this.liveDir,
              keyspace: space.name,
              table: table.name,
              model: table.model,
              hashSeed: table.hashSeed,
              file,
              build: true,
              nowMs,
              faults: null,
            };
            tasks.push(
              (this.pool.run(task) as Promise<DecodeResult>).then((result) => {
                filesDone++;
                return { key: `${space.name}:${table.name}`, path: file.path, result };
              }),
            );
          }
        }
      }
      const results = await Promise.all(tasks);
      for (const { result } of results) if (!result.ok) throw this.corrupt(result.failure);
      const decoded = new Map<string, Extract<DecodeResult, { ok: true }>>();
      for (const { path, result } of results) if (result.ok) decoded.set(path, result);
      const problems = tableProblems(this.liveDir, manifest, decoded);
      if (problems.length > 0) throw this.corrupt(problems[0] as FsFailureInfo);
      let tables;
      try {
        tables = this.engine.installDefinitions(definitions, manifest.keyspaces.map((space) => space.name));
      } catch (error) {
        throw new FrostError(ErrorCode.corruptSave, `${this.liveDir}: the manifest's definitions are invalid: ${(error as Error).message}. Start with --restore <snapshot> to recover.`);
      }
      const byTable = new Map<string, Array<{ meta: SharedArrayBuffer; heap: SharedArrayBuffer; blobs: Array<[number, Uint8Array]> | null }>>();
      for (const { key, result } of results) {
        if (!result.ok) continue;
        const list = byTable.get(key) ?? [];
        list.push(...result.segments);
        byTable.set(key, list);
      }
      for (const [key, table] of tables) {
        const parts = byTable.get(key);
        if (parts === undefined || parts.length === 0) continue;
        try {
          table.adoptSegments(parts);
        } catch (error) {
          throw new FrostError(ErrorCode.corruptSave, `${this.liveDir}: table ${key}: ${(error as Error).message}. Start with --restore <snapshot> to recover.`);
        }
      }
      const orphans = this.engine.dropOrphanCollections();
      if (orphans > 0) this.logger.info(`dropped ${orphans} collection tables whose keys had expired`);
    } finally {
      clearInterval(progress);
    }
    this.engine.setGeneration(manifest.generation);
    this.hasLiveSave = true;
    this.lastSaveTimeMs = manifest.cutTimeMs;
    this.lastSavedChangeCount = this.engine.changeCount;
    const seconds = (performance.now() - started) / 1000;
    this.logger.info(
      `loaded ${this.liveDir}: ${countOf(manifest.totals.records, 'key')} in ${countOf(manifest.keyspaces.length, 'keyspace')}, ${mb(manifest.totals.sizeBytes)} in ${seconds.toFixed(2)} s`,
      { generation: manifest.generation, cutTime: manifest.cutTime, loadSeconds: seconds },
    );
  }

  private corrupt(failure: FsFailureInfo): FrostError {
    return new FrostError(
      ErrorCode.corruptSave,
      `refusing to start: the live save ${this.liveDir} is unusable: ${failure.message}` +
        ` (file ${failure.path}, check: ${failure.step}). Nothing was changed; start with --restore <snapshot folder> to recover from a snapshot.`,
    );
  }

  private async refreshSnapshotCount(warnUnknown: boolean): Promise<void> {
    const listing = (await this.pool.run({ kind: 'listSnapshots', snapsDir: this.snapsDir })) as TaskResult<SnapshotListing>;
    if (!listing.ok) {
      this.logger.warn(`cannot list ${this.snapsDir}: ${describeFailure(listing.failure)}`);
      return;
    }
    this.snapshotCount = listing.names.length;
    if (warnUnknown) {
      for (const name of listing.unknown) this.logger.warn(`ignoring ${join(this.snapsDir, name)}: not a snapshot folder name (YYYYMMDD-HHMMSS)`);
    }
  }

  // ------------------------------------------------------------ timers

  private startTimers(): void {
    if (this.settings.bgsave.enabled) this.scheduleBgsave(this.settings.bgsave.every * 1000);
    if (this.settings.snapshot.enabled) this.scheduleSnapshot(this.settings.snapshot.every * 1000);
  }

  private scheduleBgsave(delayMs: number): void {
    if (this.closing) return;
    this.bgsaveTimer = setTimeout(() => {
      const startedAt = Date.now();
      void this.liveSave('periodic').finally(() => {
        this.scheduleBgsave(Math.max(0, startedAt + this.settings.bgsave.every * 1000 - Date.now()));
      });
    }, delayMs);
    this.bgsaveTimer.unref();
  }

  private scheduleSnapshot(delayMs: number): void {
    if (this.closing) return;
    this.snapshotTimer = setTimeout(() => {
      const startedAt = Date.now();
      void this.periodicSnapshot().finally(() => {
        this.scheduleSnapshot(Math.max(0, startedAt + this.settings.snapshot.every * 1000 - Date.now()));
      });
    }, delayMs);
    this.snapshotTimer.unref();
  }

  // ------------------------------------------------------------ live saves

  /** Whether a live save is running or waiting to run. */
  /** Whether close runs a final live save unless told otherwise (false only with --nosave). */
  get savesOnShutdown(): boolean {
    return this.settings.saveOnShutdown;
  }

  get liveSaveInProgress(): boolean {
    return this.liveQueued > 0;
  }

  /**
   * Save to data/ks. Periodic and shutdown saves are skipped when nothing changed since the
   * last successful live save; manual ones always run. Calls queue behind each other.
   */
  liveSave(reason: 'periodic' | 'manual' | 'shutdown'): Promise<LiveSaveResult> {
    this.liveQueued++;
    const next = this.liveChain.then(() => this.liveSaveNow(reason));
    this.liveChain = next.catch(() => undefined);
    return this.track(next.finally(() => this.liveQueued--));
  }

  private async liveSaveNow(reason: 'periodic' | 'manual' | 'shutdown'): Promise<LiveSaveResult> {
    // A save someone asked for (BGSAVE, SAVE, db.save()) always runs, so LASTSAVE moves as
    // Redis users expect; periodic and shutdown saves skip when there is nothing new.
    if (reason !== 'manual' && this.hasLiveSave && this.engine.changeCount === this.lastSavedChangeCount) {
      this.bgsaveSkipped++;
      this.bgsaveOutcome = { ...this.bgsaveOutcome, status: 'ok', error: null };
      this.failsafe.succeeded('bgsave', 'a live save found nothing changed since the last successful one');
      this.logger.debug(`live save (${reason}) skipped: nothing changed since the last one`);
      this.onEvent({ type: 'saveSkipped', kind: 'bgsave', reason: 'nothing changed since the last successful live save' });
      return { ok: true, skipped: true, report: null };
    }
    const report = await this.save('bgsave', this.liveDir, 'replace');
    this.bgsaveOutcome = outcomeOf(report);
    if (report.ok) {
      this.hasLiveSave = true;
      this.lastSaveTimeMs = Date.now();
      this.lastSavedChangeCount = report.changeCount;
      this.failsafe.succeeded('bgsave', 'a live save succeeded');
    } else {
      this.failsafe.fail('bgsave', `live save to ${this.liveDir} failed: ${describeFailure(report.failure as FsFailureInfo)}`);
    }
    return { ok: report.ok, skipped: false, report };
  }

  private async save(kind: SaveKind, finalDir: string | ((cutTimeMs: number) => string), mode: 'publish' | 'replace'): Promise<SaveReport> {
    const job = new SaveJob(kind);
    this.jobs.add(job);
    const progress = setInterval(() => {
      const share = job.keysTotal === 0 ? 100 : Math.floor((100 * job.keysDone) / job.keysTotal);
      this.logger.info(`${kind} in progress: ${share}% (${job.keysDone}/${job.keysTotal} keys) -> ${job.finalDir}`);
    }, kProgressLogEveryMs);
    progress.unref();
    try {
      const report = await runSave(this.engine, this.pool, { kind, finalDir, mode, dataDir: this.dataDir, faults: this.faults.plan }, job);
      this.last = { ...outcomeOf(report), kind };
      this.lastCowPeak = report.cowBytesPeak;
      this.logReport(report);
      return report;
    } finally {
      clearInterval(progress);
      this.jobs.delete(job);
    }
  }

  private logReport(report: SaveReport): void {
    const seconds = report.durationMs / 1000;
    const fields = {
      kind: report.kind,
      target: report.finalDir,
      generation: report.generation,
      keys: report.records,
      sizeBytes: report.sizeBytes,
      durationMs: Math.round(report.durationMs),
      cutPauseMs: Number(report.cutPauseMs.toFixed(4)),
      cowBytesPeak: report.cowBytesPeak,
      hotSegments: report.hotSegments,
    };
    this.emitReport(report);
    if (report.ok) {
      const rate = seconds > 0 ? report.sizeBytes / 1e6 / seconds : 0;
      this.logger.info(
        `${report.kind} done: ${countOf(report.records, 'key')}, ${mb(report.sizeBytes)} in ${seconds.toFixed(2)} s (${rate.toFixed(0)} MB/s), ` +
          `cut pause ${report.cutPauseMs.toFixed(3)} ms, copy-on-write peak ${mb(report.cowBytesPeak)} -> ${report.finalDir}`,
        fields,
      );
    } else {
      this.logger.error(`${report.kind} failed: ${describeFailure(report.failure as FsFailureInfo)}`, { ...fields, failure: report.failure });
    }
  }

  private emitReport(report: SaveReport): void {
    if (report.ok) {
      this.onEvent({
        type: 'save',
        kind: report.kind,
        path: report.finalDir,
        keys: report.records,
        bytes: report.sizeBytes,
        durationMs: report.durationMs,
        cutPauseMs: report.cutPauseMs,
        cowBytesPeak: report.cowBytesPeak,
      });
      return;
    }
    const failure = report.failure as FsFailureInfo;
    this.onEvent({ type: 'saveFailed', kind: report.kind, path: report.finalDir, step: failure.step, code: failure.code, message: describeFailure(failure) });
  }

  // ------------------------------------------------------------ local snapshots

  private async periodicSnapshot(): Promise<void> {
    if (this.localSnapshotRunning) {
      this.logger.info('periodic snapshot skipped: another local snapshot is in progress');
      return;
    }
    const last = this.lastLocalSnapshot;
    if (last !== null && last.changeCount === this.engine.changeCount) {
      // Another copy of the same data would push a distinct older snapshot out of `atmost`.
      this.snapshotSkipped++;
      const reason = `nothing changed since ${join(this.snapsDir, last.name)}`;
      this.logger.info(`periodic snapshot skipped: ${reason}`);
      this.onEvent({ type: 'saveSkipped', kind: 'snapshot', reason });
      this.failsafe.succeeded('snapshot', 'a periodic snapshot found nothing changed since the last one');
      return;
    }
    const result = await this.localSnapshot();
    if (result.code === 'ok') {
      this.failsafe.succeeded('snapshot', 'a periodic snapshot succeeded');
    } else if (result.code === 'failed' && this.settings.snapshot.failsafe) {
      this.failsafe.fail('snapshot', `periodic snapshot failed: ${result.message}`);
    }
  }

  /** MKSNAP without a name: a local snapshot in snaps/ (needs [snapshot] configured). */
  mkSnapshot(): Promise<SnapshotResult> {
    if (!this.settings.snapshot.enabled) {
      return Promise.resolve({ code: 'disabled', name: null, path: null, report: null, message: 'local snapshots are not configured' });
    }
    if (this.localSnapshotRunning) {
      return Promise.resolve({ code: 'busy', name: null, path: null, report: null, message: 'a local snapshot is already running' });
    }
    return this.localSnapshot();
  }

  /**
   * A local snapshot, named by the UTC second of its cut. Two local snapshots (periodic or
   * MKSNAP) in one second would want the same folder, and a save never overwrites one. So:
   * - if this process published that second's folder and nothing changed since its cut, that
   *   folder already holds every write acknowledged before this request: it is this
   *   snapshot too (no second copy);
   * - otherwise wait for the next second and cut then;
   * - a folder of that second that this process did not publish (a restart within the second,
   *   a clock stepped back) is found at commit ('exists'): wait for the next second and try
   *   again, up to kSameSecondAttemptsMax times, then fail naming the clash.
   */
  private localSnapshot(): Promise<SnapshotResult> {
    this.localSnapshotRunning = true;
    const run = (async (): Promise<SnapshotResult> => {
      try {
        for (let attempt = 1; ; attempt++) {
          const second = snapshotNameFor(Date.now());
          const last = this.lastLocalSnapshot;
          if (last !== null && last.name === second) {
            if (last.changeCount === this.engine.changeCount) {
              const path = join(this.snapsDir, last.name);
              this.logger.info(`local snapshot ${path}, published this second, already holds every write: counting it as this snapshot`);
              return { code: 'ok', name: last.name, path, report: null, message: `covered by ${last.name}, published this second with no write since its cut` };
            }
            await waitForNextSecond();
            continue;
          }
          const report = await this.save('snapshot', (cutTimeMs) => join(this.snapsDir, snapshotNameFor(cutTimeMs)), 'publish');
          const name = report.finalDir.slice(this.snapsDir.length + 1);
          if (!report.ok && report.failure?.step === 'exists' && attempt < kSameSecondAttemptsMax) {
            this.logger.info(`local snapshot folder ${report.finalDir} already exists (not made by this run): cutting again in the next second`);
            await waitForNextSecond();
            continue;
          }
          this.snapshotOutcome = outcomeOf(report);
          if (!report.ok) {
            return { code: 'failed', name, path: report.finalDir, report, message: describeFailure(report.failure as FsFailureInfo) };
          }
          this.lastLocalSnapshot = { name, changeCount: report.changeCount };
          await this.prune();
          return { code: 'ok', name, path: report.finalDir, report, message: 'snapshot written' };
        }
      } finally {
        this.localSnapshotRunning = false;
      }
    })();
    return this.track(run);
  }

  private async prune(): Promise<void> {
    const pruned = (await this.pool.run({
      kind: 'prune',
      snapsDir: this.snapsDir,
      atmost: this.settings.snapshot.atmost,
      faults: null,
    })) as TaskResult<{ deleted: string[]; kept: string[] }>;
    if (!pruned.ok) {
      this.logger.warn(`could not prune old snapshots: ${describeFailure(pruned.failure)}`);
      await this.refreshSnapshotCount(false);
      return;
    }
    for (const name of pruned.deleted) this.logger.info(`deleted old snapshot ${join(this.snapsDir, name)} (keeping at most ${this.settings.snapshot.atmost})`);
    this.snapshotCount = pruned.kept.length;
  }

  // ------------------------------------------------------------ named snapshots

  /** MKSNAP <name>: a named snapshot in rsnap/<name> (works even when local snapshots are off). */
  async mkNamedSnapshot(name: string): Promise<SnapshotResult> {
    const refused = (code: SnapshotCode, message: string): SnapshotResult => ({ code, name, path: null, report: null, message });
    if (!isSafeSnapshotName(name)) return refused('invalid-name', `unsafe snapshot name ${JSON.stringify(name)}`);
    // A lexical check first; symlinks below rsnap are resolved (and refused) in the run below.
    if (!resolve(this.rsnapDir, name).startsWith(this.rsnapDir + sep)) return refused('invalid-name', `snapshot name ${JSON.stringify(name)} leaves ${this.rsnapDir}`);
    if (this.namedInProgress.has(name)) return refused('busy', `a snapshot named ${name} is already being written`);
    this.namedInProgress.add(name);
    const run = (async (): Promise<SnapshotResult> => {
      try {
        const target = await resolveNamedSnapshotTarget(this.rsnapDir, name);
        if (!target.ok) return refused(target.code, target.message);
        const path = target.finalDir;
        const existing = (await this.pool.run({ kind: 'readManifest', dir: path })) as TaskResult<{ missing: boolean }>;
        if (!existing.ok || !existing.missing) return refused('duplicate', `${path} already exists`);
        const report = await this.save('named', path, 'publish');
        if (!report.ok) {
          const failure = report.failure as FsFailureInfo;
          if (failure.step === 'exists') return { ...refused('duplicate', `${path} already exists`), report };
          return { code: 'failed', name, path, report, message: describeFailure(failure) };
        }
        return { code: 'ok', name, path, report, message: 'snapshot written' };
      } finally {
        this.namedInProgress.delete(name);
      }
    })();
    return this.track(run);
  }

  // ------------------------------------------------------------ status

  status(): PersistenceStatus {
    const stats = this.engine.stats();
    return {
      dataDir: this.dataDir,
      changesSinceLastSave: this.engine.changeCount - this.lastSavedChangeCount,
      saving: [...this.jobs].map((job) => ({
        kind: job.kind,
        target: job.finalDir,
        startedAtMs: job.startedAtMs,
        keysDone: job.keysDone,
        keysTotal: job.keysTotal,
      })),
      lastSaveTimeMs: this.lastSaveTimeMs,
      last: this.last,
      bgsave: { ...this.bgsaveOutcome, enabled: this.settings.bgsave.enabled, everySeconds: this.settings.bgsave.every, skippedCount: this.bgsaveSkipped },
      snapshot: {
        ...this.snapshotOutcome,
        enabled: this.settings.snapshot.enabled,
        everySeconds: this.settings.snapshot.every,
        atmost: this.settings.snapshot.atmost,
        failsafe: this.settings.snapshot.failsafe,
        skippedCount: this.snapshotSkipped,
      },
      cowBytesNow: stats.cowBytesNow,
      cowBytesPeak: this.jobs.size > 0 ? stats.cowBytesPeak : this.lastCowPeak,
      snapshotCount: this.snapshotCount,
      readOnly: this.engine.readOnly,
      readOnlyReason: this.engine.readOnlyCause,
      readOnlyCauses: this.failsafe.active,
    };
  }

  /** Bytes used by the data directory (SYS METRIC storage). */
  async storageBytes(): Promise<number> {
    const usage = (await this.pool.run({ kind: 'diskUsage', dir: this.dataDir })) as TaskResult<{ bytes: number }>;
    if (!usage.ok) throw new FrostError(ErrorCode.io, describeFailure(usage.failure));
    return usage.bytes;
  }

  /**
   * The names under rsnap/ that hold a complete save (RESP LSSNAP), in name order: the listing
   * `frostkv snapshots list` prints (the findSaves task), keeping the named saves whose
   * MANIFEST, written last, reads back. Runs in a worker, so the event loop never waits on it.
   */
  async namedSnapshots(): Promise<string[]> {
    const found = (await this.pool.run({ kind: 'findSaves', dataDir: this.dataDir })) as TaskResult<{ saves: SaveListing[] }>;
    if (!found.ok) throw new FrostError(ErrorCode.io, describeFailure(found.failure));
    const prefix = `${kRsnapDirName}/`;
    const names = found.saves.filter((save) => save.kind === 'named' && save.manifest !== null).map((save) => save.location.slice(prefix.length));
    return names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  // ------------------------------------------------------------ shutdown

  /**
   * Stop the timers, let in-flight saves and snapshots finish, then run the final live save
   * (unless saveOnShutdown is false), retrying every `retryEveryMs` until it succeeds or
   * `signal` aborts, in which case it throws ERR_SHUTDOWN_SAVE_ABANDONED saying what is lost.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    this.closing = true;
    if (this.bgsaveTimer !== null) clearTimeout(this.bgsaveTimer);
    if (this.snapshotTimer !== null) clearTimeout(this.snapshotTimer);
    await Promise.allSettled([...this.running]);
    try {
      const finalSave = options.finalSave ?? 'configured';
      if (finalSave === 'always' || (finalSave === 'configured' && this.settings.saveOnShutdown)) {
        await this.finalSave(options.signal, options.retryEveryMs ?? kShutdownRetryEveryMs);
      }
    } finally {
      // An abandoned save may still be writing in a worker: its owner releases the lock once
      // the pool is torn down (releaseLock), so no other process starts on a directory in use.
      if (this.jobs.size === 0) this.releaseLock();
    }
  }

  /** Release the data directory lock (idempotent). */
  releaseLock(): void {
    this.lock?.release();
    this.lock = null;
  }

  private async finalSave(signal: AbortSignal | undefined, retryEveryMs: number): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      // A save still running when the caller gives up is left to the worker pool's teardown:
      // cut off like a crash, which leaves data/ks as the last successful save.
      const result = await untilAborted(this.liveSave('shutdown'), signal);
      if (result === kAborted) throw this.abandoned();
      if (result.ok) return;
      const failure = result.report?.failure;
      this.logger.error(
        `final save attempt ${attempt} failed${failure === undefined || failure === null ? '' : `: ${describeFailure(failure)}`}; retrying in ${retryEveryMs / 1000} s`,
      );
      if (await abortedWithin(retryEveryMs, signal)) throw this.abandoned();
    }
  }

  private abandoned(): FrostError {
    const lost = this.engine.changeCount - this.lastSavedChangeCount;
    const since = this.lastSaveTimeMs === null ? 'since this database was created' : `since ${new Date(this.lastSaveTimeMs).toISOString()}`;
    return new FrostError(
      ErrorCode.shutdownSaveAbandoned,
      `gave up on the final save: ${lost} changes made ${since} are lost (the last successful save in ${this.liveDir} is intact)`,
    );
  }
}

const kAborted = Symbol('aborted');

/** Wait `ms`; true (at once, the timer cleared) if `signal` aborts first. */
function abortedWithin(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted === true) return Promise.resolve(true);
  return new Promise((resolveWait) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolveWait(true);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolveWait(false);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `work`'s result, or kAborted as soon as `signal` aborts (at once if it already has). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T | typeof kAborted> {
  if (signal === undefined) return work;
  if (signal.aborted) return Promise.resolve(kAborted);
  return new Promise((resolveRace, rejectRace) => {
    const onAbort = (): void => resolveRace(kAborted);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolveRace(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        rejectRace(error);
      },
    );
  });
}
