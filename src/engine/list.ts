/**
 * List values: a list is stored as one value whose bytes are a MessagePack array of str
 * (list<str>) or bin (list<binstr>) elements, so a saved list is plain MessagePack to any
 * third-party reader.
 *
 * Guarantees: `encodeList` writes the shortest MessagePack headers; `decodeList` accepts any
 * valid array of str/bin elements (whatever header widths) and rejects anything else with
 * ERR_CORRUPT_LIST, never reading past the given bytes.
 */

import { ErrorCode, FrostError } from '../util/errors.js';

export const kListCorrupt = ErrorCode.corruptList;

// MessagePack format bytes used here.
const kFixArrayBase = 0x90;
const kFixArrayMax = 15;
const kArray16 = 0xdc;
const kArray32 = 0xdd;
const kFixStrBase = 0xa0;
const kFixStrMax = 31;
const kStr8 = 0xd9;
const kStr16 = 0xda;
const kStr32 = 0xdb;
const kBin8 = 0xc4;
const kBin16 = 0xc5;
const kBin32 = 0xc6;

export type ElementKind = 'str' | 'binstr';

export function elementHeaderBytes(kind: ElementKind, length: number): number {
  if (kind === 'str' && length <= kFixStrMax) return 1;
  if (length <= 0xff) return 2;
  if (length <= 0xffff) return 3;
  return 5;
}

export function arrayHeaderBytes(count: number): number {
  if (count <= kFixArrayMax) return 1;
  if (count <= 0xffff) return 3;
  return 5;
}

export function writeArrayHeader(out: Uint8Array, offset: number, count: number): number {
  if (count <= kFixArrayMax) {
    out[offset] = kFixArrayBase | count;
    return offset + 1;
  }
  if (count <= 0xffff) {
    out[offset] = kArray16;
    out[offset + 1] = count >>> 8;
    out[offset + 2] = count & 0xff;
    return offset + 3;
  }
  out[offset] = kArray32;
  writeU32BE(out, offset + 1, count);
  return offset + 5;
}

export function writeElementHeader(out: Uint8Array, offset: number, kind: ElementKind, length: number): number {
  if (kind === 'str' && length <= kFixStrMax) {
    out[offset] = kFixStrBase | length;
    return offset + 1;
  }
  if (length <= 0xff) {
    out[offset] = kind === 'str' ? kStr8 : kBin8;
    out[offset + 1] = length;
    return offset + 2;
  }
  if (length <= 0xffff) {
    out[offset] = kind === 'str' ? kStr16 : kBin16;
    out[offset + 1] = length >>> 8;
    out[offset + 2] = length & 0xff;
    return offset + 3;
  }
  out[offset] = kind === 'str' ? kStr32 : kBin32;
  writeU32BE(out, offset + 1, length);
  return offset + 5;
}

function writeU32BE(out: Uint8Array, offset: number, value: number): void {
  out[offset] = value >>> 24;
  out[offset + 1] = (value >>> 16) & 0xff;
  out[offset + 2] = (value >>> 8) & 0xff;
  out[offset + 3] = value & 0xff;
}

function readU32BE(bytes: Uint8Array, offset: number): number {
  return (
    (((bytes[offset] as number) << 24) >>> 0) +
    ((bytes[offset + 1] as number) << 16) +
    ((bytes[offset + 2] as number) << 8) +
    (bytes[offset + 3] as number)
  );
}

export function encodedListBytes(kind: ElementKind, elements: readonly Uint8Array[]): number {
  let total = arrayHeaderBytes(elements.length);
  for (const element of elements) total += elementHeaderBytes(kind, element.length) + element.length;
  return total;
}

export function encodeList(kind: ElementKind, elements: readonly Uint8Array[]): Buffer {
  const out = Buffer.allocUnsafe(encodedListBytes(kind, elements));
  let offset = writeArrayHeader(out, 0, elements.length);
  for (const element of elements) {
    offset = writeElementHeader(out, offset, kind, element.length);
    out.set(element, offset);
    offset += element.length;
  }
  return out;
}

function corrupt(message: string): never {
  throw new FrostError(kListCorrupt, `corrupt list value: ${message}`);
}

/**
 * Read the array header at `offset`; returns [count, offset after the header].
 */
export function readArrayHeader(bytes: Uint8Array, offset: number, end: number): [number, number] {
  if (offset >= end) corrupt('empty');
  const tag = bytes[offset] as number;
  if ((tag & 0xf0) === kFixArrayBase) return [tag & 0x0f, offset + 1];
  if (tag === kArray16) {
    if (offset + 3 > end) corrupt('truncated array header');
    return [((bytes[offset + 1] as number) << 8) | (bytes[offset + 2] as number), offset + 3];
  }
  if (tag === kArray32) {
    if (offset + 5 > end) corrupt('truncated array header');
    return [readU32BE(bytes, offset + 1), offset + 5];
  }
  return corrupt(`not an array (0x${tag.toString(16)})`);
}

/** Read one str/bin element header; returns [payload offset, payload length]. */
export function readElementHeader(bytes: Uint8Array, offset: number, end: number): [number, number] {
  if (offset >= end) corrupt('truncated element');
  const tag = bytes[offset] as number;
  let start: number;
  let length: number;
  if ((tag & 0xe0) === kFixStrBase) {
    start = offset + 1;
    length = tag & 0x1f;
  } else if (tag === kStr8 || tag === kBin8) {
    if (offset + 2 > end) corrupt('truncated element header');
    start = offset + 2;
    length = bytes[offset + 1] as number;
  } else if (tag === kStr16 || tag === kBin16) {
    if (offset + 3 > end) corrupt('truncated element header');
    start = offset + 3;
    length = ((bytes[offset + 1] as number) << 8) | (bytes[offset + 2] as number);
  } else if (tag === kStr32 || tag === kBin32) {
    if (offset + 5 > end) corrupt('truncated element header');
    start = offset + 5;
    length = readU32BE(bytes, offset + 1);
  } else {
    return corrupt(`element is not str or bin (0x${tag.toString(16)})`);
  }
  if (start + length > end) corrupt('element runs past the value');
  return [start, length];
}

/** Decode a list value into views of `bytes` (no copies). */
export function decodeList(bytes: Uint8Array, offset: number, length: number): Uint8Array[] {
  const end = offset + length;
  const [count, first] = readArrayHeader(bytes, offset, end);
  const elements: Uint8Array[] = [];
  let at = first;
  for (let i = 0; i < count; i++) {
    const [start, size] = readElementHeader(bytes, at, end);
    elements.push(bytes.subarray(start, start + size));
    at = start + size;
  }
  if (at !== end) corrupt('trailing bytes after the last element');
  return elements;
}

/** Number of elements, reading only the header. */
export function listLength(bytes: Uint8Array, offset: number, length: number): number {
  return readArrayHeader(bytes, offset, offset + length)[0];
}
