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
 */

import { isUtf8 } from 'node:buffer';
import { ErrorCode, FrostError } from '../util/errors.js';
import { copyOut, type KeyCursor, type KeyInput, type ValueInput } from '../table/table.js';
import { record } from '../table/segment.js';
import { checkBytesArgument, checkBytesArrayArgument, checkNumberArgument } from './arguments.js';
import { decodeList, encodeList, listLength } from './list.js';
import { elementType, isListModel, type TableModel } from './model.js';
import type { Engine, TableEntry } from './engine.js';

type WellFormedString = string & { isWellFormed(): boolean };

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

  // ------------------------------------------------------------ key/value

  get(key: KeyInput): Buffer | undefined {
    this.checkKv();
    checkBytesArgument(key, 'get', 'key');
    return this.entry.table.get(key);
  }

  getString(key: KeyInput): string | undefined {
    this.checkKv();
    checkBytesArgument(key, 'getString', 'key');
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
    const length = this.entry.table.valueLength(key);
    return length < 0 ? undefined : length;
  }

  /** Insert or overwrite. */
  set(key: KeyInput, value: ValueInput): void {
    this.checkKv();
    this.checkKey(key, 'set');
    this.checkValue(value, 'set');
    this.beginWrite();
    this.entry.table.set(key, value);
    this.engine.noteChanges(1);
  }

  /** Insert if absent (Skytable SET); returns whether it was inserted. */
  insert(key: KeyInput, value: ValueInput): boolean {
    this.checkKv();
    this.checkKey(key, 'insert');
    this.checkValue(value, 'insert');
    this.beginWrite();
    const done = this.entry.table.insert(key, value);
    if (done) this.engine.noteChanges(1);
    return done;
  }

  /** Overwrite if present (Skytable UPDATE); returns whether it was updated. */
  update(key: KeyInput, value: ValueInput): boolean {
    this.checkKv();
    this.checkKey(key, 'update');
    this.checkValue(value, 'update');
    this.beginWrite();
    const done = this.entry.table.update(key, value);
    if (done) this.engine.noteChanges(1);
    return done;
  }

  delete(key: KeyInput): boolean {
    this.checkLive();
    this.checkKey(key, 'delete');
    this.beginWrite();
    const done = this.entry.table.delete(key);
    if (done) this.engine.noteChanges(1);
    return done;
  }

  /** Read and delete (Skytable POP). */
  pop(key: KeyInput): Buffer | undefined {
    this.checkKv();
    this.checkKey(key, 'pop');
    this.beginWrite();
    const value = this.entry.table.get(key);
    if (value !== undefined) {
      this.entry.table.delete(key);
      this.engine.noteChanges(1);
    }
    return value;
  }

  /** Remove every entry in O(1) (FLUSHDB); memory is reclaimed in the background. */
  clear(): void {
    this.checkLive();
    this.beginWrite();
    const had = this.entry.table.size;
    this.entry.table.clear();
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
  scanCursor(cursor: number, visit: (bytes: Uint8Array, offset: number, length: number) => void): number {
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
   * Low-level read for servers: on success the record cursor (src/table/segment.ts `record`)
   * points at the value bytes until the next table operation. No copy, no model check.
   */
  lookupRaw(key: KeyInput): boolean {
    this.checkLive();
    checkBytesArgument(key, 'lookupRaw', 'key');
    return this.entry.table.lookup(key);
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

  /** Find a key; on success the record cursor (src/table/segment.ts) points at the value. */
  getRange(bytes: Uint8Array, offset: number, length: number): boolean {
    this.checkKv();
    this.checkKeyRange(bytes, offset, length);
    return this.entry.table.lookupRange(bytes, offset, length);
  }

  /** Presence of a key on a table of any model. */
  hasRange(bytes: Uint8Array, offset: number, length: number): boolean {
    this.checkLive();
    this.checkKeyRange(bytes, offset, length);
    return this.entry.table.lookupRange(bytes, offset, length);
  }

  /** Insert-if-absent, update-if-present or upsert; returns whether anything was written. */
  writeRange(
    mode: 'upsert' | 'insert' | 'update',
    key: Uint8Array,
    keyOffset: number,
    keyLength: number,
    value: Uint8Array,
    valueOffset: number,
    valueLength: number,
  ): boolean {
    this.checkKv();
    this.checkKeyRange(key, keyOffset, keyLength);
    this.checkValueRange(value, valueOffset, valueLength);
    this.beginWrite();
    const done = this.entry.table.writeRange(mode, key, keyOffset, keyLength, value, valueOffset, valueLength);
    if (done) this.engine.noteChanges(1);
    return done;
  }

  /** Delete a key on a table of any model. */
  deleteRange(bytes: Uint8Array, offset: number, length: number): boolean {
    this.checkLive();
    this.checkKeyRange(bytes, offset, length);
    this.beginWrite();
    const done = this.entry.table.deleteRange(bytes, offset, length);
    if (done) this.engine.noteChanges(1);
    return done;
  }

  /** Throws ERR_READ_ONLY / ERR_CLOSED when a write would be refused (for pre-checks). */
  checkWritable(): void {
    this.checkLive();
    this.engine.checkWritable();
  }

  // ------------------------------------------------------------ lists

  private readList(key: KeyInput, method: string): Uint8Array[] | undefined {
    this.checkListModel();
    this.checkKey(key, method);
    if (!this.entry.table.lookup(key)) return undefined;
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
    this.entry.table.set(key, encoded);
    this.engine.noteChanges(1);
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
