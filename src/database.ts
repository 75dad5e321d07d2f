/**
 * Database: the embedded API (docs/behaviour.md, Embedded). One object owns the engine, the worker pool
 * and persistence for one data directory; the server wraps the same object.
 *
 * Guarantees: `open()` resolves only after the live save is loaded (or refuses to, with the
 * file and check named); reads and writes through handles are synchronous and never wait on
 * disk; `close()` resolves after the final save (unless disabled) and releases the data
 * directory lock and the worker threads.
 */

import { EventEmitter } from 'node:events';
import { resolve } from 'node:path';
import { ExpirySweeper } from './engine/expiry.js';
import { Engine } from './engine/engine.js';
import type { TableHandle } from './engine/handle.js';
import { parseModel, type TableModel } from './engine/model.js';
import { parseEntity } from './engine/names.js';
import { badArgument } from './engine/arguments.js';
import type { FrostConfig, PartialConfig } from './config/types.js';
import { configForOpen } from './config/object.js';
import { createWorkerPool, defaultWorkerThreads, type WorkerPool } from './persist/worker-pool.js';
import { Persistence, type CloseOptions, type FaultInjector, type LiveSaveResult, type PersistenceStatus, type SnapshotResult } from './persist/persistence.js';
import { ErrorCode, FrostError } from './util/errors.js';
import { stderrLogger, type Logger } from './util/log.js';
import type { PersistenceEvent, ReadOnlyEvent, ReadWriteEvent, SaveEvent, SaveFailedEvent, SaveSkippedEvent } from './persist/events.js';

/** The events a Database emits (each also written to its logger). */
export interface DatabaseEvents {
  save: [SaveEvent];
  saveFailed: [SaveFailedEvent];
  saveSkipped: [SaveSkippedEvent];
  readOnly: [ReadOnlyEvent];
  readWrite: [ReadWriteEvent];
}

export interface OpenOptions {
  /** No data directory, no saves: a purely in-memory database. */
  inMemory?: boolean;
  /** Run the final live save on close (default true; the server's --nosave turns it off). */
  saveOnShutdown?: boolean;
  /**
   * Where log lines go. Default: warnings and errors (failed saves, read-only mode) to stderr;
   * pass `silentLogger`-like no-op functions to silence it, or adapt your own logger.
   */
  logger?: Logger;
  /** Testing hook: make the file-system seam fail (see src/persist/fs-seam.ts). */
  faults?: FaultInjector;
}

export interface DatabaseStatus {
  keyCount: number;
  tableCount: number;
  keyspaceCount: number;
  dataBytes: number;
  heapUsedBytes: number;
  readOnly: boolean;
  persistence: PersistenceStatus | null;
}

export class Database extends EventEmitter<DatabaseEvents> {
  readonly config: FrostConfig;
  readonly engine: Engine;
  private readonly pool: WorkerPool | null;
  readonly persistence: Persistence | null;
  /** Removes expired keys nobody reads, in slices of about 1 ms (src/engine/expiry.ts). */
  readonly expiry: ExpirySweeper;
  private closed = false;

  private constructor(config: FrostConfig, engine: Engine, pool: WorkerPool | null, persistence: Persistence | null) {
    super();
    this.config = config;
    this.engine = engine;
    this.pool = pool;
    this.persistence = persistence;
    this.expiry = new ExpirySweeper(engine);
    this.expiry.start();
  }

  static async open(partial: PartialConfig = {}, options: OpenOptions = {}): Promise<Database> {
    // The server's validator (src/config/object.ts): refuses unknown keys, bad values, half sections.
    const config = configForOpen(partial);
    const engine = new Engine({ keyMaxBytes: config.limits.keyMaxBytes, valueMaxBytes: config.limits.valueMaxBytes });
    if (options.inMemory === true) return new Database(config, engine, null, null);
    const pool = createWorkerPool(config.workers.threads > 0 ? config.workers.threads : defaultWorkerThreads());
    const logger = options.logger ?? stderrLogger;
    // Persistence exists before the Database does; its events are forwarded once it does.
    let forward: (event: PersistenceEvent) => void = () => undefined;
    const persistence = new Persistence(
      engine,
      pool,
      {
        dataDir: resolve(config.server.dataDir),
        bgsave: config.bgsave,
        snapshot: config.snapshot,
        saveOnShutdown: options.saveOnShutdown ?? true,
        restoreFrom: config.restore,
      },
      { logger, onEvent: (event) => forward(event), ...(options.faults === undefined ? {} : { faults: options.faults }) },
    );
    try {
      await persistence.open();
    } catch (error) {
      await pool.destroy();
      throw error;
    }
    // From here on splits and copy-on-write take pre-touched buffers allocated by a worker.
    void engine.pool.attachRefill((metas, heaps) => pool.run({ kind: 'allocate', metas, heaps }));
    const db = new Database(config, engine, pool, persistence);
    forward = (event) => db.deliver(event, logger);
    return db;
  }

  /** Emit a persistence event; a listener that throws is logged, never breaks the save's bookkeeping. */
  private deliver(event: PersistenceEvent, logger: Logger): void {
    try {
      (this.emit as (name: string, payload: PersistenceEvent) => boolean)(event.type, event);
    } catch (error) {
      logger.error(`a '${event.type}' event listener threw: ${(error as Error).message}`);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new FrostError(ErrorCode.closed, 'the database is closed');
  }

  private needPersistence(): Persistence {
    this.checkOpen();
    if (this.persistence === null) throw new FrostError(ErrorCode.inMemory, 'this database was opened in memory: it has no data directory');
    return this.persistence;
  }

  // ------------------------------------------------------------ data

  /** A handle on `ks:tbl` (default `default:default`). */
  table(entity = 'default:default'): TableHandle {
    this.checkOpen();
    return this.engine.table(entity);
  }

  createKeyspace(name: string): void {
    this.checkOpen();
    this.engine.createKeyspace(name);
  }

  dropKeyspace(name: string, options: { force?: boolean } = {}): void {
    this.checkOpen();
    this.engine.dropKeyspace(name, options);
  }

  /** Create `ks:tbl` with a model such as `keymap(str,binstr)` or a TableModel object. */
  createTable(entity: string, model: string | TableModel = 'keymap(binstr,binstr)', options: { volatile?: boolean } = {}): void {
    this.checkOpen();
    const parsed = typeof model === 'string' ? parseModel(model, options.volatile === true ? ['volatile'] : []) : model;
    this.engine.createTable(entity, options.volatile === undefined ? parsed : { ...parsed, volatile: options.volatile });
  }

  dropTable(entity: string): void {
    this.checkOpen();
    this.engine.dropTable(entity);
  }

  keyspaces(): string[] {
    this.checkOpen();
    return this.engine.keyspaceNames();
  }

  tables(keyspace: string): string[] {
    this.checkOpen();
    return this.engine.tableNames(keyspace);
  }

  describeTable(entity: string): TableModel {
    this.checkOpen();
    return this.engine.describe(parseEntity(entity, null, 'describeTable'));
  }

  // ------------------------------------------------------------ persistence

  /** Save to data/ks now (always runs, even when nothing changed). */
  save(): Promise<LiveSaveResult> {
    return this.needPersistence().liveSave('manual');
  }

  /**
   * MKSNAP: without a name a local snapshot in snaps/ (needs snapshots configured), with a name
   * a named snapshot in rsnap/<name>. Resolves once the snapshot is durable and published; the
   * result's `code` says what happened (`ok`, `disabled`, `busy`, `invalid-name`, `duplicate`,
   * `failed`).
   */
  snapshot(name?: string): Promise<SnapshotResult> {
    if (name !== undefined && typeof name !== 'string') return Promise.reject(badArgument('snapshot', 'name', 'a string, or nothing for a local snapshot', name));
    const persistence = this.needPersistence();
    return name === undefined ? persistence.mkSnapshot() : persistence.mkNamedSnapshot(name);
  }

  status(): DatabaseStatus {
    const stats = this.engine.stats();
    return {
      keyCount: stats.keyCount,
      tableCount: stats.tableCount,
      keyspaceCount: this.engine.keyspaceNames().length,
      dataBytes: stats.dataBytes,
      heapUsedBytes: process.memoryUsage().heapUsed,
      readOnly: this.engine.readOnly,
      persistence: this.persistence?.status() ?? null,
    };
  }

  /**
   * Stop serving, finish in-flight snapshots, run the final save (retrying every 10 s until it
   * succeeds or `signal` aborts), release the data directory and the worker threads.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.expiry.stop();
    this.engine.markClosed();
    const refillLanded = this.engine.pool.detachRefill();
    try {
      await this.persistence?.close(options);
    } finally {
      await refillLanded;
      await this.pool?.destroy();
      this.persistence?.releaseLock();
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }
}

/** Open a database: the same config object as the server (see src/config/types.ts). */
export function open(config: PartialConfig = {}, options: OpenOptions = {}): Promise<Database> {
  return Database.open(config, options);
}
