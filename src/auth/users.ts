/**
 * The users of auth: names and token digests in the engine's `system:auth` table.
 *
 * Guarantees:
 * - A user name is 1 to 40 ASCII bytes (Skytable 0.7.7's AUTHID rule, plus "not empty"); the
 *   table maps it to the SHA-256 digest of its current token, never the token.
 * - Every change counts as a write for the save scheduler (engine.noteChanges), so the next
 *   live save carries it even when no data key changed. Auth changes are not refused while
 *   the database is read-only after a failed save (Skytable kept its auth map apart from the
 *   data): they are in memory at once and on disk with the next successful save.
 * - `verify` compares digests in constant time (tokens.ts) and answers false for an unknown
 *   user after doing the same hashing work.
 */

import type { Engine } from '../engine/engine.js';
import { tokenMatches } from './tokens.js';

/** Longest user name, in bytes (Skytable's AUTHID_SIZE). */
export const kUserNameMaxBytes = 40;
/** The user CLAIM creates. */
export const kRootUser = 'root';

/** Whether `name` is a legal user name: 1-40 bytes, all ASCII. */
export function isLegalUserName(name: Uint8Array): boolean {
  if (name.length === 0 || name.length > kUserNameMaxBytes) return false;
  for (const byte of name) if (byte > 0x7f) return false;
  return true;
}

export class UserStore {
  private readonly engine: Engine;

  constructor(engine: Engine) {
    this.engine = engine;
  }

  has(name: string): boolean {
    return this.engine.authTable.has(name);
  }

  /** Add `name` with the token digest `digest`; false if the name is taken. */
  insert(name: string, digest: Buffer): boolean {
    const added = this.engine.authTable.insert(name, digest);
    if (added) this.engine.noteChanges(1);
    return added;
  }

  /** Replace the digest of an existing user; false if there is no such user. */
  update(name: string, digest: Buffer): boolean {
    const updated = this.engine.authTable.update(name, digest);
    if (updated) this.engine.noteChanges(1);
    return updated;
  }

  delete(name: string): boolean {
    const deleted = this.engine.authTable.delete(name);
    if (deleted) this.engine.noteChanges(1);
    return deleted;
  }

  /** Whether `token` is the current token of `name` (constant-time digest comparison). */
  verify(name: Uint8Array, token: Uint8Array): boolean {
    // An unknown user's token is still hashed and compared, so both answers cost the same.
    const stored = isLegalUserName(name) ? this.engine.authTable.get(name) : undefined;
    return tokenMatches(token, stored ?? null);
  }

  /** Every user name, in the table's hash order (Skytable's order was its hash map's too). */
  names(): string[] {
    const out: string[] = [];
    this.engine.authTable.scanKeys(Number.MAX_SAFE_INTEGER, (bytes, offset, length) => {
      out.push(Buffer.from(bytes.buffer, bytes.byteOffset + offset, length).toString('latin1'));
    });
    return out;
  }

  get size(): number {
    return this.engine.authTable.size;
  }

  /** The digest stored for `name` (tests check that no token is stored). */
  digestOf(name: string): Buffer | undefined {
    return this.engine.authTable.get(name);
  }
}
