/**
 * The simulation's model of hashes in default:default: every hash's fields in the engine's
 * order, and for a hash that moved into its own collection table, a ModelTable of that table
 * (named `default:default#<id>` in cuts and saves, as the engine names it).
 *
 * What it checks as it goes: the engine's key record agrees with the model on whether the hash
 * is alive; a collection table exists exactly for the hashes the model says are large (or,
 * once their key expired, until the engine removes them). The record's own bytes (the small
 * encoding, or the 5-byte reference) are read back from the engine into the table model: the
 * save is checked against what the table held at the cut, and the fields against this model.
 */

import type { Engine, TableEntry } from '../../src/engine/engine.js';
import { ValueType, valueView } from '../../src/engine/value.js';
import { hashEncoding, kHashTable, referenceId } from '../../src/engine/small-hash.js';
import { ModelTable } from '../support/digests.js';
import type { Digest } from '../../src/table/digest.js';

interface ModelHash {
  fields: Map<string, Buffer>;
  /** The collection table holding it, once large. */
  collection: number | null;
}

export class HashModel {
  private readonly engine: Engine;
  private table: ModelTable;
  private readonly hashes = new Map<string, ModelHash>();
  /** Collection id -> the ModelTable of its fields (kept after its key expired, until the engine drops it). */
  private readonly collections = new Map<number, ModelTable>();
  private readonly fail: (message: string) => never;

  constructor(engine: Engine, table: ModelTable, fail: (message: string) => never) {
    this.engine = engine;
    this.table = table;
    this.fail = fail;
  }

  private entry(): TableEntry {
    return this.engine.entry({ keyspace: 'default', table: 'default' });
  }

  /** The table model was replaced (FLUSHDB): every hash and collection went with it. */
  reset(table: ModelTable): void {
    this.table = table;
    this.hashes.clear();
    this.collections.clear();
  }

  private alive(key: Buffer, nowMs: number): boolean {
    const record = this.table.get(key);
    return record !== undefined && record.type === ValueType.hash && (record.expiresAtMs === 0 || record.expiresAtMs > nowMs);
  }

  /** HSET of `pairs` (HDEL of `deletes`) on `key`, mirrored; checks the engine agrees. */
  write(key: Buffer, pairs: Array<[Buffer, Buffer]>, deletes: Buffer[], nowMs: number): void {
    const id = key.toString('latin1');
    if (!this.alive(key, nowMs)) this.forget(id);
    const handle = this.engine.table('default:default');
    let hash = this.hashes.get(id);
    if (pairs.length > 0) handle.hashSet(key, pairs);
    if (deletes.length > 0) handle.hashDelete(key, deletes);
    if (hash === undefined) {
      if (pairs.length === 0) return this.checkGone(key);
      hash = { fields: new Map(), collection: null };
      this.hashes.set(id, hash);
    }
    const collection = hash.collection === null ? null : this.collections.get(hash.collection)!;
    for (const [field, value] of pairs) {
      hash.fields.set(field.toString('latin1'), value);
      collection?.set(field, value);
    }
    for (const field of deletes) {
      hash.fields.delete(field.toString('latin1'));
      collection?.delete(field);
    }
    if (hash.fields.size === 0) {
      this.forget(id);
      this.table.delete(key);
      return this.checkGone(key);
    }
    this.readBack(key, hash);
  }

  private checkGone(key: Buffer): void {
    if (this.engine.table('default:default').findRange(key, 0, key.length)) this.fail(`hash ${key.toString()} should be gone`);
  }

  private forget(id: string): void {
    const hash = this.hashes.get(id);
    if (hash === undefined) return;
    this.hashes.delete(id);
    if (hash.collection !== null) this.collections.delete(hash.collection);
  }

  /** Copy the engine's record into the table model; adopt a collection table the hash just moved into. */
  private readBack(key: Buffer, hash: ModelHash): void {
    if (!this.engine.table('default:default').findRange(key, 0, key.length) || valueView.type !== ValueType.hash) this.fail(`hash ${key.toString()} missing`);
    const raw = Buffer.from(valueView.bytes.subarray(valueView.offset, valueView.offset + valueView.length));
    const expiresAtMs = valueView.expiresAtMs;
    if (hashEncoding(raw, 0) === kHashTable) {
      const id = referenceId(raw, 0);
      if (hash.collection === null) {
        const model = new ModelTable();
        for (const [field, value] of hash.fields) model.set(Buffer.from(field, 'latin1'), value);
        this.collections.set(id, model);
        hash.collection = id;
      } else if (hash.collection !== id) {
        this.fail(`hash ${key.toString()} moved from collection ${hash.collection} to ${id}`);
      }
    } else if (hash.collection !== null) {
      this.fail(`hash ${key.toString()} went back to the small encoding`);
    }
    this.table.set(key, raw, expiresAtMs, ValueType.hash);
    const model = this.collections.get(hash.collection ?? -1);
    if (model !== undefined && this.entry().collections.get(hash.collection!)?.size !== model.digest.count) {
      this.fail(`collection ${hash.collection} holds ${this.entry().collections.get(hash.collection!)?.size} fields, the model ${model.digest.count}`);
    }
  }

  /**
   * At a cut: the expected digest of every collection table the engine holds. One whose key
   * expired may still be held (the engine drops it when it removes the key); one whose key is
   * alive must be.
   */
  atCut(nowMs: number): Map<string, Digest> {
    const held = this.entry().collections;
    const out = new Map<string, Digest>();
    for (const [id, hash] of [...this.hashes]) {
      if (hash.collection === null) continue;
      const alive = this.alive(Buffer.from(id, 'latin1'), nowMs);
      if (!held.has(hash.collection)) {
        if (alive) this.fail(`collection ${hash.collection} of live hash ${id} is gone`);
        this.forget(id);
      }
    }
    for (const id of held.keys()) {
      const model = this.collections.get(id);
      if (model === undefined) this.fail(`the engine holds collection ${id}, which no hash of the model names`);
      out.set(`default:default#${id}`, model.snapshot());
    }
    return out;
  }

  /** The hash keys the model holds (to pick from). */
  get size(): number {
    return this.hashes.size;
  }
}
