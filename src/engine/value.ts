/**
 * What a key holds: its type and its expiry time, and the zero-copy view of a found value that
 * the servers read through (they never touch the table's own record cursor).
 *
 * Guarantees:
 * - `ValueType` codes are the ones stored in every record (3 bits, src/table/layout.ts) and in
 *   format-2 save files; a code is never reused for another type.
 * - `valueView` is filled by the handle's lookups and describes bytes inside the table: valid
 *   until the next table operation, never to be written to, never kept.
 * - Expiry times are absolute ms since the epoch; `kNoExpiry` (0) means none.
 */

import { kExpiryMaxMs, kKeepExpiry, kNoExpiry } from '../table/table.js';

export const ValueType = {
  string: 0,
  list: 1,
  hash: 2,
  // 3 set and 4 zset are reserved for the collection types that come next.
} as const;
export type ValueTypeCode = (typeof ValueType)[keyof typeof ValueType];

/** Redis's name for each type (TYPE, SCAN TYPE); the embedded API's `type()` answers the same. */
export const kTypeNames: Readonly<Record<ValueTypeCode, string>> = { 0: 'string', 1: 'list', 2: 'hash' };
export type TypeName = 'string' | 'list' | 'hash';

export { kExpiryMaxMs, kKeepExpiry, kNoExpiry };

/** The found value: bytes[offset, offset + length), its type code and expiry time (0: none). */
export const valueView = {
  bytes: new Uint8Array(0) as Uint8Array,
  offset: 0,
  length: 0,
  type: 0,
  expiresAtMs: 0,
};
