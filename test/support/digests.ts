/**
 * Digests of whole databases for point-in-time checks: an incremental model kept alongside the
 * writes (O(1) per write), and the digest of what a Database actually holds.
 */
import { crc32 } from 'node:zlib';
import type { Database } from '../../src/database.js';
import { digestEntries, type Digest } from '../../src/table/digest.js';

const lengths = Buffer.alloc(8);

export function recordHash(key: Uint8Array, value: Uint8Array): number {
  lengths.writeUInt32LE(key.length, 0);
  lengths.writeUInt32LE(value.length, 4);
  return crc32(value, crc32(key, crc32(lengths)));
}

/** A model table: the same order-independent digest as src/table/digest.ts, kept incrementally. */
export class ModelTable {
  readonly values = new Map<string, Buffer>();
  readonly digest: Digest = { count: 0, sum: 0, xor: 0 };

  private remove(id: string): void {
    const old = this.values.get(id);
    if (old === undefined) return;
    const h = recordHash(Buffer.from(id, 'latin1'), old);
    this.digest.count--;
    this.digest.sum = (this.digest.sum - h) >>> 0;
    this.digest.xor = (this.digest.xor ^ h) >>> 0;
    this.values.delete(id);
  }

  set(key: Buffer, value: Buffer): void {
    const id = key.toString('latin1');
    this.remove(id);
    const h = recordHash(key, value);
    this.digest.count++;
    this.digest.sum = (this.digest.sum + h) >>> 0;
    this.digest.xor = (this.digest.xor ^ h) >>> 0;
    this.values.set(id, value);
  }

  delete(key: Buffer): void {
    this.remove(key.toString('latin1'));
  }

  has(key: Buffer): boolean {
    return this.values.has(key.toString('latin1'));
  }

  snapshot(): Digest {
    return { ...this.digest };
  }
}

/** Digest of every non-empty table, keyed `ks:tbl`, plus the set of defined tables. */
export function databaseDigests(db: Database): { tables: string[]; digests: Record<string, Digest> } {
  const tables: string[] = [];
  const digests: Record<string, Digest> = {};
  for (const keyspace of db.keyspaces()) {
    for (const table of db.tables(keyspace)) {
      const entity = `${keyspace}:${table}`;
      tables.push(entity);
      digests[entity] = digestEntries(db.table(entity).entries());
    }
  }
  tables.sort();
  return { tables, digests };
}
