/**
 * The kill -9 harness's write log and its independent save reader (see kill9.ts).
 *
 * Op i of the log is a pure function of (seed, i), so the state after any prefix p is known
 * without having seen the run: `OpLog.prefixOf` finds the p whose state a folder holds, from
 * digests of every prefix computed once. `readFolder` reads a save folder by docs/format.md
 * alone (the real decoder runs separately, in verify and in the restarted server).
 *
 * Guarantees: digests are order-independent and cover table, key and value bytes with their
 * lengths; `prefixOf` returns the largest matching p, so a folder that also holds trailing
 * DELs of absent keys is credited with them.
 */

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Unpackr } from 'msgpackr';
import { flattenFrames } from './frames.js';
import { kManifestFileName, parseManifest } from '../../src/persist/format.js';

export const kAppTable = 'app:t';
export const kNoiseTable = 'app:noise';
export const kDefaultTable = 'default:default';
/** Values remembered per folder, for the restarted server's GETs to be compared against. */
const kValuesKept = 80;

export function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

export interface Op {
  table: typeof kAppTable | typeof kDefaultTable | typeof kNoiseTable;
  key: string;
  /** null: a DEL (of the key, or with `field` of that hash field). */
  value: string | null;
  overResp: boolean;
  /** A hash op (HSET / HDEL over RESP) on this field of hash `key`. */
  field?: string;
  /** SET ... PXAT this (ms since the epoch; 0: no expiry). Far in the future: it never fires. */
  expiresAtMs: number;
}

/** The one hash the log writes, and how many fields it spreads over (it outgrows the small encoding). */
export const kHashKey = 'hbig';
const kHashFieldSpace = 400;
/** 2100-01-01: expiry times the log gives are this plus the op index. */
const kFarFutureMs = 4_102_444_800_000;

/** The digest table a hash's fields count under (whatever encoding holds them). */
function hashTableName(key: string): string {
  return `hash:${key}`;
}

/** The write log and the digest of the state after every prefix of it. */
export class OpLog {
  private readonly seed: number;
  private readonly keySpace: number;
  private readonly preload: number;
  readonly noise: number;
  private readonly current = new Map<string, { value: string; expiresAtMs: number }>();
  private readonly count: number[] = [0];
  private readonly sum: number[] = [0];
  private readonly xor: number[] = [0];

  constructor(seed: number, keySpace: number, preload: number, noise: number) {
    this.seed = seed;
    this.keySpace = keySpace;
    this.preload = noise + preload;
    this.noise = noise;
  }

  /** The value op i (i <= noise) gives noise key `n<i>`; the noise writer rewrites the same. */
  static noiseValue(i: number): string {
    return `${i}:noise`;
  }

  private h(i: number, salt: number): number {
    return mix(this.seed ^ Math.imul(i, 0x9e3779b1) ^ salt);
  }

  op(i: number): Op {
    if (i <= this.noise) return { table: kNoiseTable, key: `n${i}`, value: OpLog.noiseValue(i), overResp: false, expiresAtMs: 0 };
    if (i <= this.preload) {
      const value = `${i}:${'p'.repeat(this.h(i, 4) % 100)}`;
      // Every 20th preload op fills the hash, so it is large (a collection table) from the first trial on.
      if (i % 20 === 0) return { table: kDefaultTable, key: kHashKey, field: `f${(i / 20) % kHashFieldSpace}`, value, overResp: true, expiresAtMs: 0 };
      return { table: kDefaultTable, key: `k${i % this.keySpace}`, value, overResp: true, expiresAtMs: 0 };
    }
    const value = this.h(i, 3) % 10 < 8 ? `${i}:${'x'.repeat(this.h(i, 4) % 120)}` : null;
    if (this.h(i, 6) % 100 < 15) {
      return { table: kDefaultTable, key: kHashKey, field: `f${this.h(i, 7) % kHashFieldSpace}`, value, overResp: true, expiresAtMs: 0 };
    }
    const table = this.h(i, 1) % 4 === 0 ? kAppTable : kDefaultTable;
    const key = `k${this.h(i, 2) % this.keySpace}`;
    const overResp = table === kDefaultTable && this.h(i, 5) % 2 === 0;
    const expiresAtMs = overResp && value !== null && this.h(i, 8) % 3 === 0 ? kFarFutureMs + i : 0;
    return { table, key, value, overResp, expiresAtMs };
  }

  /** Make sure digests up to prefix `p` exist. */
  private extend(p: number): void {
    for (let i = this.count.length; i <= p; i++) {
      const op = this.op(i);
      // A hash field counts as a record of the hash's own digest table, whatever encoding holds it.
      const table = op.field === undefined ? op.table : hashTableName(op.key);
      const key = op.field ?? op.key;
      const id = `${table}\n${key}`;
      let count = this.count[i - 1] as number;
      let sum = this.sum[i - 1] as number;
      let xor = this.xor[i - 1] as number;
      const old = this.current.get(id);
      if (old !== undefined) {
        const h = recordHash(table, key, old.value, old.expiresAtMs);
        count--;
        sum = (sum - h) >>> 0;
        xor = (xor ^ h) >>> 0;
        this.current.delete(id);
      }
      if (op.value !== null) {
        const h = recordHash(table, key, op.value, op.expiresAtMs);
        count++;
        sum = (sum + h) >>> 0;
        xor = (xor ^ h) >>> 0;
        this.current.set(id, { value: op.value, expiresAtMs: op.expiresAtMs });
      }
      this.count.push(count);
      this.sum.push(sum);
      this.xor.push(xor);
    }
  }

  /**
   * The largest prefix p in [lastSet, limit] whose state has `digest`, or -1. (A folder's
   * newest value names the last SET it holds; DELs after it may or may not be in it.)
   */
  prefixOf(digest: Digest, lastSet: number, limit: number): number {
    this.extend(limit);
    let found = -1;
    for (let p = lastSet; p <= limit; p++) {
      if (this.count[p] === digest.count && this.sum[p] === digest.sum && this.xor[p] === digest.xor) found = p;
    }
    return found;
  }
}

export interface Digest {
  count: number;
  sum: number;
  xor: number;
}

/**
 * Hash of one record of a table (seeded by the table's name): FNV-1a over the key's and the
 * value's lengths and bytes, finished with murmur3's mixer. In JavaScript on purpose: three
 * native crc32 calls per record cost ten times more on 100k-record folders.
 */
function recordHashBytes(tableSeed: number, key: Uint8Array, value: Uint8Array, expiresAtMs = 0): number {
  let h = (tableSeed ^ 0x811c9dc5) | 0;
  h = Math.imul(h ^ key.length, 0x01000193);
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ (key[i] as number), 0x01000193);
  h = Math.imul(h ^ value.length, 0x01000193);
  for (let i = 0; i < value.length; i++) h = Math.imul(h ^ (value[i] as number), 0x01000193);
  if (expiresAtMs !== 0) {
    h = Math.imul(h ^ (expiresAtMs % 0x1_0000_0000), 0x01000193);
    h = Math.imul(h ^ Math.floor(expiresAtMs / 0x1_0000_0000), 0x01000193);
  }
  return mix(h);
}

const tableSeeds = new Map<string, number>();
function tableSeed(table: string): number {
  let seed = tableSeeds.get(table);
  if (seed === undefined) {
    seed = recordHashBytes(0, Buffer.from(table, 'latin1'), new Uint8Array(0));
    tableSeeds.set(table, seed);
  }
  return seed;
}

function recordHash(table: string, key: string, value: string, expiresAtMs: number): number {
  return recordHashBytes(tableSeed(table), Buffer.from(key, 'latin1'), Buffer.from(value, 'latin1'), expiresAtMs);
}

/** The op index at the start of a value (`<i>:...`). */
function opIndexOf(value: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as number;
    if (c < 0x30 || c > 0x39) break;
    n = n * 10 + (c - 0x30);
  }
  return n;
}

const unpackr = new Unpackr({ mapsAsObjects: true });

/**
 * Read a save folder's tables with an independent reader that follows docs/format.md (the
 * real decoder already ran in verifyFolder, and the restarted server loaded data/ks with it):
 * the digest of every record, per-table counts, a few values, and the last SET op it holds.
 */
export function readFolder(dir: string): { digest: Digest; lastSet: number; counts: Map<string, number>; values: Map<string, string>; collections: number } {
  const manifest = parseManifest(readFileSync(join(dir, kManifestFileName)), dir);
  const reading: FolderReading = { digest: { count: 0, sum: 0, xor: 0 }, lastSet: 0, counts: new Map(), values: new Map(), hashOfCollection: new Map() };
  // Tables first, then collection tables (whose hash key the tables' records name).
  for (const collections of [false, true]) {
    for (const space of manifest.keyspaces) {
      for (const entry of space.tables) {
        if ((entry.collection !== undefined) !== collections) continue;
        const name = `${space.name}:${entry.name}`;
        let count = 0;
        for (const file of entry.files) count += readDataFile(join(dir, ...file.path.split('/')), name, reading);
        if (!collections) reading.counts.set(name, count);
      }
    }
  }
  const { digest, lastSet, counts, values } = reading;
  return { digest, lastSet, counts, values, collections: reading.hashOfCollection.size };
}

interface FolderReading {
  digest: Digest;
  lastSet: number;
  counts: Map<string, number>;
  values: Map<string, string>;
  /** Collection table (`ks:tbl#id`) -> the digest table of the hash key that names it. */
  hashOfCollection: Map<string, string>;
}

function addToDigest(reading: FolderReading, table: string, key: Uint8Array, value: Uint8Array, expiresAtMs: number): void {
  const h = recordHashBytes(tableSeed(table), key, value, expiresAtMs);
  reading.digest.count++;
  reading.digest.sum = (reading.digest.sum + h) >>> 0;
  reading.digest.xor = (reading.digest.xor ^ h) >>> 0;
  reading.lastSet = Math.max(reading.lastSet, opIndexOf(value));
}

/**
 * One data file by docs/format.md: the header, then per block {depth, prefix, records} and
 * each record (format 2: tag, key, value, expiry when the tag says so; format 1: key, value),
 * then the trailer. Returns how many records it held.
 */
function readDataFile(path: string, name: string, reading: FolderReading): number {
  // Format 3: the frames replaced by the records they hold (test/support/frames.ts).
  const objects = unpackr.unpackMultiple(flattenFrames(readFileSync(path)).bytes) as unknown[];
  const version = (objects[0] as { version: number }).version;
  const hashTable = reading.hashOfCollection.get(name);
  let count = 0;
  let at = 1;
  while (at < objects.length - 1) {
    const block = objects[at++] as { records: number };
    for (let r = 0; r < block.records; r++) {
      const tag = version >= 2 ? (objects[at++] as number) : 0;
      const key = toBytes(objects[at++]);
      const value = toBytes(objects[at++]);
      const expiresAtMs = (tag & 8) !== 0 ? Number(objects[at++] as bigint | number) : 0;
      count++;
      if (hashTable !== undefined) {
        addToDigest(reading, hashTable, key, value, expiresAtMs);
      } else if ((tag & 7) === 2) {
        readHashValue(reading, name, Buffer.from(key).toString('latin1'), value);
      } else {
        addToDigest(reading, name, key, value, expiresAtMs);
        if (reading.values.size < kValuesKept) reading.values.set(`${name}\n${Buffer.from(key).toString('latin1')}`, Buffer.from(value).toString('latin1'));
      }
    }
  }
  return count;
}

/** A hash record's value: its fields inline (small encoding) or the id of its collection table. */
function readHashValue(reading: FolderReading, name: string, key: string, value: Uint8Array): void {
  const table = hashTableName(key);
  const bytes = Buffer.from(value);
  if (bytes[0] === 1) {
    reading.hashOfCollection.set(`${name}#${bytes.readUInt32LE(1)}`, table);
    return;
  }
  const count = bytes.readUInt16LE(1);
  let at = 3;
  for (let i = 0; i < count; i++) {
    const fieldLength = bytes.readUInt16LE(at);
    const field = bytes.subarray(at + 2, at + 2 + fieldLength);
    at += 2 + fieldLength;
    const valueLength = bytes.readUInt16LE(at);
    const fieldValue = bytes.subarray(at + 2, at + 2 + valueLength);
    at += 2 + valueLength;
    addToDigest(reading, table, field, fieldValue, 0);
  }
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  throw new Error(`a record field is neither bin nor str: ${typeof value}`);
}
