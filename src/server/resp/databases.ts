/**
 * RESP's numbered databases (SELECT 0..15, SWAPDB, FLUSHALL) mapped onto frostkv tables.
 *
 * Guarantees:
 * - Database 0 is the table RESP is configured to serve (`resp.table`, `default:default`);
 *   database N (1..15) is the table `<that keyspace>:db<N>`, created on first use with
 *   database 0's model, so it is saved, snapshotted and visible over Skyhash like any table.
 *   A table of that name that already exists is used as it is.
 * - SWAPDB exchanges the contents of two databases (values, types and expiry times), so it
 *   holds across a restart; both tables are rewritten in one synchronous step, so no other
 *   command and no save cut sees half a swap. It costs time in the number of keys (Redis
 *   swaps two pointers), and twice the memory of the two tables while it runs.
 */

import type { Database } from '../../database.js';
import type { TableHandle } from '../../engine/handle.js';
import { parseEntity } from '../../engine/names.js';
import { valueView } from '../../engine/value.js';

/** Redis's default `databases`: SELECT accepts 0 .. kRespDatabaseCount - 1. */
export const kRespDatabaseCount = 16;

export class RespDatabases {
  private readonly db: Database;
  private readonly baseEntity: string;
  private readonly keyspace: string;
  private readonly handles: Array<TableHandle | null> = new Array<TableHandle | null>(kRespDatabaseCount).fill(null);

  constructor(db: Database, baseEntity: string) {
    this.db = db;
    this.baseEntity = baseEntity;
    this.keyspace = parseEntity(baseEntity, null).keyspace;
  }

  /** The table name behind database `index`. */
  entity(index: number): string {
    return index === 0 ? this.baseEntity : `${this.keyspace}:db${index}`;
  }

  /** The table behind database `index`, created (with database 0's model) when missing. */
  table(index: number): TableHandle {
    const cached = this.handles[index] ?? null;
    if (cached !== null && !cached.isDropped) return cached;
    const engine = this.db.engine;
    const entity = this.entity(index);
    if (index !== 0 && !this.exists(entity)) engine.createTable(entity, engine.table(this.baseEntity).model);
    const handle = engine.table(entity);
    this.handles[index] = handle;
    return handle;
  }

  /** Whether database `index` has a table yet (FLUSHALL and INFO skip the ones never used). */
  exists(entity: string): boolean {
    const address = parseEntity(entity, null);
    return this.db.engine.hasKeyspace(address.keyspace) && this.db.engine.tableNames(address.keyspace).includes(address.table);
  }

  /** Every database that has a table. */
  existing(): TableHandle[] {
    const out: TableHandle[] = [];
    for (let index = 0; index < kRespDatabaseCount; index++) if (index === 0 || this.exists(this.entity(index))) out.push(this.table(index));
    return out;
  }

  /** Exchange the contents of databases `a` and `b` (SWAPDB), types and expiry times included. */
  swap(a: number, b: number): void {
    if (a === b) return;
    const first = this.table(a);
    const second = this.table(b);
    first.checkWritable();
    const firstRecords = liveRecords(first);
    const secondRecords = liveRecords(second);
    first.clear();
    second.clear();
    for (const record of secondRecords) writeRecord(first, record);
    for (const record of firstRecords) writeRecord(second, record);
  }
}

/** A key's whole record, copied out of the table. */
interface CopiedRecord {
  key: Buffer;
  value: Buffer;
  type: number;
  expiresAtMs: number;
}

/** Every live key of `table` with its value, type and expiry (expired keys are left out). */
function liveRecords(table: TableHandle): CopiedRecord[] {
  const out: CopiedRecord[] = [];
  for (const key of table.keys()) {
    if (!table.findRange(key, 0, key.length)) continue;
    out.push({ key, value: Buffer.from(valueView.bytes.subarray(valueView.offset, valueView.offset + valueView.length)), type: valueView.type, expiresAtMs: valueView.expiresAtMs });
  }
  return out;
}

function writeRecord(table: TableHandle, record: CopiedRecord): void {
  table.writeRange('upsert', record.key, 0, record.key.length, record.value, 0, record.value.length, record.expiresAtMs, record.type);
}

const kDatabases = new WeakMap<Database, RespDatabases>();

/** The numbered databases of `db` as RESP serves them from `baseEntity`. */
export function respDatabases(db: Database, baseEntity: string): RespDatabases {
  let databases = kDatabases.get(db);
  if (databases === undefined) {
    databases = new RespDatabases(db, baseEntity);
    kDatabases.set(db, databases);
  }
  return databases;
}
