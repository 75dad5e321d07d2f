/**
 * WATCH: which RESP clients watch which keys of which table, and marking them dirty when a
 * watched key changes.
 *
 * Guarantees:
 * - Once a client WATCHes a key, any later change to that key through any handle (embedded API,
 *   Skyhash, RESP; writes, deletes, lazy and active expiry) and any clear of its table
 *   (FLUSHDB, FLUSHALL, SWAPDB, a drop or restore) marks the client dirty, so its next EXEC
 *   answers a null array. Changes come from the engine's key-change listener, registered while
 *   at least one key is watched.
 * - A watched key whose expiry time passed before EXEC counts as changed (Redis 7.0): `checkExpired`
 *   looks each watched key up, which deletes an expired one and so reports it.
 * - A clear (heard before it happens) dirties the watchers of the keys that exist then, as
 *   Redis 7.0 does: watching a missing key and flushing leaves EXEC free to run.
 * - `unwatchAll` forgets every key of a client (EXEC, DISCARD, UNWATCH, RESET, close); nothing
 *   keeps a closed client reachable.
 */

import type { Database } from '../../database.js';
import type { TableHandle } from '../../engine/handle.js';
import type { RespClient } from './client.js';

interface WatchedTable {
  readonly handle: TableHandle;
  /** key (its bytes as latin1) -> clients watching it. */
  readonly keys: Map<string, Set<RespClient>>;
}

function keyText(bytes: Uint8Array, offset: number, length: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + offset, length).toString('latin1');
}

export class WatchHub {
  private readonly db: Database;
  /** table id -> what is watched in it. */
  private readonly tables = new Map<number, WatchedTable>();
  private unsubscribe: (() => void) | null = null;

  constructor(db: Database) {
    this.db = db;
  }

  watch(client: RespClient, table: TableHandle, key: Uint8Array): void {
    // A key whose time already passed is deleted by this lookup, before it is watched.
    table.findRange(key, 0, key.length);
    const tableId = table.tableId;
    const text = keyText(key, 0, key.length);
    let mine = client.watched.get(tableId);
    if (mine === undefined) client.watched.set(tableId, (mine = new Set()));
    if (mine.has(text)) return;
    mine.add(text);
    let watched = this.tables.get(tableId);
    if (watched === undefined) this.tables.set(tableId, (watched = { handle: table, keys: new Map() }));
    let clients = watched.keys.get(text);
    if (clients === undefined) watched.keys.set(text, (clients = new Set()));
    clients.add(client);
    this.subscribe();
  }

  /** Look up the client's watched keys, so an expired one is deleted (and reported) now. */
  checkExpired(client: RespClient): void {
    for (const [tableId, mine] of client.watched) {
      const handle = this.tables.get(tableId)?.handle;
      if (handle === undefined || handle.isDropped) continue;
      for (const text of mine) {
        const key = Buffer.from(text, 'latin1');
        handle.findRange(key, 0, key.length);
      }
    }
  }

  unwatchAll(client: RespClient): void {
    for (const [tableId, mine] of client.watched) {
      const watched = this.tables.get(tableId);
      if (watched === undefined) continue;
      for (const text of mine) {
        const clients = watched.keys.get(text);
        clients?.delete(client);
        if (clients?.size === 0) watched.keys.delete(text);
      }
      if (watched.keys.size === 0) this.tables.delete(tableId);
    }
    client.watched.clear();
    client.watchDirty = false;
    if (this.tables.size === 0) this.release();
  }

  private keyChanged(tableId: number, bytes: Uint8Array, offset: number, length: number): void {
    const clients = this.tables.get(tableId)?.keys.get(keyText(bytes, offset, length));
    if (clients !== undefined) for (const client of clients) client.watchDirty = true;
  }

  /** Called before the clear: as Redis 7.0, only watched keys that exist are touched by it. */
  private tableCleared(tableId: number): void {
    const watched = this.tables.get(tableId);
    if (watched === undefined) return;
    for (const [text, clients] of watched.keys) {
      if (!this.exists(watched.handle, text)) continue;
      for (const client of clients) client.watchDirty = true;
    }
  }

  private exists(handle: TableHandle, text: string): boolean {
    const key = Buffer.from(text, 'latin1');
    try {
      return handle.findRange(key, 0, key.length);
    } catch {
      return true; // cannot tell (the table is going): a false conflict only costs a retry
    }
  }

  private subscribe(): void {
    if (this.unsubscribe !== null) return;
    this.unsubscribe = this.db.engine.addKeyChangeListener({
      keyChanged: (tableId, bytes, offset, length) => this.keyChanged(tableId, bytes, offset, length),
      tableCleared: (tableId) => this.tableCleared(tableId),
    });
  }

  private release(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }
}
