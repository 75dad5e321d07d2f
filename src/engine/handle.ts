/**
 * TableHandle: the typed, checked way to read and write one table (embedded API and servers).
 *
 * Guarantees:
 * - `str` keys and values are valid UTF-8 (Buffers are checked; strings must be well formed),
 *   else ERR_ENCODING and nothing changes.
 * - KV operations on a list table, and list operations on a KV table, throw ERR_WRONG_MODEL.
 * - Writes throw ERR_READ_ONLY while the engine is read-only, before touching the table.
 * - A handle on a dropped table throws ERR_TABLE_NOT_FOUND.
 * - An argument of the wrong JavaScript type (a number for a key, no value, a string for a
 *   list of values) throws ERR_BAD_ARGUMENT naming the method and the argument, before
 *   anything changes (src/engine/arguments.ts; a typeof test, no allocation).
 * - Values returned are copies: they stay valid whatever the table does next.
 * - A key whose expiry time has passed is missing for every read, count and scan (it is
 *   removed on access and by the engine's sweep); KV reads of a key that holds another type
 *   (a hash) throw ERR_WRONG_TYPE, and a plain `set` replaces any type, as Redis's SET does.
 * - Every change to a key (write, delete, expiry) is reported to the engine's key-change
 *   listeners after it happened (WATCH); with no listener that costs one length check.
 */

import { isUtf8 } from 'node:buffer';
import { ErrorCode, FrostError } from '../util/errors.js';
import { copyOut, type KeyCursor, type KeyInput, type ValueInput } from '../table/table.js';
import { record } from '../table/segment.js';
import { badArgument, checkBytesArgument, checkBytesArrayArgument, checkNumberArgument } from './arguments.js';
import { decodeList, encodeList, listLength } from './list.js';
import { elementType, isListModel, type TableModel } from './model.js';
import { kExpiryMaxMs, kKeepExpiry, kNoExpiry, kTypeNames, valueView, ValueType, type TypeName } from './value.js';
import {
  hashTableBytes,
  copyHashValue,
  hashDelete,
  hashEntries,
  hashGet,
  hashIsLarge,
  hashLength,
  hashRandomField,
  hashScan,
  hashSet,
  largeHashTable,
  setRangesInTable,
  type ArgRanges,
} from './hashes.js';
import type { Engine, TableEntry } from './engine.js';

type WellFormedString = string & { isWellFormed(): boolean };

/** Options of the embedded `set`. */
export interface SetOptions {
  /** Expire this many ms from now (a positive integer). */
  ttlMs?: number;
}

function wrongType(): FrostError {
  return new FrostError(ErrorCode.wrongType, 'the key holds another type of value');
}

function badTime(method: string, argument: string, value: unknown): FrostError {
  return new FrostError(ErrorCode.badArgument, `${method}: ${argument} must be an integer number of ms within range, got ${String(value)}`);
}

function checkText(input: KeyInput | ValueInput, what: string): void {
  const ok = typeof input === 'string' ? (input as WellFormedString).isWellFormed() : isUtf8(input);
  if (!ok) throw new FrostError(ErrorCode.encoding, `${what} is not valid UTF-8`);
}

function checkTextRange(bytes: Uint8Array, offset: number, length: number, what: string): void {
  if (!isUtf8(bytes.subarray(offset, offset + length))) throw new FrostError(ErrorCode.encoding, `${what} is not valid UTF-8`);
}

export class TableHandle {
  private readonly engine: Engine;
  private readonly entry: TableEntry;
  private readonly keyIsStr: boolean;
  private readonly valueIsStr: boolean;
  private readonly isList: boolean;

  constructor(engine: Engine, entry: TableEntry) {
    this.engine = engine;
    this.entry = entry;
    this.keyIsStr = entry.model.key === 'str';
    this.valueIsStr = elementType(entry.model) === 'str';
    this.isList = isListModel(entry.model);
  }

  get keyspace(): string {
    return this.entry.keyspace;
  }

  get name(): string {
    return this.entry.name;
  }

  get model(): TableModel {
    return this.entry.model;
  }

  /** Identifies the table (key-change listeners get it); a re-created table has another. */
  get tableId(): number {
    return this.entry.id;
  }

  /** Whether the table this handle points at has been dropped. */
  get isDropped(): boolean {
    return this.entry.dropped;
  }

  get size(): number {
    this.checkLive();
    return this.entry.table.size;
  }

  private checkLive(): void {
    if (this.entry.dropped) {
      throw new FrostError(ErrorCode.tableNotFound, `table ${this.entry.keyspace}:${this.entry.name} was dropped`);
    }
    this.engine.checkOpen();
  }

  private checkKv(): void {
    this.checkLive();
    if (this.isList) throw new FrostError(ErrorCode.wrongModel, 'this table holds lists; use the list operations');
  }

  private checkListModel(): void {
    this.checkLive();
    if (!this.isList) throw new FrostError(ErrorCode.wrongModel, 'this table does not hold lists');
  }

  /** The key's type (any table) and, for `str` keys, its UTF-8. `method` names the caller in errors. */
  private checkKey(key: KeyInput, method: string): void {
    checkBytesArgument(key, method, 'key');
    if (this.keyIsStr) checkText(key, 'key');
  }

  private checkValue(value: ValueInput, method: string, argument = 'value'): void {
    checkBytesArgument(value, method, argument);
    if (this.valueIsStr) checkText(value, argument);
  }

  private beginWrite(): void {
    this.engine.checkWritable();
  }

  /** Tell key-change listeners about `key` (a write happened). */
  private changed(key: KeyInput): void {
    this.engine.noteChanges(1);
    if (this.engine.keyListeners.length === 0) return;
    const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    this.engine.keyChanged(this.entry.id, bytes, 0, bytes.length);
  }

  private changedRange(bytes: Uint8Array, offset: number, length: number): void {
    this.engine.noteChanges(1);
    if (this.engine.keyListeners.length > 0) this.engine.keyChanged(this.entry.id, bytes, offset, length);
  }

  /** After a successful table lookup: copy the record cursor into `valueView`. */
  private fillView(): void {
    valueView.bytes = record.bytes;
    valueView.offset = record.valueOffset;
    valueView.length = record.valueLength;
    valueView.type = record.type;
    valueView.expiresAtMs = record.expiresAtMs;
  }

  /** Find a key holding a string (KV reads); another type throws ERR_WRONG_TYPE. */
  private lookupString(key: KeyInput): boolean {
    if (!this.entry.table.lookup(key)) return false;
    if (record.type !== ValueType.string) throw wrongType();
    return true;
  }

  /** A relative time in ms (ttlMs) as an absolute expiry time; checked like every argument. */
  private expiryFromTtl(ttlMs: unknown, method: string): number {
    if (typeof ttlMs !== 'number' || !Number.isSafeInteger(ttlMs)) throw badTime(method, 'ttlMs', ttlMs);
    const at = this.engine.nowMs() + ttlMs;
    if (at > kExpiryMaxMs) throw badTime(method, 'ttlMs', ttlMs);
    return at;
  }

  // ------------------------------------------------------------ key/value

  get(key: KeyInput): Buffer | undefined {
    this.checkKv();
    checkBytesArgument(key, 'get', 'key');
    if (!this.lookupString(key)) return undefined;
    return copyOut(record.bytes, record.valueOffset, record.valueLength);
  }

  getString(key: KeyInput): string | undefined {
    this.checkKv();
    checkBytesArgument(key, 'getString', 'key');
    if (!this.lookupString(key)) return undefined;
    return this.entry.table.getString(key);
  }

  has(key: KeyInput): boolean {
    this.checkLive();
    checkBytesArgument(key, 'has', 'key');
    return this.entry.table.has(key);
  }

  /** Length in bytes of the value, or undefined when missing. */
  valueLength(key: KeyInput): number | undefined {
    this.checkKv();
    checkBytesArgument(key, 'valueLength', 'key');
    return this.lookupString(key) ? record.valueLength : undefined;
  }

  /**
   * Insert or overwrite (any type: the key holds this string afterwards). `ttlMs` makes it
   * expire that many ms from now; without it the key has no expiry (as Redis's SET).
   */
  set(key: KeyInput, value: ValueInput, options?: SetOptions): void {
    this.checkKv();
    this.checkKey(key, 'set');
    this.checkValue(value, 'set');
    const expiresAtMs = this.setExpiry(options, 'set');
    this.beginWrite();
    this.entry.table.set(key, value, expiresAtMs);
    this.changed(key);
  }

  private setExpiry(options: SetOptions | undefined, method: string): number {
    if (options === undefined) return kNoExpiry;
    if (options === null || typeof options !== 'object') throw badArgument(method, 'options', 'an object', options);
    if (options.ttlMs === undefined) return kNoExpiry;
    if (typeof options.ttlMs !== 'number' || !(options.ttlMs > 0)) throw badTime(method, 'options.ttlMs', options.ttlMs);
    return this.expiryFromTtl(options.ttlMs, method);
  }

  /** Insert if absent (Skytable SET); returns whether it was inserted. */
  insert(key: KeyInput, value: ValueInput): boolean {
    this.checkKv();
    this.checkKey(key, 'insert');
    this.checkValue(value, 'insert');
    this.beginWrite();
    const done = this.entry.table.insert(key, value);
    if (done) this.changed(key);
    return done;
  }

  /** Overwrite if present (Skytable UPDATE); returns whether it was updated. Keeps no expiry. */
  update(key: KeyInput, value: ValueInput): boolean {
    this.checkKv();
    this.checkKey(key, 'update');
    this.checkValue(value, 'update');
    this.beginWrite();
    const done = this.entry.table.update(key, value);
    if (done) this.changed(key);
    return done;
  }

  delete(key: KeyInput): boolean {
    this.checkLive();
    this.checkKey(key, 'delete');
    this.beginWrite();
    const done = this.entry.table.delete(key);
    if (done) this.changed(key);
    return done;
  }

  // ------------------------------------------------------------ expiry

  /**
   * Make `key` expire `ttlMs` from now; false if it does not exist. A ttl of 0 or less
   * deletes the key now (as Redis's EXPIRE with a time in the past).
   */
  expire(key: KeyInput, ttlMs: number): boolean {
    this.checkLive();
    this.checkKey(key, 'expire');
    return this.expireAt(key, this.expiryFromTtl(ttlMs, 'expire'));
  }

  /** Make `key` expire at `timeMs` (ms since the epoch); false if it does not exist. */
  expireAt(key: KeyInput, timeMs: number): boolean {
    this.checkLive();
    this.checkKey(key, 'expireAt');
    if (typeof timeMs !== 'number' || !Number.isSafeInteger(timeMs) || timeMs > kExpiryMaxMs) throw badTime('expireAt', 'timeMs', timeMs);
    this.beginWrite();
    const table = this.entry.table;
    if (timeMs <= this.engine.nowMs()) {
      const done = table.delete(key);
      if (done) this.changed(key);
      return done;
    }
    const done = table.setExpiry(key, timeMs);
    if (done) this.changed(key);
    return done;
  }

  /** Remove the key's expiry; true if it had one (Redis's PERSIST). */
  persist(key: KeyInput): boolean {
    this.checkLive();
    this.checkKey(key, 'persist');
    this.beginWrite();
    const table = this.entry.table;
    if (!table.lookup(key) || record.expiresAtMs === kNoExpiry) return false;
    table.setExpiry(key, kNoExpiry);
    this.changed(key);
    return true;
  }

  /** Ms until the key expires; null when it never does; undefined when it does not exist. */
  ttl(key: KeyInput): number | null | undefined {
    const at = this.expiresAt(key);
    return at === undefined || at === null ? at : Math.max(0, at - this.engine.nowMs());
  }

  /** The key's expiry time (ms since the epoch); null when none; undefined when missing. */
  expiresAt(key: KeyInput): number | null | undefined {
    this.checkLive();
    checkBytesArgument(key, 'expiresAt', 'key');
    if (!this.entry.table.lookup(key)) return undefined;
    return record.expiresAtMs === kNoExpiry ? null : record.expiresAtMs;
  }

  /** The key's type ('string', 'list', 'hash'), or undefined when it does not exist. */
  type(key: KeyInput): TypeName | undefined {
    this.checkLive();
    checkBytesArgument(key, 'type', 'key');
    if (!this.entry.table.lookup(key)) return undefined;
    return kTypeNames[record.type as keyof typeof kTypeNames] as TypeName;
  }

  /** Read and delete (Skytable POP). */
  pop(key: KeyInput): Buffer | undefined {
    this.checkKv();
    this.checkKey(key, 'pop');
    this.beginWrite();
    if (!this.lookupString(key)) return undefined;
    const value = copyOut(record.bytes, record.valueOffset, record.valueLength);
    this.entry.table.delete(key);
    this.changed(key);
    return value;
  }

  /** Remove every entry in O(1) (FLUSHDB); memory is reclaimed in the background. */
  clear(): void {
    this.checkLive();
    this.beginWrite();
    const had = this.entry.table.size;
    // Listeners hear it first, while they can still see which of their keys existed (WATCH).
    this.engine.tableCleared(this.entry.id);
    this.entry.table.clear();
    this.engine.clearCollections(this.entry);
    this.engine.noteChanges(Math.max(1, had));
  }

  /** A stable view: entries as of the start of iteration, unaffected by later writes. */
  entries(): IterableIterator<[Buffer, Buffer]> {
    this.checkLive();
    return this.entry.table.entries();
  }

  keys(): IterableIterator<Buffer> {
    this.checkLive();
    return this.entry.table.keys();
  }

  [Symbol.iterator](): IterableIterator<[Buffer, Buffer]> {
    return this.entries();
  }

  /** Keys as of now, in batches over a frozen generation; call `close()` when done. */
  keyCursor(): KeyCursor {
    this.checkLive();
    return this.entry.table.keyCursor();
  }

  /** One step of a hash-order cursor scan (RESP SCAN); returns the next cursor, 0 at the end. */
  scanCursor(cursor: number, visit: (bytes: Uint8Array, offset: number, length: number, type: number) => void): number {
    this.checkLive();
    return this.entry.table.scanFrom(cursor, visit);
  }

  /** Up to `limit` keys, in table order, without freezing (LSKEYS). */
  someKeys(limit: number): Buffer[] {
    this.checkLive();
    checkNumberArgument(limit, 'someKeys', 'limit');
    const keys: Buffer[] = [];
    this.entry.table.scanKeys(limit, (bytes, offset, length) => keys.push(copyOut(bytes, offset, length)));
    return keys;
  }

  /**
   * Low-level read for servers: on success `valueView` (src/engine/value.ts) describes the
   * value until the next table operation. No copy, no model or type check.
   */
  lookupRaw(key: KeyInput): boolean {
    this.checkLive();
    checkBytesArgument(key, 'lookupRaw', 'key');
    if (!this.entry.table.lookup(key)) return false;
    this.fillView();
    return true;
  }

  // ------------------------------------------------------------ byte-range access (servers)
  //
  // The same checks as above, for keys and values given as ranges of a receive buffer, so the
  // request path allocates no Buffer or string per argument.

  /** Whether this table's keys / values must be UTF-8 (for all-or-nothing pre-checks). */
  get keysAreText(): boolean {
    return this.keyIsStr;
  }

  get valuesAreText(): boolean {
    return this.valueIsStr;
  }

  get holdsLists(): boolean {
    return this.isList;
  }

  /** Throws ERR_ENCODING when this is a `str`-key table and the range is not UTF-8. */
  checkKeyRange(bytes: Uint8Array, offset: number, length: number): void {
    if (this.keyIsStr) checkTextRange(bytes, offset, length, 'key');
  }

  checkValueRange(bytes: Uint8Array, offset: number, length: number): void {
    if (this.valueIsStr) checkTextRange(bytes, offset, length, 'value');
  }

  /** Throws ERR_WRONG_MODEL unless this is a key/value (not list) table. */
  requireKv(): void {
    this.checkKv();
  }

  requireList(): void {
    this.checkListModel();
  }

  /**
   * Find a key holding a string; on success `valueView` describes the value. A key of another
   * type throws ERR_WRONG_TYPE.
   */
  getRange(bytes: Uint8Array, offset: number, length: number): boolean {
    this.checkKv();
    this.checkKeyRange(bytes, offset, length);
    if (!this.entry.table.lookupRange(bytes, offset, length)) return false;
    if (record.type !== ValueType.string) throw wrongType();
    this.fillView();
    return true;
  }

  /** Find a key of any type; on success `valueView` describes it (type and expiry included). */
  findRange(bytes: Uint8Array, offset: number, length: number): boolean {
    this.checkLive();
    this.checkKeyRange(bytes, offset, length);
    if (!this.entry.table.lookupRange(bytes, offset, length)) return false;
    this.fillView();
    return true;
  }

  /** Presence of a key on a table of any model. */
  hasRange(bytes: Uint8Array, offset: number, length: number): boolean {
    this.checkLive();
    this.checkKeyRange(bytes, offset, length);
    return this.entry.table.lookupRange(bytes, offset, length);
  }

  /**
   * Insert-if-absent, update-if-present or upsert; returns whether anything was written.
   * `expiresAtMs` is an absolute time, kNoExpiry, or kKeepExpiry (keep the key's own);
   * `type` is the record's ValueType (a string unless told).
   */
  writeRange(
    mode: 'upsert' | 'insert' | 'update',
    key: Uint8Array,
    keyOffset: number,
    keyLength: number,
    value: Uint8Array,
    valueOffset: number,
    valueLength: number,
    expiresAtMs: number = kNoExpiry,
    type: number = ValueType.string,
  ): boolean {
    this.checkKv();
    this.checkKeyRange(key, keyOffset, keyLength);
    if (type === ValueType.string) this.checkValueRange(value, valueOffset, valueLength);
    this.beginWrite();
    const done = this.entry.table.writeRange(mode, key, keyOffset, keyLength, value, valueOffset, valueLength, expiresAtMs, type);
    if (done) this.changedRange(key, keyOffset, keyLength);
    return done;
  }

  /**
   * Set the expiry time of an existing live key (kNoExpiry removes it); false when missing.
   * A time at or before now deletes the key, as Redis does.
   */
  expireRange(bytes: Uint8Array, offset: number, length: number, expiresAtMs: number): boolean {
    this.checkLive();
    this.checkKeyRange(bytes, offset, length);
    this.beginWrite();
    const table = this.entry.table;
    const done =
      expiresAtMs !== kNoExpiry && expiresAtMs !== kKeepExpiry && expiresAtMs <= this.engine.nowMs()
        ? table.deleteRange(bytes, offset, length)
        : table.setExpiryRange(bytes, offset, length, Math.min(expiresAtMs, kExpiryMaxMs));
    if (done) this.changedRange(bytes, offset, length);
    return done;
  }

  /** Delete a key on a table of any model. */
  deleteRange(bytes: Uint8Array, offset: number, length: number): boolean {
    this.checkLive();
    this.checkKeyRange(bytes, offset, length);
    this.beginWrite();
    const done = this.entry.table.deleteRange(bytes, offset, length);
    if (done) this.changedRange(bytes, offset, length);
    return done;
  }

  /** A random live key (a copy), or undefined when the table is empty (RANDOMKEY). */
  randomKey(): Buffer | undefined {
    this.checkLive();
    if (!this.entry.table.randomRecord()) return undefined;
    return copyOut(record.bytes, record.keyOffset, record.keyLength);
  }

  /**
   * Move the record of key `from` (any type, with its expiry) to key `to`, replacing what `to`
   * held unless `onlyIfAbsent` (RENAMENX). Answers 'missing' (no `from`), 'exists' (`to` exists
   * and onlyIfAbsent) or 'ok'. Renaming a key onto itself is 'ok' and changes nothing.
   */
  renameKey(from: Uint8Array, to: Uint8Array, onlyIfAbsent: boolean): 'missing' | 'exists' | 'ok' {
    this.checkLive();
    this.checkKeyRange(from, 0, from.length);
    this.checkKeyRange(to, 0, to.length);
    const table = this.entry.table;
    if (!table.lookupRange(from, 0, from.length)) return 'missing';
    if (Buffer.compare(from, to) === 0) return onlyIfAbsent ? 'exists' : 'ok';
    if (onlyIfAbsent && table.lookupRange(to, 0, to.length)) return 'exists';
    this.beginWrite();
    table.lookupRange(from, 0, from.length);
    const value = copyOut(record.bytes, record.valueOffset, record.valueLength);
    const { type, expiresAtMs } = record;
    table.writeRange('upsert', to, 0, to.length, value, 0, value.length, expiresAtMs, type);
    // The record (and a hash's collection table) moved: deleting the old key must not retire it.
    table.keepDropped = true;
    try {
      table.deleteRange(from, 0, from.length);
    } finally {
      table.keepDropped = false;
    }
    this.changedRange(from, 0, from.length);
    this.changedRange(to, 0, to.length);
    return 'ok';
  }

  /**
   * Copy the record of key `from` (any type, with its expiry) to key `to` of `target` (this
   * table or another with the same model); false when `from` is missing, or `to` exists and
   * not `replace` (Redis's COPY).
   */
  copyKey(from: Uint8Array, to: Uint8Array, target: TableHandle, replace: boolean): boolean {
    this.checkLive();
    target.checkLive();
    this.checkKeyRange(from, 0, from.length);
    target.checkKeyRange(to, 0, to.length);
    const table = this.entry.table;
    if (!table.lookupRange(from, 0, from.length)) return false;
    const { type, expiresAtMs } = record;
    const into = target.entry.table;
    if (!replace && into.lookupRange(to, 0, to.length)) return false;
    target.beginWrite();
    // A hash is copied whole (a large one into a new collection table of the target), as Redis's COPY is O(n).
    let value: Buffer | undefined;
    if (type === ValueType.hash) {
      value = copyHashValue(this.engine, this.entry, from, target.entry);
    } else {
      table.lookupRange(from, 0, from.length);
      value = copyOut(record.bytes, record.valueOffset, record.valueLength);
    }
    if (value === undefined) return false;
    into.writeRange('upsert', to, 0, to.length, value, 0, value.length, expiresAtMs, type);
    target.changedRange(to, 0, to.length);
    return true;
  }

  /**
   * An estimate of the bytes a key takes (MEMORY USAGE): its record, plus for a large hash its
   * collection table's segments; undefined when the key is missing.
   */
  memoryUsage(bytes: Uint8Array, offset: number, length: number): number | undefined {
    this.checkLive();
    this.checkKeyRange(bytes, offset, length);
    const own = this.entry.table.recordBytes(bytes, offset, length);
    if (own < 0) return undefined;
    if (record.type !== ValueType.hash) return own;
    const key = Buffer.from(bytes.subarray(offset, offset + length));
    return own + (hashIsLarge(this.entry, key) ? hashTableBytes(this.entry, key) : 0);
  }

  /** Keys that carry an expiry time (INFO keyspace). */
  get expiringKeys(): number {
    this.checkLive();
    return this.entry.table.expiringKeys();
  }

  /** Keys removed because their time passed, since start (INFO expired_keys). */
  get expiredKeys(): number {
    return this.entry.table.expiredCount;
  }

  /** Throws ERR_READ_ONLY / ERR_CLOSED when a write would be refused (for pre-checks). */
  checkWritable(): void {
    this.checkLive();
    this.engine.checkWritable();
  }

  // ------------------------------------------------------------ hashes
  //
  // A hash is a key of type hash in a key/value table (src/engine/hashes.ts). Fields and values
  // are bytes (UTF-8 checked in `str` tables, as values are); a key of another type throws
  // ERR_WRONG_TYPE; a write keeps the key's expiry time; a hash left with no field is deleted.

  private hashKey(key: KeyInput, method: string): Buffer {
    this.checkKv();
    this.checkKey(key, method);
    return typeof key === 'string' ? Buffer.from(key, 'utf8') : Buffer.from(key.buffer, key.byteOffset, key.length);
  }

  private hashBytes(value: ValueInput, method: string, argument: string): Uint8Array {
    this.checkValue(value, method, argument);
    return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  }

  /**
   * Set fields of the hash at `key` (created when missing); returns how many were new.
   * `fields` is an object of field -> value, or an array of [field, value] pairs.
   */
  hashSet(key: KeyInput, fields: Readonly<Record<string, ValueInput>> | ReadonlyArray<readonly [ValueInput, ValueInput]>): number {
    const bytes = this.hashKey(key, 'hashSet');
    if (fields === null || typeof fields !== 'object') throw badArgument('hashSet', 'fields', 'an object or an array of [field, value] pairs', fields);
    const list = Array.isArray(fields) ? (fields as ReadonlyArray<readonly [ValueInput, ValueInput]>) : Object.entries(fields as Record<string, ValueInput>);
    const pairs = list.map((pair) => {
      if (!Array.isArray(pair) || pair.length !== 2) throw badArgument('hashSet', 'fields', 'an object or an array of [field, value] pairs', pair);
      return [this.hashBytes(pair[0] as ValueInput, 'hashSet', 'field'), this.hashBytes(pair[1] as ValueInput, 'hashSet', 'value')] as const;
    });
    if (pairs.length === 0) return 0;
    this.beginWrite();
    const added = hashSet(this.engine, this.entry, bytes, pairs, false);
    this.changed(bytes);
    return added;
  }

  /**
   * Refuse a hash field or value a table could not hold, before anything is written: a field
   * is held to the key limit (it is a key of the hash's collection table once the hash is
   * large), a value to the value limit, and both must be UTF-8 in a `str` table.
   */
  checkPairRanges(args: ArgRanges, from: number): void {
    const { keyMaxBytes, valueMaxBytes } = this.engine;
    for (let i = from; i + 1 < args.count; i += 2) {
      const fieldLength = args.length(i);
      const valueLength = args.length(i + 1);
      if (fieldLength > keyMaxBytes) throw new FrostError(ErrorCode.keyTooLarge, `hash field of ${fieldLength} bytes exceeds the limit of ${keyMaxBytes} bytes`);
      if (valueLength > valueMaxBytes) throw new FrostError(ErrorCode.valueTooLarge, `value of ${valueLength} bytes exceeds the limit of ${valueMaxBytes} bytes`);
      this.checkValueRange(args.buffer, args.offset(i), fieldLength);
      this.checkValueRange(args.buffer, args.offset(i + 1), valueLength);
    }
  }

  /**
   * HSET from a parsed request's byte ranges (the server's hot path): when args[keyIndex]
   * holds a large hash, the pairs args[from..] go straight into its collection table and the
   * count of new fields is returned; -1 means the key is missing or holds a small hash, and
   * nothing was written (use hashSet). Throws ERR_WRONG_TYPE for a key of another type, before
   * the pairs are checked, as Redis answers WRONGTYPE before anything else.
   */
  hashSetRanges(args: ArgRanges, keyIndex: number, from: number): number {
    this.checkKv();
    const keyOffset = args.offset(keyIndex);
    const keyLength = args.length(keyIndex);
    const table = largeHashTable(this.entry, args.buffer, keyOffset, keyLength);
    if (table === null) return -1;
    this.checkPairRanges(args, from);
    this.beginWrite();
    const added = setRangesInTable(table, args, from);
    this.changedRange(args.buffer, keyOffset, keyLength);
    return added;
  }

  /** Set `field` only if the hash lacks it (HSETNX); returns whether it was set. */
  hashSetIfAbsent(key: KeyInput, field: ValueInput, value: ValueInput): boolean {
    const bytes = this.hashKey(key, 'hashSetIfAbsent');
    const pair = [this.hashBytes(field, 'hashSetIfAbsent', 'field'), this.hashBytes(value, 'hashSetIfAbsent', 'value')] as const;
    this.beginWrite();
    const added = hashSet(this.engine, this.entry, bytes, [pair], true) === 1;
    if (added) this.changed(bytes);
    return added;
  }

  /** The value of `field` (a copy), or undefined. */
  hashGet(key: KeyInput, field: ValueInput): Buffer | undefined {
    const bytes = this.hashKey(key, 'hashGet');
    checkBytesArgument(field, 'hashGet', 'field');
    return hashGet(this.entry, bytes, typeof field === 'string' ? Buffer.from(field, 'utf8') : field);
  }

  hashHas(key: KeyInput, field: ValueInput): boolean {
    return this.hashGet(key, field) !== undefined;
  }

  /** Fields in the hash (0 when the key is missing). */
  hashLength(key: KeyInput): number {
    return hashLength(this.entry, this.hashKey(key, 'hashLength'));
  }

  /** Every [field, value] of the hash (copies; empty when the key is missing). */
  hashGetAll(key: KeyInput): Array<[Buffer, Buffer]> {
    return hashEntries(this.entry, this.hashKey(key, 'hashGetAll'));
  }

  /** Delete fields; returns how many existed. */
  hashDelete(key: KeyInput, fields: readonly ValueInput[]): number {
    const bytes = this.hashKey(key, 'hashDelete');
    checkBytesArrayArgument(fields, 'hashDelete', 'fields');
    const names = fields.map((field) => (typeof field === 'string' ? Buffer.from(field, 'utf8') : field));
    this.beginWrite();
    const removed = hashDelete(this.entry, bytes, names);
    if (removed > 0) this.changed(bytes);
    return removed;
  }

  /** One HSCAN step: visits fields, returns the next cursor (0: done). */
  hashScan(key: KeyInput, cursor: number, visit: (field: Buffer, value: Buffer) => void): number {
    return hashScan(this.entry, this.hashKey(key, 'hashScan'), cursor, visit);
  }

  /** A random [field, value] of the hash, or undefined when the key is missing. */
  hashRandomField(key: KeyInput): [Buffer, Buffer] | undefined {
    return hashRandomField(this.entry, this.hashKey(key, 'hashRandomField'));
  }

  /** Whether the hash lives in its own collection table (OBJECT ENCODING `hashtable`). */
  hashIsLarge(key: KeyInput): boolean {
    return hashIsLarge(this.entry, this.hashKey(key, 'hashIsLarge'));
  }

  // ------------------------------------------------------------ lists

  private readList(key: KeyInput, method: string): Uint8Array[] | undefined {
    this.checkListModel();
    this.checkKey(key, method);
    if (!this.entry.table.lookup(key)) return undefined;
    if (record.type !== ValueType.list) throw wrongType();
    const copy = copyOut(record.bytes, record.valueOffset, record.valueLength);
    return decodeList(copy, 0, copy.length);
  }

  private elementBytes(values: readonly ValueInput[], method: string): Buffer[] {
    checkBytesArrayArgument(values, method, 'values');
    return values.map((value) => {
      this.checkValue(value, method);
      return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
    });
  }

  private writeList(key: KeyInput, elements: readonly Uint8Array[]): void {
    const encoded = encodeList(this.valueIsStr ? 'str' : 'binstr', elements);
    this.entry.table.set(key, encoded, kNoExpiry, ValueType.list);
    this.changed(key);
  }

  /** Create a list (LSET); false if the key exists. */
  listCreate(key: KeyInput, values: readonly ValueInput[] = []): boolean {
    this.checkListModel();
    this.checkKey(key, 'listCreate');
    const elements = this.elementBytes(values, 'listCreate');
    this.beginWrite();
    if (this.entry.table.has(key)) return false;
    this.writeList(key, elements);
    return true;
  }

  /** All elements, or undefined when the list does not exist. */
  list(key: KeyInput): Buffer[] | undefined {
    return this.readList(key, 'list')?.map((element) => Buffer.from(element));
  }

  listLength(key: KeyInput): number | undefined {
    this.checkListModel();
    this.checkKey(key, 'listLength');
    if (!this.entry.table.lookup(key)) return undefined;
    if (record.type !== ValueType.list) throw wrongType();
    return listLength(record.bytes, record.valueOffset, record.valueLength);
  }

  /** Elements [start, end) (end defaults to the list length); out-of-range throws ERR_BAD_LIST_INDEX. */
  listRange(key: KeyInput, start: number, end?: number): Buffer[] | undefined {
    checkNumberArgument(start, 'listRange', 'start');
    if (end !== undefined) checkNumberArgument(end, 'listRange', 'end');
    const elements = this.readList(key, 'listRange');
    if (elements === undefined) return undefined;
    const stop = end ?? elements.length;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(stop) || start < 0 || start > stop || stop > elements.length) {
      throw new FrostError(ErrorCode.badListIndex, `bad list range ${start}..${stop} for a list of ${elements.length}`);
    }
    return elements.slice(start, stop).map((element) => Buffer.from(element));
  }

  /** The first `limit` elements. */
  listLimit(key: KeyInput, limit: number): Buffer[] | undefined {
    checkNumberArgument(limit, 'listLimit', 'limit');
    const elements = this.readList(key, 'listLimit');
    if (elements === undefined) return undefined;
    return elements.slice(0, Math.max(0, limit)).map((element) => Buffer.from(element));
  }

  listValueAt(key: KeyInput, index: number): Buffer | undefined {
    checkNumberArgument(index, 'listValueAt', 'index');
    const elements = this.readList(key, 'listValueAt');
    if (elements === undefined) return undefined;
    const element = Number.isSafeInteger(index) && index >= 0 ? elements[index] : undefined;
    if (element === undefined) throw new FrostError(ErrorCode.badListIndex, `no element ${index} in a list of ${elements.length}`);
    return Buffer.from(element);
  }

  listFirst(key: KeyInput): Buffer | undefined {
    return this.listEnd(key, true);
  }

  listLast(key: KeyInput): Buffer | undefined {
    return this.listEnd(key, false);
  }

  private listEnd(key: KeyInput, first: boolean): Buffer | undefined {
    const elements = this.readList(key, first ? 'listFirst' : 'listLast');
    if (elements === undefined) return undefined;
    if (elements.length === 0) throw new FrostError(ErrorCode.listIsEmpty, 'the list is empty');
    return Buffer.from(elements[first ? 0 : elements.length - 1] as Uint8Array);
  }

  /** Append values; false if the list does not exist. */
  listPush(key: KeyInput, values: readonly ValueInput[]): boolean {
    this.checkKey(key, 'listPush');
    const added = this.elementBytes(values, 'listPush');
    this.beginWrite();
    const elements = this.readList(key, 'listPush');
    if (elements === undefined) return false;
    this.writeList(key, [...elements, ...added]);
    return true;
  }

  /**
   * Insert before the element at `index` (0..length-1, as Skytable 0.7's LMOD INSERT: use
   * listPush to append); false if the list does not exist.
   */
  listInsert(key: KeyInput, index: number, value: ValueInput): boolean {
    this.checkKey(key, 'listInsert');
    checkNumberArgument(index, 'listInsert', 'index');
    this.checkValue(value, 'listInsert');
    const added = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
    this.beginWrite();
    const elements = this.readList(key, 'listInsert');
    if (elements === undefined) return false;
    if (!Number.isSafeInteger(index) || index < 0 || index >= elements.length) {
      throw new FrostError(ErrorCode.badListIndex, `cannot insert before element ${index} of a list of ${elements.length}`);
    }
    elements.splice(index, 0, added);
    this.writeList(key, elements);
    return true;
  }

  /** Remove and return the element at `index` (default: the last). */
  listPop(key: KeyInput, index?: number): Buffer | undefined {
    this.checkKey(key, 'listPop');
    if (index !== undefined) checkNumberArgument(index, 'listPop', 'index');
    this.beginWrite();
    const elements = this.readList(key, 'listPop');
    if (elements === undefined) return undefined;
    if (elements.length === 0) throw new FrostError(ErrorCode.listIsEmpty, 'the list is empty');
    const at = index ?? elements.length - 1;
    if (!Number.isSafeInteger(at) || at < 0 || at >= elements.length) {
      throw new FrostError(ErrorCode.badListIndex, `no element ${at} in a list of ${elements.length}`);
    }
    const [removed] = elements.splice(at, 1);
    const value = Buffer.from(removed as Uint8Array);
    this.writeList(key, elements);
    return value;
  }

  /** Remove the element at `index`; false if the list does not exist. */
  listRemove(key: KeyInput, index: number): boolean {
    this.checkKey(key, 'listRemove');
    checkNumberArgument(index, 'listRemove', 'index');
    this.beginWrite();
    const elements = this.readList(key, 'listRemove');
    if (elements === undefined) return false;
    if (!Number.isSafeInteger(index) || index < 0 || index >= elements.length) {
      throw new FrostError(ErrorCode.badListIndex, `no element ${index} in a list of ${elements.length}`);
    }
    elements.splice(index, 1);
    this.writeList(key, elements);
    return true;
  }

  /** Empty the list (it keeps existing); false if it does not exist. */
  listClear(key: KeyInput): boolean {
    this.checkKey(key, 'listClear');
    this.beginWrite();
    if (this.readList(key, 'listClear') === undefined) return false;
    this.writeList(key, []);
    return true;
  }
}
