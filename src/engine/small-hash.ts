/**
 * The stored value of a hash key: either the whole hash inline (small) or a reference to the
 * collection table that holds it (large). ARCHITECTURE.md "Collections" has the design.
 *
 *   small:      [u8 kHashSmall][u16 LE count] then count x ([u16 LE fieldLength][field]
 *               [u16 LE valueLength][value])
 *   reference:  [u8 kHashTable][u32 LE collection id]
 *
 * Guarantees:
 * - A small encoding never exceeds kSmallHashBytesMax bytes nor kSmallHashFieldsMax fields:
 *   `fitsSmall` says whether a change keeps it small; callers move the hash to a collection
 *   table before it would not, so a write to a small hash copies at most that many bytes.
 * - Fields are unique; order is insertion order (a replaced field keeps its place).
 * - `checkHashValue` says whether bytes are one of the two shapes; the loader checks every
 *   hash record of a save with it, so a corrupt one is refused at load, not at first use.
 */

export const kHashSmall = 0;
export const kHashTable = 1;
export const kHashReferenceBytes = 5;
/** Redis's hash-max-listpack-entries default: past this many fields a hash becomes a table. */
export const kSmallHashFieldsMax = 128;
/** Past this many encoded bytes a hash becomes a table (an inline heap entry holds 4 KiB with its key). */
export const kSmallHashBytesMax = 3072;
const kHeaderBytes = 3;
const kLengthBytes = 2;

/** One field of a small hash: offsets into the encoding. */
export interface SmallField {
  fieldOffset: number;
  fieldLength: number;
  valueOffset: number;
  valueLength: number;
}

export function hashEncoding(bytes: Uint8Array, offset: number): number {
  return bytes[offset] as number;
}

export function referenceId(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset + 1] as number) | ((bytes[offset + 2] as number) << 8) | ((bytes[offset + 3] as number) << 16) | ((bytes[offset + 4] as number) << 24)) >>> 0;
}

export function encodeReference(id: number): Buffer {
  const out = Buffer.allocUnsafe(kHashReferenceBytes);
  out[0] = kHashTable;
  out.writeUInt32LE(id >>> 0, 1);
  return out;
}

/** Whether bytes[offset, offset+length) is a well-formed hash value (either shape). */
export function checkHashValue(bytes: Uint8Array, offset: number, length: number): boolean {
  if (length < 1) return false;
  const encoding = bytes[offset];
  if (encoding === kHashTable) return length === kHashReferenceBytes;
  if (encoding !== kHashSmall || length < kHeaderBytes) return false;
  const count = readU16(bytes, offset + 1);
  let at = offset + kHeaderBytes;
  const end = offset + length;
  for (let i = 0; i < count * 2; i++) {
    if (at + kLengthBytes > end) return false;
    at += kLengthBytes + readU16(bytes, at);
    if (at > end) return false;
  }
  return at === end;
}

function readU16(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] as number) | ((bytes[offset + 1] as number) << 8);
}

/** The fields of a small hash, in order (offsets into `bytes`). */
export function smallFields(bytes: Uint8Array, offset: number): SmallField[] {
  const count = readU16(bytes, offset + 1);
  const out: SmallField[] = [];
  let at = offset + kHeaderBytes;
  for (let i = 0; i < count; i++) {
    const fieldLength = readU16(bytes, at);
    const fieldOffset = at + kLengthBytes;
    at = fieldOffset + fieldLength;
    const valueLength = readU16(bytes, at);
    const valueOffset = at + kLengthBytes;
    at = valueOffset + valueLength;
    out.push({ fieldOffset, fieldLength, valueOffset, valueLength });
  }
  return out;
}

export function smallCount(bytes: Uint8Array, offset: number): number {
  return readU16(bytes, offset + 1);
}

/** The field named `field` of a small hash, or undefined. */
export function smallFind(bytes: Uint8Array, offset: number, field: Uint8Array): SmallField | undefined {
  const count = readU16(bytes, offset + 1);
  let at = offset + kHeaderBytes;
  for (let i = 0; i < count; i++) {
    const fieldLength = readU16(bytes, at);
    const fieldOffset = at + kLengthBytes;
    at = fieldOffset + fieldLength;
    const valueLength = readU16(bytes, at);
    const valueOffset = at + kLengthBytes;
    at = valueOffset + valueLength;
    if (fieldLength === field.length && Buffer.compare(field, bytes.subarray(fieldOffset, fieldOffset + fieldLength)) === 0) {
      return { fieldOffset, fieldLength, valueOffset, valueLength };
    }
  }
  return undefined;
}

/** A small hash's pairs as copies, for rebuilding. */
export function smallPairs(bytes: Uint8Array, offset: number): Array<[Buffer, Buffer]> {
  return smallFields(bytes, offset).map((f) => [
    Buffer.from(bytes.subarray(f.fieldOffset, f.fieldOffset + f.fieldLength)),
    Buffer.from(bytes.subarray(f.valueOffset, f.valueOffset + f.valueLength)),
  ]);
}

/** Bytes one field/value pair adds to a small encoding. */
export function smallPairBytes(field: Uint8Array, value: Uint8Array): number {
  return 2 * kLengthBytes + field.length + value.length;
}

/** Encoded size of a small hash holding `pairs`. */
export function smallBytes(pairs: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): number {
  let total = kHeaderBytes;
  for (const [field, value] of pairs) total += 2 * kLengthBytes + field.length + value.length;
  return total;
}

/** Whether `pairs` fit the small encoding. */
export function fitsSmall(pairs: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): boolean {
  return pairs.length <= kSmallHashFieldsMax && smallBytes(pairs) <= kSmallHashBytesMax;
}

export function encodeSmall(pairs: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): Buffer {
  const out = Buffer.allocUnsafe(smallBytes(pairs));
  out[0] = kHashSmall;
  out.writeUInt16LE(pairs.length, 1);
  let at = kHeaderBytes;
  for (const [field, value] of pairs) {
    out.writeUInt16LE(field.length, at);
    out.set(field, at + kLengthBytes);
    at += kLengthBytes + field.length;
    out.writeUInt16LE(value.length, at);
    out.set(value, at + kLengthBytes);
    at += kLengthBytes + value.length;
  }
  return out;
}
