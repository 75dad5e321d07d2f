/**
 * Hash values of one table: small hashes inline in their key's record, large ones in a
 * collection table the record names (ARCHITECTURE.md "Collections", src/engine/small-hash.ts).
 *
 * Guarantees:
 * - A write costs what it changes: a small hash is re-encoded (at most kSmallHashBytesMax
 *   bytes); a large one takes one write to its collection table, never a copy of the hash.
 *   A hash moves to a collection table once, when a write would make it too big to stay small,
 *   and never moves back.
 * - The key keeps its expiry time through every hash write (as Redis's HSET).
 * - A hash with no fields left is deleted (as in Redis), and its collection table with it.
 * - Nothing here checks arguments, models or the read-only state: TableHandle does, first.
 */

import type { Table } from '../table/table.js';
import { kKeepExpiry } from '../table/table.js';
import { record } from '../table/segment.js';
import { ErrorCode, FrostError } from '../util/errors.js';
import type { Engine, TableEntry } from './engine.js';
import { ValueType } from './value.js';
import {
  encodeReference,
  encodeSmall,
  kSmallHashBytesMax,
  kSmallHashFieldsMax,
  smallBytes,
  smallPairBytes,
  hashEncoding,
  kHashTable,
  referenceId,
  smallCount,
  smallFind,
  smallPairs,
} from './small-hash.js';

/** Where a hash key's fields are now. */
export type HashHome =
  | { kind: 'missing' }
  | { kind: 'small'; pairs: () => Array<[Buffer, Buffer]>; bytes: Uint8Array; offset: number; length: number }
  | { kind: 'table'; table: Table; id: number };

export function wrongType(): FrostError {
  return new FrostError(ErrorCode.wrongType, 'the key holds another type of value');
}

/** Find the hash at `key` (the table's prepared-key lookup); another type throws ERR_WRONG_TYPE. */
export function hashHome(entry: TableEntry, key: Uint8Array): HashHome {
  const table = entry.table;
  if (!table.lookupRange(key, 0, key.length)) return { kind: 'missing' };
  if (record.type !== ValueType.hash) throw wrongType();
  const bytes = record.bytes;
  const offset = record.valueOffset;
  if (hashEncoding(bytes, offset) === kHashTable) {
    const id = referenceId(bytes, offset);
    const collection = entry.collections.get(id);
    // A record naming a missing collection is a bug; reading it as empty keeps serving.
    if (collection === undefined) return { kind: 'missing' };
    return { kind: 'table', table: collection, id };
  }
  return { kind: 'small', pairs: () => smallPairs(bytes, offset), bytes, offset, length: record.valueLength };
}

/**
 * The byte ranges of a parsed request's arguments (the server's ArgView has this shape), so a
 * hash write can go from the receive buffer into a table without a Buffer per argument.
 */
export interface ArgRanges {
  readonly buffer: Uint8Array;
  readonly count: number;
  offset(i: number): number;
  length(i: number): number;
}

/**
 * The collection table of the large hash at a key range, or null when the key is missing or
 * holds a small hash; another type throws ERR_WRONG_TYPE. One lookup and no allocation: HSET's
 * hot path, where hashHome's object and a second lookup cost as much as the write itself.
 */
export function largeHashTable(entry: TableEntry, bytes: Uint8Array, offset: number, length: number): Table | null {
  if (!entry.table.lookupRange(bytes, offset, length)) return null;
  if (record.type !== ValueType.hash) throw wrongType();
  if (hashEncoding(record.bytes, record.valueOffset) !== kHashTable) return null;
  return entry.collections.get(referenceId(record.bytes, record.valueOffset)) ?? null;
}

/**
 * Upsert the field/value pairs args[from..] of a request straight from their byte ranges into
 * a large hash's collection table; returns how many fields were new. One probe per field (an
 * update that missed followed by an insert probed twice). Fields never expire, so the table's
 * size grows by one exactly when a field is new. The caller has checked every range's limits.
 */
export function setRangesInTable(table: Table, args: ArgRanges, from: number): number {
  const buffer = args.buffer;
  let added = 0;
  for (let i = from; i + 1 < args.count; i += 2) {
    const before = table.size;
    table.writeRange('upsert', buffer, args.offset(i), args.length(i), buffer, args.offset(i + 1), args.length(i + 1));
    if (table.size > before) added++;
  }
  return added;
}

/** The value of `field`, copied, or undefined. */
export function hashGet(entry: TableEntry, key: Uint8Array, field: Uint8Array): Buffer | undefined {
  const home = hashHome(entry, key);
  if (home.kind === 'missing') return undefined;
  if (home.kind === 'table') return home.table.get(field);
  const found = smallFind(home.bytes, home.offset, field);
  return found === undefined ? undefined : Buffer.from(home.bytes.subarray(found.valueOffset, found.valueOffset + found.valueLength));
}

export function hashLength(entry: TableEntry, key: Uint8Array): number {
  const home = hashHome(entry, key);
  if (home.kind === 'missing') return 0;
  if (home.kind === 'table') return home.table.size;
  return smallCount(home.bytes, home.offset);
}

/** Every field and value (copies). A large hash is read through a frozen generation, so a consistent view. */
export function hashEntries(entry: TableEntry, key: Uint8Array): Array<[Buffer, Buffer]> {
  const home = hashHome(entry, key);
  if (home.kind === 'missing') return [];
  if (home.kind === 'small') return home.pairs();
  return [...home.table.entries()];
}

/**
 * Set fields (HSET / HSETNX); returns how many fields were new. `onlyIfAbsent` leaves present
 * fields alone (HSETNX). The key is created as a hash when missing.
 */
export function hashSet(engine: Engine, entry: TableEntry, key: Uint8Array, pairs: ReadonlyArray<readonly [Uint8Array, Uint8Array]>, onlyIfAbsent: boolean): number {
  checkPairSizes(engine, pairs);
  const home = hashHome(entry, key);
  if (home.kind === 'table') return setInTable(home.table, pairs, 0, onlyIfAbsent);
  const current = home.kind === 'small' ? home.pairs() : [];
  const index = new Map<string, number>();
  for (let i = 0; i < current.length; i++) index.set(current[i]![0].toString('latin1'), i);
  let bytes = smallBytes(current);
  let added = 0;
  for (let p = 0; p < pairs.length; p++) {
    const [field, value] = pairs[p]!;
    const name = Buffer.from(field.buffer, field.byteOffset, field.length).toString('latin1');
    const at = index.get(name);
    if (at !== undefined) {
      if (onlyIfAbsent) continue;
      bytes += value.length - current[at]![1].length;
      current[at] = [current[at]![0], Buffer.from(value)];
    } else {
      index.set(name, current.length);
      current.push([Buffer.from(field), Buffer.from(value)]);
      bytes += smallPairBytes(field, value);
      added++;
    }
    if (current.length > kSmallHashFieldsMax || bytes > kSmallHashBytesMax) {
      // Too big to stay small: move it, once, into its own collection table.
      const { id, table } = engine.createCollection(entry);
      for (const [f, v] of current) table.set(f, v);
      const reference = encodeReference(id);
      entry.table.writeRange('upsert', key, 0, key.length, reference, 0, reference.length, kKeepExpiry, ValueType.hash);
      return added + setInTable(table, pairs, p + 1, onlyIfAbsent);
    }
  }
  const encoded = encodeSmall(current);
  entry.table.writeRange('upsert', key, 0, key.length, encoded, 0, encoded.length, kKeepExpiry, ValueType.hash);
  return added;
}

/**
 * Every field and value within the table limits, checked before anything is written: a write
 * refused half-way would leave some fields set (or a half-filled collection table behind).
 */
function checkPairSizes(engine: Engine, pairs: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): void {
  for (const [field, value] of pairs) {
    if (field.length > engine.keyMaxBytes) throw new FrostError(ErrorCode.keyTooLarge, `hash field of ${field.length} bytes exceeds the limit of ${engine.keyMaxBytes} bytes`);
    if (value.length > engine.valueMaxBytes) throw new FrostError(ErrorCode.valueTooLarge, `hash value of ${value.length} bytes exceeds the limit of ${engine.valueMaxBytes} bytes`);
  }
}

/** Set pairs[from..] in a collection table; returns how many fields were new. */
function setInTable(table: Table, pairs: ReadonlyArray<readonly [Uint8Array, Uint8Array]>, from: number, onlyIfAbsent: boolean): number {
  let added = 0;
  for (let p = from; p < pairs.length; p++) {
    const [field, value] = pairs[p]!;
    if (onlyIfAbsent) {
      if (table.insert(field, value)) added++;
    } else if (!table.update(field, value)) {
      table.set(field, value);
      added++;
    }
  }
  return added;
}

/** Delete fields; returns how many existed. The key goes with its last field. */
export function hashDelete(entry: TableEntry, key: Uint8Array, fields: readonly Uint8Array[]): number {
  const home = hashHome(entry, key);
  if (home.kind === 'missing') return 0;
  let removed = 0;
  if (home.kind === 'table') {
    for (const field of fields) if (home.table.delete(field)) removed++;
    if (home.table.size === 0) entry.table.deleteRange(key, 0, key.length);
    return removed;
  }
  const current = home.pairs();
  for (const field of fields) {
    const at = current.findIndex(([name]) => Buffer.compare(name, field) === 0);
    if (at < 0) continue;
    current.splice(at, 1);
    removed++;
  }
  if (removed === 0) return 0;
  if (current.length === 0) {
    entry.table.deleteRange(key, 0, key.length);
  } else {
    const encoded = encodeSmall(current);
    entry.table.writeRange('upsert', key, 0, key.length, encoded, 0, encoded.length, kKeepExpiry, ValueType.hash);
  }
  return removed;
}

/**
 * One step of a field scan (HSCAN): a small hash answers every field at cursor 0 (and 0 as the
 * next cursor, as Redis does for listpack hashes); a large one scans its table in hash order.
 */
export function hashScan(entry: TableEntry, key: Uint8Array, cursor: number, visit: (field: Buffer, value: Buffer) => void): number {
  const home = hashHome(entry, key);
  if (home.kind === 'missing') return 0;
  if (home.kind === 'small') {
    for (const [field, value] of home.pairs()) visit(field, value);
    return 0;
  }
  const table = home.table;
  const fields: Buffer[] = [];
  const next = table.scanFrom(cursor, (bytes, offset, length) => fields.push(Buffer.from(bytes.subarray(offset, offset + length))));
  for (const field of fields) {
    const value = table.get(field);
    if (value !== undefined) visit(field, value);
  }
  return next;
}

/** A random field and its value (HRANDFIELD), or undefined for a missing key. */
export function hashRandomField(entry: TableEntry, key: Uint8Array, random: () => number = Math.random): [Buffer, Buffer] | undefined {
  const home = hashHome(entry, key);
  if (home.kind === 'missing') return undefined;
  if (home.kind === 'small') {
    const pairs = home.pairs();
    return pairs[Math.floor(random() * pairs.length)];
  }
  if (!home.table.randomRecord(random)) return undefined;
  const field = Buffer.from(record.bytes.subarray(record.keyOffset, record.keyOffset + record.keyLength));
  return [field, Buffer.from(record.bytes.subarray(record.valueOffset, record.valueOffset + record.valueLength))];
}

/** Whether the hash at `key` lives in a collection table (OBJECT ENCODING: hashtable vs listpack). */
export function hashIsLarge(entry: TableEntry, key: Uint8Array): boolean {
  return hashHome(entry, key).kind === 'table';
}

/** A deep copy of the hash at `from` of `source` as the value to write at a key of `target` (COPY). */
export function copyHashValue(engine: Engine, source: TableEntry, from: Uint8Array, target: TableEntry): Buffer | undefined {
  const home = hashHome(source, from);
  if (home.kind === 'missing') return undefined;
  if (home.kind === 'small') return Buffer.from(home.bytes.subarray(home.offset, home.offset + home.length));
  const { id, table } = engine.createCollection(target);
  for (const [field, value] of home.table.entries()) table.set(field, value);
  return encodeReference(id);
}

/** Bytes the collection table of the large hash at `key` holds (0 for a small or missing hash). */
export function hashTableBytes(entry: TableEntry, key: Uint8Array): number {
  const home = hashHome(entry, key);
  return home.kind === 'table' ? home.table.stats().dataBytes : 0;
}
