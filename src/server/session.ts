/**
 * Per-connection state shared by both protocols: the current entity (Skyhash `USE`), the
 * auth state, and the "in use" counts that make DROP refuse a container a connection is on.
 *
 * Guarantees: the session holds exactly one use of its current keyspace and table entries
 * (counted on the engine's entries) and gives them back on every change and on close, so
 * `still-in-use` is exact. Its `auth` (src/auth/provider.ts) is the connection's identity: with
 * an origin key configured a connection starts anonymous and may run only what the protocol
 * allows before auth; RESP clients carry the same AuthSession (src/server/resp/commands.ts).
 */

import type { Engine, KeyspaceEntry, TableEntry } from '../engine/engine.js';
import type { TableHandle } from '../engine/handle.js';
import { kDefaultKeyspace, kDefaultTable } from '../engine/names.js';
import { ErrorCode, FrostError } from '../util/errors.js';
import { AuthSession, type AuthService } from '../auth/provider.js';

export const kDefaultContainerUnset = ErrorCode.defaultContainerUnset;

export class Session {
  private readonly engine: Engine;
  private keyspaceEntry: KeyspaceEntry | null = null;
  private tableEntry: TableEntry | null = null;
  private handle: TableHandle | null = null;
  /** Who this connection is; `auth.authenticated` is always true while auth is off. */
  readonly auth: AuthSession;
  closed = false;

  constructor(engine: Engine, auth: AuthService) {
    this.engine = engine;
    this.auth = new AuthSession(auth);
    this.use(kDefaultKeyspace, kDefaultTable);
  }

  /** Whether this connection may run actions other than AUTH. */
  get authenticated(): boolean {
    return this.auth.authenticated;
  }

  get keyspace(): string | null {
    return this.keyspaceEntry?.name ?? null;
  }

  get table(): string | null {
    return this.tableEntry?.name ?? null;
  }

  /** Switch to `keyspace` (and `table`, or no table). Throws if either does not exist. */
  use(keyspace: string, table: string | null): void {
    const space = this.engine.keyspace(keyspace);
    const entry = table === null ? null : this.engine.entry({ keyspace, table });
    this.release();
    this.keyspaceEntry = space;
    space.uses++;
    this.tableEntry = entry;
    if (entry !== null) entry.uses++;
    this.handle = null;
  }

  /** A handle on the current table; throws ERR_DEFAULT_CONTAINER_UNSET after `USE ks`. */
  current(): TableHandle {
    if (this.handle !== null && !this.handle.isDropped) return this.handle;
    const entry = this.tableEntry;
    if (entry === null || this.keyspaceEntry === null) throw new FrostError(kDefaultContainerUnset, 'no table selected (USE ks:table)');
    this.handle = this.engine.table({ keyspace: entry.keyspace, table: entry.name });
    return this.handle;
  }

  private release(): void {
    if (this.keyspaceEntry !== null) this.keyspaceEntry.uses--;
    if (this.tableEntry !== null) this.tableEntry.uses--;
    this.keyspaceEntry = null;
    this.tableEntry = null;
    this.handle = null;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.release();
  }
}
