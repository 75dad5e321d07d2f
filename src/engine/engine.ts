/**
 * The engine: keyspaces of tables, DDL, the read-only (failsafe) state, and the one cut that
 * freezes every table of every keyspace at the same instant.
 *
 * Guarantees:
 * - Keyspace `default` with table `default:default` (keymap(binstr,binstr)) always exists and
 *   cannot be dropped; keyspace `system` is reserved. It holds one table, `system:auth` (user
 *   name -> SHA-256 digest of the user's token), which no lookup, DDL or listing reaches: only
 *   `authTable` (src/auth/users.ts) reads and writes it. Every cut carries it once it holds a
 *   user, and a load puts it back, so users survive saves, restarts and restores; no DROP path
 *   touches it.
 * - Every failure is a FrostError with a stable code (src/util/errors.ts).
 * - `freeze()` runs synchronously on the main thread, so no write can land between two tables'
 *   cuts: the EngineCut is one point in time across the whole database.
 * - While read-only, every write through a handle or DDL throws ERR_READ_ONLY before changing
 *   anything.
 */

import { ErrorCode, FrostError } from '../util/errors.js';
import { BufferPool, kDefaultPoolMaxBytes } from '../table/pool.js';
import { Table, kDefaultKeyMaxBytes, kDefaultValueMaxBytes } from '../table/table.js';
import type { FrozenTable } from '../table/generation.js';
import { checkContainerName, kAuthTable, kDefaultKeyspace, kDefaultTable, kSystemKeyspace, parseEntity, type EntityAddress } from './names.js';
import { checkModel, kDefaultModel, type TableModel } from './model.js';
import { ValueType } from './value.js';
import { hashEncoding, kHashReferenceBytes, kHashTable, referenceId } from './small-hash.js';

/** The model of `system:auth`: user names (ASCII) to 32-byte token digests. */
export const kAuthTableModel: TableModel = { key: 'str', value: 'binstr', volatile: false };
import { TableHandle } from './handle.js';
import { badArgument, checkOptionsArgument, checkStringArgument } from './arguments.js';

export interface EngineOptions {
  keyMaxBytes?: number;
  valueMaxBytes?: number;
  poolMaxBytes?: number;
  /** Where tables get their hash seeds (default: random). The save simulation makes them seeded. */
  hashSeeds?: () => number;
  /** The clock key expiry is judged by, ms since the epoch (default Date.now; the simulation drives its own). */
  clock?: () => number;
}

/** Told after a key changes through any handle or expires, and before its whole table is cleared (WATCH). */
export interface KeyChangeListener {
  keyChanged(tableId: number, bytes: Uint8Array, offset: number, length: number): void;
  tableCleared(tableId: number): void;
}

let nextTableId = 1;

export class TableEntry {
  /** Unique per table object in this process (a re-created table gets a new one). */
  readonly id = nextTableId++;
  readonly keyspace: string;
  readonly name: string;
  readonly model: TableModel;
  readonly table: Table;
  dropped = false;
  /** Connections whose current entity is this table (a table in use cannot be dropped). */
  uses = 0;
  /** Collection tables of this table's large hashes, by id (ARCHITECTURE.md "Collections"). */
  readonly collections = new Map<number, Table>();
  nextCollectionId = 1;
  constructor(keyspace: string, name: string, model: TableModel, table: Table) {
    this.keyspace = keyspace;
    this.name = name;
    this.model = model;
    this.table = table;
  }
}

export class KeyspaceEntry {
  readonly name: string;
  readonly tables = new Map<string, TableEntry>();
  uses = 0;
  constructor(name: string) {
    this.name = name;
  }
}

/** One table as captured by a cut. `frozen` is null for volatile tables (no data is saved). */
export interface CutTable {
  keyspace: string;
  /** A collection table's name is `<parent>#<id>` (no table name can contain `#`). */
  name: string;
  model: TableModel;
  seed: number;
  frozen: FrozenTable | null;
  /** Set for a collection table: the table whose record names it, and its id. */
  collection?: { parent: string; id: number };
}

/** Collection tables map fields to values, both bytes. */
export const kCollectionModel: TableModel = { key: 'binstr', value: 'binstr', volatile: false };

/** The name a collection table goes by in cuts and saves. */
export function collectionTableName(parent: string, id: number): string {
  return `${parent}#${id}`;
}

/** A table as a save lists it (a collection table names its parent and id). */
export interface TableDefinition {
  keyspace: string;
  table: string;
  model: TableModel;
  seed: number;
  collection?: { parent: string; id: number };
}

export interface EngineCut {
  generation: number;
  cutTimeMs: number;
  /** Duration of the cut itself on the main thread. */
  pauseMs: number;
  /** Writes counted by the engine up to this cut (see Engine.changeCount). */
  changeCount: number;
  tables: CutTable[];
  keyspaces: string[];
  release(): void;
}

export class Engine {
  readonly pool: BufferPool;
  readonly keyMaxBytes: number;
  readonly valueMaxBytes: number;
  private readonly spaces = new Map<string, KeyspaceEntry>();
  /** `system:auth`, kept apart from `spaces` so no user-facing path can reach it. */
  private authEntry: TableEntry;
  private readonly hashSeeds: (() => number) | null;
  private generation = 0;
  /** Monotonic count of writes (keys written, DDL) since the engine started. */
  private changes = 0;
  private readOnlyReason: string | null = null;
  private closed = false;
  readonly clock: () => number;
  /** Key-change listeners (WATCH); empty in the common case, so writes pay one length check. */
  readonly keyListeners: KeyChangeListener[] = [];

  constructor(options: EngineOptions = {}) {
    this.pool = new BufferPool(options.poolMaxBytes ?? kDefaultPoolMaxBytes);
    this.keyMaxBytes = options.keyMaxBytes ?? kDefaultKeyMaxBytes;
    this.valueMaxBytes = options.valueMaxBytes ?? kDefaultValueMaxBytes;
    this.hashSeeds = options.hashSeeds ?? null;
    this.clock = options.clock ?? Date.now;
    const space = new KeyspaceEntry(kDefaultKeyspace);
    this.spaces.set(space.name, space);
    space.tables.set(kDefaultTable, this.newEntry(kDefaultKeyspace, kDefaultTable, kDefaultModel));
    this.authEntry = this.newEntry(kSystemKeyspace, kAuthTable, kAuthTableModel);
  }

  /** The auth table (`system:auth`); only src/auth/users.ts writes it. */
  get authTable(): Table {
    return this.authEntry.table;
  }

  private newEntry(keyspace: string, name: string, model: TableModel, seed?: number): TableEntry {
    const table = new Table({
      pool: this.pool,
      keyMaxBytes: this.keyMaxBytes,
      valueMaxBytes: this.valueMaxBytes,
      clock: this.clock,
      ...(seed !== undefined ? { seed } : this.hashSeeds !== null ? { seed: this.hashSeeds() } : {}),
    });
    const entry = new TableEntry(keyspace, name, model, table);
    table.onExpired = (bytes, offset, length) => {
      this.changes++;
      this.keyChanged(entry.id, bytes, offset, length);
    };
    // A hash record that names a collection table takes the table with it when it goes.
    table.onDropped = (type, bytes, offset, length) => {
      if (type === ValueType.hash && length === kHashReferenceBytes && hashEncoding(bytes, offset) === kHashTable) {
        this.retireCollection(entry, referenceId(bytes, offset));
      }
    };
    return entry;
  }

  private newCollectionTable(seed?: number): Table {
    return new Table({
      pool: this.pool,
      keyMaxBytes: this.keyMaxBytes,
      valueMaxBytes: this.valueMaxBytes,
      clock: this.clock,
      ...(seed !== undefined ? { seed } : this.hashSeeds !== null ? { seed: this.hashSeeds() } : {}),
    });
  }

  /** A new, empty collection table owned by `entry` (a hash that outgrew its small encoding). */
  createCollection(entry: TableEntry): { id: number; table: Table } {
    const id = entry.nextCollectionId++;
    const table = this.newCollectionTable();
    entry.collections.set(id, table);
    return { id, table };
  }

  /** Its key went: clear the collection table (its memory is released like a dropped table's). */
  private retireCollection(entry: TableEntry, id: number): void {
    const table = entry.collections.get(id);
    if (table === undefined) return;
    entry.collections.delete(id);
    table.clear();
  }

  /** Every collection of `entry` goes (FLUSHDB, DROP, restore). */
  clearCollections(entry: TableEntry): void {
    for (const table of entry.collections.values()) table.clear();
    entry.collections.clear();
  }

  /** The engine's clock: ms since the epoch, what expiry times are compared with. */
  nowMs(): number {
    return this.clock();
  }

  /** Register a key-change listener; returns the function that removes it. */
  addKeyChangeListener(listener: KeyChangeListener): () => void {
    this.keyListeners.push(listener);
    return () => {
      const at = this.keyListeners.indexOf(listener);
      if (at >= 0) this.keyListeners.splice(at, 1);
    };
  }

  /** Tell the listeners that a key of table `tableId` changed (called after the change). */
  keyChanged(tableId: number, bytes: Uint8Array, offset: number, length: number): void {
    const listeners = this.keyListeners;
    for (let i = 0; i < listeners.length; i++) (listeners[i] as KeyChangeListener).keyChanged(tableId, bytes, offset, length);
  }

  /** Tell the listeners that every key of table `tableId` is about to go (called before the clear). */
  tableCleared(tableId: number): void {
    for (const listener of this.keyListeners) listener.tableCleared(tableId);
  }

  /** Every table with data (user tables and system:auth), for the expiry sweep. */
  *dataTables(): IterableIterator<Table> {
    for (const space of this.spaces.values()) for (const entry of space.tables.values()) yield entry.table;
  }

  /** Every table object with its name in cuts (`ks:tbl`, collections `ks:tbl#id`), for checks. */
  *allTables(): IterableIterator<[string, Table]> {
    for (const space of this.spaces.values()) {
      for (const entry of space.tables.values()) {
        yield [`${space.name}:${entry.name}`, entry.table];
        for (const [id, table] of entry.collections) yield [`${space.name}:${collectionTableName(entry.name, id)}`, table];
      }
    }
  }

  // ------------------------------------------------------------ state

  get changeCount(): number {
    return this.changes;
  }

  /** Count `n` writes (called by handles and DDL). */
  noteChanges(n: number): void {
    this.changes += n;
  }

  get readOnly(): boolean {
    return this.readOnlyReason !== null;
  }

  get readOnlyCause(): string | null {
    return this.readOnlyReason;
  }

  /** Enter the failsafe read-only state (docs/persistence.md, Failsafe). */
  setReadOnly(reason: string): void {
    this.readOnlyReason = reason;
  }

  clearReadOnly(): void {
    this.readOnlyReason = null;
  }

  /** Throws ERR_READ_ONLY or ERR_CLOSED when writes are not allowed now. */
  checkWritable(): void {
    if (this.closed) throw new FrostError(ErrorCode.closed, 'the database is closed');
    if (this.readOnlyReason !== null) {
      throw new FrostError(ErrorCode.readOnly, `writes are refused after a failed save: ${this.readOnlyReason}`);
    }
  }

  checkOpen(): void {
    if (this.closed) throw new FrostError(ErrorCode.closed, 'the database is closed');
  }

  markClosed(): void {
    this.closed = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ------------------------------------------------------------ lookup

  keyspace(name: string): KeyspaceEntry {
    const space = this.spaces.get(name);
    if (space === undefined) throw new FrostError(ErrorCode.keyspaceNotFound, `keyspace ${name} does not exist`);
    return space;
  }

  hasKeyspace(name: string): boolean {
    return this.spaces.has(name);
  }

  entry(address: EntityAddress): TableEntry {
    const table = this.keyspace(address.keyspace).tables.get(address.table);
    if (table === undefined) {
      throw new FrostError(ErrorCode.tableNotFound, `table ${address.keyspace}:${address.table} does not exist`);
    }
    return table;
  }

  /** A handle on `entity` (`ks:tbl`, or `tbl` / `:tbl` in `currentKeyspace`). */
  table(entity: string | EntityAddress = `${kDefaultKeyspace}:${kDefaultTable}`, currentKeyspace: string | null = kDefaultKeyspace): TableHandle {
    const address = this.address(entity, currentKeyspace, 'table');
    return new TableHandle(this, this.entry(address));
  }

  keyspaceNames(): string[] {
    return [...this.spaces.keys()];
  }

  tableNames(keyspace: string): string[] {
    checkStringArgument(keyspace, 'tables', 'keyspace');
    return [...this.keyspace(keyspace).tables.keys()];
  }

  /** `ks:tbl` text or an address object; anything else is ERR_BAD_ARGUMENT naming `method`. */
  private address(entity: string | EntityAddress, currentKeyspace: string | null, method: string): EntityAddress {
    if (typeof entity === 'string') return parseEntity(entity, currentKeyspace, method);
    if (entity === null || typeof entity !== 'object') throw badArgument(method, 'entity', 'a string such as `ks:tbl`', entity);
    return entity;
  }

  // ------------------------------------------------------------ DDL

  createKeyspace(name: string): void {
    checkStringArgument(name, 'createKeyspace', 'name');
    this.checkWritable();
    checkContainerName(name);
    if (name === kSystemKeyspace) throw new FrostError(ErrorCode.protectedObject, 'keyspace system is reserved');
    if (this.spaces.has(name)) throw new FrostError(ErrorCode.alreadyExists, `keyspace ${name} already exists`);
    this.spaces.set(name, new KeyspaceEntry(name));
    this.changes++;
  }

  /**
   * Drop a keyspace; a non-empty one needs `force` (Skytable 0.7 could never reach force).
   * Checks in Skytable's order: protected, not found, not empty (without force), in use.
   */
  dropKeyspace(name: string, options: { force?: boolean } = {}): void {
    checkStringArgument(name, 'dropKeyspace', 'name');
    checkOptionsArgument(options, 'dropKeyspace');
    this.checkWritable();
    checkContainerName(name);
    if (name === kDefaultKeyspace || name === kSystemKeyspace) {
      throw new FrostError(ErrorCode.protectedObject, `keyspace ${name} cannot be dropped`);
    }
    const space = this.keyspace(name);
    // As Skytable 0.7: without force, "not empty" is checked before "in use" (whoever uses it).
    if (space.tables.size > 0 && options.force !== true) {
      throw new FrostError(ErrorCode.keyspaceNotEmpty, `keyspace ${name} still has tables (use force)`);
    }
    if (space.uses > 0) throw new FrostError(ErrorCode.stillInUse, `keyspace ${name} is in use by a connection`);
    for (const entry of space.tables.values()) {
      if (entry.uses > 0) throw new FrostError(ErrorCode.stillInUse, `table ${name}:${entry.name} is in use by a connection`);
    }
    for (const entry of space.tables.values()) this.retireEntry(entry);
    this.spaces.delete(name);
    this.changes++;
  }

  createTable(entity: string | EntityAddress, model: TableModel, options: { seed?: number; currentKeyspace?: string | null } = {}): void {
    const address = this.address(entity, options.currentKeyspace ?? null, 'createTable');
    if (model === null || typeof model !== 'object') throw badArgument('createTable', 'model', 'a model such as `keymap(str,binstr)` or a TableModel object', model);
    this.checkWritable();
    checkContainerName(address.keyspace);
    checkContainerName(address.table);
    const checked = checkModel(model);
    if (address.keyspace === kSystemKeyspace) throw new FrostError(ErrorCode.protectedObject, 'keyspace system is reserved');
    const space = this.keyspace(address.keyspace);
    if (space.tables.has(address.table)) {
      throw new FrostError(ErrorCode.alreadyExists, `table ${address.keyspace}:${address.table} already exists`);
    }
    space.tables.set(address.table, this.newEntry(address.keyspace, address.table, checked, options.seed));
    this.changes++;
  }

  dropTable(entity: string | EntityAddress, currentKeyspace: string | null = null): void {
    const address = this.address(entity, currentKeyspace, 'dropTable');
    this.checkWritable();
    if (address.keyspace === kDefaultKeyspace && address.table === kDefaultTable) {
      throw new FrostError(ErrorCode.protectedObject, 'table default:default cannot be dropped');
    }
    if (address.keyspace === kSystemKeyspace) throw new FrostError(ErrorCode.protectedObject, 'keyspace system is reserved');
    const entry = this.entry(address);
    if (entry.uses > 0) throw new FrostError(ErrorCode.stillInUse, `table ${address.keyspace}:${address.table} is in use by a connection`);
    this.keyspace(address.keyspace).tables.delete(address.table);
    this.retireEntry(entry);
    this.changes++;
  }

  /** The table's memory goes back through the same O(1) clear path as FLUSHDB. */
  private retireEntry(entry: TableEntry): void {
    this.tableCleared(entry.id);
    entry.dropped = true;
    entry.table.clear();
    this.clearCollections(entry);
  }

  describe(address: EntityAddress): TableModel {
    return this.entry(address).model;
  }

  // ------------------------------------------------------------ generations

  /**
   * The cut: freeze every table of every keyspace in one synchronous step. Volatile tables are
   * listed (their definitions are saved) but not frozen (their data is not).
   */
  freeze(): EngineCut {
    // No open check: the final save on shutdown freezes after handles stopped serving.
    const started = performance.now();
    // One time for the whole cut: a key is in it exactly when it had not expired by then.
    const cutMs = this.clock();
    const tables: CutTable[] = [];
    for (const space of this.spaces.values()) {
      for (const entry of space.tables.values()) {
        tables.push({
          keyspace: space.name,
          name: entry.name,
          model: entry.model,
          seed: entry.table.seed,
          frozen: entry.model.volatile ? null : entry.table.freeze(cutMs),
        });
        // Invariant 7: a hash's collection table is cut in the same step as the record naming it.
        if (entry.model.volatile) continue;
        for (const [id, table] of entry.collections) {
          tables.push({
            keyspace: space.name,
            name: collectionTableName(entry.name, id),
            model: kCollectionModel,
            seed: table.seed,
            frozen: table.freeze(cutMs),
            collection: { parent: entry.name, id },
          });
        }
      }
    }
    // The auth table is carried once it holds a user, so saves of a server that never used
    // auth look exactly as before (and format-1 readers see no new keyspace).
    const keyspaces = [...this.spaces.keys()];
    if (this.authEntry.table.size > 0) {
      keyspaces.push(kSystemKeyspace);
      tables.push({ keyspace: kSystemKeyspace, name: kAuthTable, model: kAuthTableModel, seed: this.authEntry.table.seed, frozen: this.authEntry.table.freeze(cutMs) });
    }
    const pauseMs = performance.now() - started;
    this.generation++;
    let released = false;
    return {
      generation: this.generation,
      cutTimeMs: Date.now(),
      pauseMs,
      changeCount: this.changes,
      tables,
      keyspaces,
      release(): void {
        if (released) return;
        released = true;
        for (const table of tables) table.frozen?.release();
      },
    };
  }

  /** Continue generation numbering after a load (so generations grow across restarts). */
  setGeneration(generation: number): void {
    if (generation > this.generation) this.generation = generation;
  }

  get currentGeneration(): number {
    return this.generation;
  }

  /** Replace all keyspaces and tables (used by startup load and restore; engine must be fresh). */
  installDefinitions(definitions: TableDefinition[], keyspaces: string[]): Map<string, Table> {
    const created = new Map<string, Table>();
    for (const name of keyspaces) {
      if (name === kSystemKeyspace) continue;
      if (!this.spaces.has(name)) {
        checkContainerName(name);
        this.spaces.set(name, new KeyspaceEntry(name));
      }
    }
    const collections: TableDefinition[] = [];
    for (const definition of definitions) {
      if (definition.collection !== undefined) {
        collections.push(definition);
        continue;
      }
      if (definition.keyspace === kSystemKeyspace) {
        this.installAuthTable(definition);
        created.set(`${kSystemKeyspace}:${kAuthTable}`, this.authEntry.table);
        continue;
      }
      const space = this.keyspace(definition.keyspace);
      const old = space.tables.get(definition.table);
      if (old !== undefined) this.retireEntry(old);
      const entry = this.newEntry(definition.keyspace, definition.table, checkModel(definition.model), definition.seed);
      space.tables.set(definition.table, entry);
      created.set(`${definition.keyspace}:${definition.table}`, entry.table);
    }
    for (const definition of collections) this.installCollection(definition, created);
    return created;
  }

  /** A saved collection table, under the table whose records name it. */
  private installCollection(definition: TableDefinition, created: Map<string, Table>): void {
    const { parent, id } = definition.collection!;
    const entry = this.spaces.get(definition.keyspace)?.tables.get(parent);
    if (entry === undefined || entry.model.volatile || definition.table !== collectionTableName(parent, id) || entry.collections.has(id)) {
      throw new FrostError(ErrorCode.corruptSave, `collection table ${definition.keyspace}:${definition.table} has no table ${parent} to belong to, or a bad name`);
    }
    const table = this.newCollectionTable(definition.seed);
    entry.collections.set(id, table);
    entry.nextCollectionId = Math.max(entry.nextCollectionId, id + 1);
    created.set(`${definition.keyspace}:${definition.table}`, table);
  }

  /**
   * After a load: collection tables that no hash record names go (their key expired while
   * the save sat on disk, or it had expired at the cut). Reads the hash records of tables that
   * have collections; returns how many went.
   */
  dropOrphanCollections(): number {
    let dropped = 0;
    for (const space of this.spaces.values()) {
      for (const entry of space.tables.values()) {
        if (entry.collections.size === 0) continue;
        const named = new Set<number>();
        entry.table.forEachLive((type, bytes, offset, length) => {
          if (type === ValueType.hash && length === kHashReferenceBytes && hashEncoding(bytes, offset) === kHashTable) named.add(referenceId(bytes, offset));
        });
        for (const id of [...entry.collections.keys()]) {
          if (named.has(id)) continue;
          this.retireCollection(entry, id);
          dropped++;
        }
      }
    }
    return dropped;
  }

  /** A saved `system:auth`; any other table in `system`, or another model, is not ours. */
  private installAuthTable(definition: { keyspace: string; table: string; model: TableModel; seed: number }): void {
    const { model } = definition;
    if (definition.table !== kAuthTable || model.key !== kAuthTableModel.key || model.value !== kAuthTableModel.value || model.volatile) {
      throw new FrostError(ErrorCode.protectedObject, `keyspace system holds only table ${kAuthTable} (${kAuthTableModel.key} -> ${kAuthTableModel.value}); found ${definition.table}`);
    }
    this.retireEntry(this.authEntry);
    this.authEntry = this.newEntry(kSystemKeyspace, kAuthTable, kAuthTableModel, definition.seed);
  }

  /** Memory and size figures across all tables. */
  stats(): { keyCount: number; tableCount: number; dataBytes: number; cowBytesNow: number; cowBytesPeak: number } {
    let keyCount = 0;
    let tableCount = 0;
    let dataBytes = 0;
    let cowBytesNow = 0;
    let cowBytesPeak = 0;
    for (const space of this.spaces.values()) {
      for (const entry of space.tables.values()) {
        const stats = entry.table.stats();
        keyCount += stats.entryCount;
        tableCount++;
        dataBytes += stats.dataBytes;
        cowBytesNow += stats.cowBytesNow;
        cowBytesPeak += stats.cowBytesPeak;
        for (const collection of entry.collections.values()) {
          const own = collection.stats();
          dataBytes += own.dataBytes;
          cowBytesNow += own.cowBytesNow;
          cowBytesPeak += own.cowBytesPeak;
        }
      }
    }
    return { keyCount, tableCount, dataBytes, cowBytesNow, cowBytesPeak };
  }

  resetCowPeaks(): void {
    for (const space of this.spaces.values()) for (const entry of space.tables.values()) entry.table.resetCowPeak();
  }

  *allEntries(): IterableIterator<TableEntry> {
    for (const space of this.spaces.values()) yield* space.tables.values();
  }
}
