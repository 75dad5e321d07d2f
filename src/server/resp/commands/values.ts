/**
 * The one place RESP reads the value a table lookup found: the engine's zero-copy `valueView`
 * (valid until the next table operation). Every command goes through these helpers.
 *
 * Guarantees: after `getRange`/`findRange` answered true, `foundValueBytes`, `foundValueOffset`
 * and `foundValueLength` describe the value it found, `foundType` and `foundExpiresAtMs` its
 * type code and expiry (0: none); `copyFoundValue` is a private copy.
 */

import { valueView } from '../../../engine/value.js';

export function foundValueBytes(): Uint8Array {
  return valueView.bytes;
}

export function foundValueOffset(): number {
  return valueView.offset;
}

export function foundValueLength(): number {
  return valueView.length;
}

export function foundType(): number {
  return valueView.type;
}

export function foundExpiresAtMs(): number {
  return valueView.expiresAtMs;
}

/** A copy of the found value that outlives the next table operation. */
export function copyFoundValue(): Buffer {
  return Buffer.from(valueView.bytes.subarray(valueView.offset, valueView.offset + valueView.length));
}
