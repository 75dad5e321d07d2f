/**
 * The key lookups every RESP hash command starts with (hashes.ts, hash-scan.ts,
 * hash-random.ts): a read counts INFO's keyspace hits and misses as Redis's lookupKeyRead
 * does, a write counts nothing (lookupKeyWrite); both answer WRONGTYPE (ERR_WRONG_TYPE) for a
 * key of another type, before the command reads or changes anything.
 */

import type { TableHandle } from '../../../engine/handle.js';
import { valueView, ValueType } from '../../../engine/value.js';
import type { ArgView } from '../../../protocol/args.js';
import { ErrorCode, FrostError } from '../../../util/errors.js';
import type { RespContext } from './context.js';

function wrongType(): FrostError {
  return new FrostError(ErrorCode.wrongType, 'the key holds another type of value');
}

/** Argument `i` as a hash key for a read: false when missing (an empty hash). */
export function readHash(ctx: RespContext, t: TableHandle, q: ArgView, i: number): boolean {
  const found = t.findRange(q.buffer, q.offset(i), q.length(i));
  if (found) ctx.view.stats.keyspaceHits++;
  else ctx.view.stats.keyspaceMisses++;
  if (found && valueView.type !== ValueType.hash) throw wrongType();
  return found;
}

/** Argument `i` as a hash key for a write (a missing key is created by the write). */
export function checkHashForWrite(t: TableHandle, q: ArgView, i: number): void {
  if (t.findRange(q.buffer, q.offset(i), q.length(i)) && valueView.type !== ValueType.hash) throw wrongType();
}
