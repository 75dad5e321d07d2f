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
  /** null: a DEL. */
  value: string | null;
  overResp: boolean;
}

/** The write log and the digest of the state after every prefix of it. */
export class OpLog {
  private readonly seed: number;
  private readonly keySpace: number;
  private readonly preload: number;
  readonly noise: number;
  private readonly current = new Map<string, string>();
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
    if (i <= this.noise) return { table: kNoiseTable, key: `n${i}`, value: OpLog.noiseValue(i), overResp: false };
    if (i <= this.preload) return { table: kDefaultTable, key: `k${i % this.keySpace}`, value: `${i}:${'p'.repeat(this.h(i, 4) % 100)}`, overResp: true };
    const table = this.h(i, 1) % 4 === 0 ? kAppTable : kDefaultTable;
    const key = `k${this.h(i, 2) % this.keySpace}`;
    const value = this.h(i, 3) % 10 < 8 ? `${i}:${'x'.repeat(this.h(i, 4) % 120)}` : null;
    return { table, key, value, overResp: table === kDefaultTable && this.h(i, 5) % 2 === 0 };
  }

  /** Make sure digests up to prefix `p` exist. */
  private extend(p: number): void {
    for (let i = this.count.length; i <= p; i++) {
      const op = this.op(i);
      const id = `${op.table}\n${op.key}`;
      let count = this.count[i - 1] as number;
      let sum = this.sum[i - 1] as number;
      let xor = this.xor[i - 1] as number;
      const old = this.current.get(id);
      if (old !== undefined) {
        const h = recordHash(op.table, op.key, old);
        count--;
        sum = (sum - h) >>> 0;
        xor = (xor ^ h) >>> 0;
        this.current.delete(id);
      }
      if (op.value !== null) {
        const h = recordHash(op.table, op.key, op.value);
        count++;
        sum = (sum + h) >>> 0;
        xor = (xor ^ h) >>> 0;
        this.current.set(id, op.value);
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
function recordHashBytes(tableSeed: number, key: Uint8Array, value: Uint8Array): number {
  let h = (tableSeed ^ 0x811c9dc5) | 0;
  h = Math.imul(h ^ key.length, 0x01000193);
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ (key[i] as number), 0x01000193);
  h = Math.imul(h ^ value.length, 0x01000193);
  for (let i = 0; i < value.length; i++) h = Math.imul(h ^ (value[i] as number), 0x01000193);
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

function recordHash(table: string, key: string, value: string): number {
  return recordHashBytes(tableSeed(table), Buffer.from(key, 'latin1'), Buffer.from(value, 'latin1'));
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
export function readFolder(dir: string): { digest: Digest; lastSet: number; counts: Map<string, number>; values: Map<string, string> } {
  const manifest = parseManifest(readFileSync(join(dir, kManifestFileName)), dir);
  const digest: Digest = { count: 0, sum: 0, xor: 0 };
  const counts = new Map<string, number>();
  const values = new Map<string, string>();
  let lastSet = 0;
  for (const space of manifest.keyspaces) {
    for (const entry of space.tables) {
      const name = `${space.name}:${entry.name}`;
      const seed = tableSeed(name);
      let count = 0;
      for (const file of entry.files) {
        const objects = unpackr.unpackMultiple(readFileSync(join(dir, ...file.path.split('/')))) as unknown[];
        // header, then per block: {depth, prefix, records} and 2 objects per record, then the trailer.
        let at = 1;
        while (at < objects.length - 1) {
          const block = objects[at++] as { records: number };
          for (let r = 0; r < block.records; r++) {
            const key = toBytes(objects[at++]);
            const value = toBytes(objects[at++]);
            const h = recordHashBytes(seed, key, value);
            digest.count++;
            digest.sum = (digest.sum + h) >>> 0;
            digest.xor = (digest.xor ^ h) >>> 0;
            lastSet = Math.max(lastSet, opIndexOf(value));
            count++;
            if (values.size < kValuesKept) values.set(`${name}\n${Buffer.from(key).toString('latin1')}`, Buffer.from(value).toString('latin1'));
          }
        }
      }
      counts.set(name, count);
    }
  }
  return { digest, lastSet, counts, values };
}

function toBytes(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  throw new Error(`a record field is neither bin nor str: ${typeof value}`);
}
