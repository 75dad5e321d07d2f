/**
 * What the RESP string-family files share about the value a lookup found: the read lookup
 * (with INFO's hit and miss counts), a private copy of the value, and the check that a value a command builds (APPEND, SETRANGE, SETBIT) fits the table.
 *
 * Guarantees: `copyView` outlives every later table operation (valueView does not);
 * `checkGrownLength` throws the table's own value-limit error (ERR_VALUE_TOO_LARGE, which RESP
 * answers with Redis's "string exceeds maximum allowed size" text) before anything is allocated.
 */

import { valueView } from '../../../engine/value.js';
import type { ArgView } from '../../../protocol/args.js';
import { ErrorCode, FrostError } from '../../../util/errors.js';
import type { RespContext } from './context.js';

/**
 * Look up argument `i` as a string key (another type throws ERR_WRONG_TYPE: WRONGTYPE) for a
 * read, counting INFO's keyspace hits and misses as Redis's read lookups do.
 */
export function readString(ctx: RespContext, q: ArgView, i: number): boolean {
  const found = ctx.table().getRange(q.buffer, q.offset(i), q.length(i));
  if (found) ctx.view.stats.keyspaceHits++;
  else ctx.view.stats.keyspaceMisses++;
  return found;
}

/** A private copy of the value the last lookup found. */
export function copyView(): Buffer {
  return Buffer.from(valueView.bytes.subarray(valueView.offset, valueView.offset + valueView.length));
}

/** Refuse a value of `length` bytes over the table's value limit. */
export function checkGrownLength(ctx: RespContext, length: bigint): void {
  const limit = ctx.db.engine.valueMaxBytes;
  if (length > BigInt(limit)) throw new FrostError(ErrorCode.valueTooLarge, `value of ${length} bytes exceeds the limit of ${limit} bytes`);
}
