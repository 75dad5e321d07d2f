/**
 * Digests of whole databases for point-in-time checks: an incremental model kept alongside the
 * writes (O(1) per write), and the digest of what a Database actually holds.
 */
import type { Database } from '../../src/database.js';
import { digestEntries, recordHash, type Digest } from '../../src/table/digest.js';

interface ModelRecord {
  value: Buffer;
  type: number;
  /** 0: never. */
  expiresAtMs: number;
}

/**
 * A model table: the same order-independent digest as src/table/digest.ts, kept incrementally.
 * A record whose expiry time has passed is absent: `expireDue(now)` drops those (time only
 * moves forward, so a key dead once stays dead until written again).
 */
export class ModelTable {
  readonly values = new Map<string, ModelRecord>();
  /** Keys that carry an expiry time, and that time. */
  private readonly expiring = new Map<string, number>();
  readonly digest: Digest = { count: 0, sum: 0, xor: 0 };

  private remove(id: string): void {
    const old = this.values.get(id);
    if (old === undefined) return;
    const h = recordHash(Buffer.from(id, 'latin1'), old.value, old.type, old.expiresAtMs);
    this.digest.count--;
    this.digest.sum = (this.digest.sum - h) >>> 0;
    this.digest.xor = (this.digest.xor ^ h) >>> 0;
    this.values.delete(id);
    this.expiring.delete(id);
  }

  set(key: Buffer, value: Buffer, expiresAtMs = 0, type = 0): void {
    const id = key.toString('latin1');
    this.remove(id);
    const h = recordHash(key, value, type, expiresAtMs);
    this.digest.count++;
    this.digest.sum = (this.digest.sum + h) >>> 0;
    this.digest.xor = (this.digest.xor ^ h) >>> 0;
    this.values.set(id, { value, type, expiresAtMs });
    if (expiresAtMs !== 0) this.expiring.set(id, expiresAtMs);
  }

  /** Change a present key's expiry time (0 removes it); false when the key is absent. */
  setExpiry(key: Buffer, expiresAtMs: number): boolean {
    const old = this.values.get(key.toString('latin1'));
    if (old === undefined) return false;
    this.set(key, old.value, expiresAtMs, old.type);
    return true;
  }

  delete(key: Buffer): void {
    this.remove(key.toString('latin1'));
  }

  has(key: Buffer): boolean {
    return this.values.has(key.toString('latin1'));
  }

  get(key: Buffer): ModelRecord | undefined {
    return this.values.get(key.toString('latin1'));
  }

  /** Drop every record whose expiry time is at or before `nowMs`. */
  expireDue(nowMs: number): void {
    for (const [id, at] of this.expiring) if (at <= nowMs) this.remove(id);
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
