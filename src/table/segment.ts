/**
 * Operations on one segment (an open-addressing slot array over an entry heap).
 *
 * Used by the main thread's Table and by worker threads (encoding reads segments; loading
 * builds them), so nothing here knows about directories, generations or pools.
 *
 * Guarantees:
 * - Linear probing with backward-shift deletion: no tombstones, so a probe for a missing key
 *   stops at the first empty slot and the slot array never degrades with churn.
 * - `appendRecord` only ever writes at or past `kMetaHeapUsedBytes`; existing entries are
 *   changed in place only by `overwriteValueInPlace`, which the Table calls only where no frozen
 *   reader can look: on a heap with a single reference, or on an entry at or past the live
 *   segment's `sharedHeapFloor` (appended after the cut of every segment sharing the heap).
 * - `rebuildInto` reads its source and writes only its destinations, so a frozen source stays
 *   intact while its live replacement is built.
 */

import { slotTag } from './hash.js';
import {
  kBlobHeaderBytes,
  kBlobIdMax,
  kBlobKeyLengthOffset,
  kBlobValueLengthOffset,
  kEntryAlignShift,
  kEntryBlobIdWord,
  kEntryHashWord,
  kEntryHeaderBytes,
  kEntryKeyLengthMask,
  kEntryLengthsWord,
  kEntryExpiryBytes,
  kEntryExpiryFlag,
  kEntryTypeMask,
  kEntryTypeShift,
  kEntryValueLengthMask,
  kEntryValueLengthShift,
  kHeapBytes,
  kHeapFirstEntryBytes,
  kMetaBlobCount,
  kMetaEntryCount,
  kMetaExpiringCount,
  kMetaGarbageBytes,
  kMetaHeaderWords,
  kMetaHeapUsedBytes,
  kMetaLocalDepth,
  kMetaMagic,
  kMetaMagicValue,
  kMetaNextBlobId,
  kMetaPrefix,
  kOutOfLineEntryBytes,
  kOutOfLineExpiryWord,
  kOutOfLineMarker,
  kU32Range,
  kSlotMask,
  kSlotOffsetMask,
  kSlotTagShift,
  kSlotsUsedMax,
  inlineEntryBytes,
  isInlineRecord,
} from './layout.js';
import { assert } from '../util/assert.js';

export interface SegmentView {
  meta: Uint32Array;
  heap8: Uint8Array;
  heap32: Uint32Array;
  /** A Node Buffer over the heap, for native copies and string writes. */
  heapBuffer: Buffer;
  blobs: Map<number, Uint8Array> | null;
}

/** A value to store: bytes, or a string with its UTF-8 length already measured. */
export type ValueSource = Uint8Array | string;

/**
 * Where the last `readRecord` found a record's key and value. A single module-level cursor:
 * each thread runs one operation at a time, and callers read it before the next call.
 */
export const record = {
  bytes: new Uint8Array(0) as Uint8Array,
  keyOffset: 0,
  keyLength: 0,
  valueOffset: 0,
  valueLength: 0,
  /** Heap bytes the entry occupies (header [+ expiry] + inline data, or the out-of-line stub). */
  entryBytes: 0,
  outOfLine: false,
  /** The record's type code (src/engine/value.ts names them; 0 is a plain string). */
  type: 0,
  /** Absolute expiry time in ms since the epoch, or 0 for none. */
  expiresAtMs: 0,
};

/** The lengths word's type and expiry bits for a record of `type` expiring at `expiresAtMs` (0: never). */
export function entryFlags(type: number, expiresAtMs: number): number {
  return ((type & kEntryTypeMask) << kEntryTypeShift) | (expiresAtMs !== 0 ? kEntryExpiryFlag : 0);
}

function readExpiry(heap32: Uint32Array, word: number): number {
  return (heap32[word] as number) + (heap32[word + 1] as number) * kU32Range;
}

function writeExpiry(heap32: Uint32Array, word: number, expiresAtMs: number): void {
  heap32[word] = expiresAtMs % kU32Range;
  heap32[word + 1] = Math.floor(expiresAtMs / kU32Range);
}

/** Word index of the expiry time of the entry at `offset`, given its lengths word. */
function expiryWord(offset: number, lengths: number): number {
  return (lengths & kEntryKeyLengthMask) === kOutOfLineMarker ? (offset >>> 2) + kOutOfLineExpiryWord : (offset >>> 2) + 2;
}

export function initSegment(view: SegmentView, localDepth: number, prefix: number): void {
  const meta = view.meta;
  meta[kMetaMagic] = kMetaMagicValue;
  meta[kMetaEntryCount] = 0;
  meta[kMetaHeapUsedBytes] = kHeapFirstEntryBytes;
  meta[kMetaGarbageBytes] = 0;
  meta[kMetaLocalDepth] = localDepth;
  meta[kMetaPrefix] = prefix;
  meta[kMetaBlobCount] = 0;
  meta[kMetaNextBlobId] = 1;
  meta[kMetaExpiringCount] = 0;
}

export function readU32LE(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset] as number) |
      ((bytes[offset + 1] as number) << 8) |
      ((bytes[offset + 2] as number) << 16) |
      ((bytes[offset + 3] as number) << 24)) >>>
    0
  );
}

export function writeU32LE(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = (value >>> 24) & 0xff;
}

const nativeCopy = Buffer.prototype.copy;
/** Runs longer than this are copied natively (measured: 16 ns for 64 bytes vs 54 ns in a loop). */
const kLoopCopyMaxBytes = 16;

/** Copy bytes between any Uint8Arrays (shared or not) without allocating a subarray. */
export function copyBytes(dst: Uint8Array, dstOffset: number, src: Uint8Array, srcOffset: number, length: number): void {
  if (length <= kLoopCopyMaxBytes) {
    for (let i = 0; i < length; i++) dst[dstOffset + i] = src[srcOffset + i] as number;
  } else {
    nativeCopy.call(src, dst, dstOffset, srcOffset, srcOffset + length);
  }
}

/**
 * Write a value (bytes or a string of `length` UTF-8 bytes) at `offset` of `dst`, whose Node
 * Buffer view is `dstBuffer`. ASCII strings (UTF-8 length equals string length) take the
 * latin1 writer, which is byte-for-byte the same for them and faster than the UTF-8 one.
 */
export function writeValue(dst: Uint8Array, dstBuffer: Buffer, offset: number, value: ValueSource, valueOffset: number, length: number): void {
  if (typeof value !== 'string') {
    copyBytes(dst, offset, value, valueOffset, length);
  } else if (length === value.length) {
    dstBuffer.write(value, offset, length, 'latin1');
  } else {
    const written = dstBuffer.write(value, offset, length, 'utf8');
    assert(written === length, 'string value length changed while writing');
  }
}

function bytesEqual(a: Uint8Array, aOffset: number, b: Uint8Array, bOffset: number, length: number): boolean {
  for (let i = 0; i < length; i++) if (a[aOffset + i] !== b[bOffset + i]) return false;
  return true;
}

function blobOf(view: SegmentView, id: number): Uint8Array {
  const blob = view.blobs === null ? undefined : view.blobs.get(id);
  assert(blob !== undefined, `out-of-line entry refers to missing blob ${id}`);
  return blob;
}

/** Fill `record` with the entry at heap offset `offset`. */
export function readRecord(view: SegmentView, offset: number): void {
  const word = offset >>> 2;
  const lengths = view.heap32[word + kEntryLengthsWord] as number;
  const keyLength = lengths & kEntryKeyLengthMask;
  const expiring = (lengths & kEntryExpiryFlag) !== 0;
  record.type = (lengths >>> kEntryTypeShift) & kEntryTypeMask;
  if (keyLength !== kOutOfLineMarker) {
    const valueLength = (lengths >>> kEntryValueLengthShift) & kEntryValueLengthMask;
    const keyOffset = offset + (expiring ? kEntryHeaderBytes + kEntryExpiryBytes : kEntryHeaderBytes);
    record.bytes = view.heap8;
    record.keyOffset = keyOffset;
    record.keyLength = keyLength;
    record.valueOffset = keyOffset + keyLength;
    record.valueLength = valueLength;
    record.entryBytes = inlineEntryBytes(keyLength, valueLength, expiring);
    record.outOfLine = false;
    record.expiresAtMs = expiring ? readExpiry(view.heap32, word + 2) : 0;
    return;
  }
  const blob = blobOf(view, view.heap32[word + kEntryBlobIdWord] as number);
  const blobKeyLength = readU32LE(blob, kBlobKeyLengthOffset);
  record.bytes = blob;
  record.keyOffset = kBlobHeaderBytes;
  record.keyLength = blobKeyLength;
  record.valueOffset = kBlobHeaderBytes + blobKeyLength;
  record.valueLength = readU32LE(blob, kBlobValueLengthOffset);
  record.entryBytes = expiring ? kOutOfLineEntryBytes + kEntryExpiryBytes : kOutOfLineEntryBytes;
  record.outOfLine = true;
  record.expiresAtMs = expiring ? readExpiry(view.heap32, word + kOutOfLineExpiryWord) : 0;
}

/** The expiry time (0: none) of the entry at heap offset `offset`, without reading the rest. */
export function entryExpiry(view: SegmentView, offset: number): number {
  const lengths = view.heap32[(offset >>> 2) + kEntryLengthsWord] as number;
  if ((lengths & kEntryExpiryFlag) === 0) return 0;
  return readExpiry(view.heap32, expiryWord(offset, lengths));
}

export function slotOffset(slot: number): number {
  return (slot & kSlotOffsetMask) << kEntryAlignShift;
}

/**
 * Where the last `findSlot` miss stopped: the empty slot an insert of that key takes (linear
 * probing puts a new key at the first empty slot of its run), so the insert need not probe again.
 */
export const probe = { emptySlot: -1 };

/** Slot index holding `key`, or -1 (then `probe.emptySlot` is where it would go). */
export function findSlot(view: SegmentView, hash: number, key: Uint8Array, keyOffset: number, keyLength: number): number {
  const meta = view.meta;
  const heap32 = view.heap32;
  const heap8 = view.heap8;
  const tag = slotTag(hash);
  let i = hash & kSlotMask;
  for (;;) {
    const slot = meta[kMetaHeaderWords + i] as number;
    if (slot === 0) {
      probe.emptySlot = i;
      return -1;
    }
    if (slot >>> kSlotTagShift === tag) {
      const offset = (slot & kSlotOffsetMask) << kEntryAlignShift;
      const word = offset >>> 2;
      if (heap32[word + kEntryHashWord] === hash) {
        const lengths = heap32[word + kEntryLengthsWord] as number;
        const entryKeyLength = lengths & kEntryKeyLengthMask;
        if (entryKeyLength === keyLength) {
          const at = (lengths & kEntryExpiryFlag) === 0 ? offset + kEntryHeaderBytes : offset + kEntryHeaderBytes + kEntryExpiryBytes;
          if (bytesEqual(heap8, at, key, keyOffset, keyLength)) return i;
        } else if (entryKeyLength === kOutOfLineMarker) {
          const blob = blobOf(view, heap32[word + kEntryBlobIdWord] as number);
          if (
            readU32LE(blob, kBlobKeyLengthOffset) === keyLength &&
            bytesEqual(blob, kBlobHeaderBytes, key, keyOffset, keyLength)
          ) {
            return i;
          }
        }
      }
    }
    i = (i + 1) & kSlotMask;
  }
}

export function entryCount(view: SegmentView): number {
  return view.meta[kMetaEntryCount] as number;
}

/** Whether one more entry of `entryBytes` heap bytes fits without a rebuild. */
export function hasRoom(view: SegmentView, entryBytes: number): boolean {
  const meta = view.meta;
  return (
    (meta[kMetaEntryCount] as number) < kSlotsUsedMax &&
    (meta[kMetaHeapUsedBytes] as number) + entryBytes <= kHeapBytes
  );
}

/** Whether the heap has room for `entryBytes` more (for replacing an existing entry). */
export function hasHeapRoom(view: SegmentView, entryBytes: number): boolean {
  return (view.meta[kMetaHeapUsedBytes] as number) + entryBytes <= kHeapBytes;
}

/**
 * Append a record to the heap (room already checked: `entryHeapBytes(keyLength, valueLength,
 * expiresAtMs !== 0)`) and return its offset. Large records get their own immutable blob buffer.
 */
export function appendRecord(
  view: SegmentView,
  hash: number,
  key: Uint8Array,
  keyOffset: number,
  keyLength: number,
  value: ValueSource,
  valueOffset: number,
  valueLength: number,
  type = 0,
  expiresAtMs = 0,
): number {
  const meta = view.meta;
  const offset = meta[kMetaHeapUsedBytes] as number;
  const word = offset >>> 2;
  const heap32 = view.heap32;
  const expiring = expiresAtMs !== 0;
  const flags = entryFlags(type, expiresAtMs);
  heap32[word + kEntryHashWord] = hash;
  if (expiring) meta[kMetaExpiringCount] = (meta[kMetaExpiringCount] as number) + 1;
  if (isInlineRecord(keyLength, valueLength, expiring)) {
    heap32[word + kEntryLengthsWord] = (keyLength | (valueLength << kEntryValueLengthShift) | flags) >>> 0;
    const keyAt = offset + (expiring ? kEntryHeaderBytes + kEntryExpiryBytes : kEntryHeaderBytes);
    if (expiring) writeExpiry(heap32, word + 2, expiresAtMs);
    const heap8 = view.heap8;
    copyBytes(heap8, keyAt, key, keyOffset, keyLength);
    writeValue(heap8, view.heapBuffer, keyAt + keyLength, value, valueOffset, valueLength);
    meta[kMetaHeapUsedBytes] = offset + inlineEntryBytes(keyLength, valueLength, expiring);
    return offset;
  }
  const blobSab = new SharedArrayBuffer(kBlobHeaderBytes + keyLength + valueLength);
  const blob = new Uint8Array(blobSab);
  writeU32LE(blob, kBlobKeyLengthOffset, keyLength);
  writeU32LE(blob, kBlobValueLengthOffset, valueLength);
  copyBytes(blob, kBlobHeaderBytes, key, keyOffset, keyLength);
  writeValue(blob, Buffer.from(blobSab), kBlobHeaderBytes + keyLength, value, valueOffset, valueLength);
  appendStub(view, hash, newBlobId(view, blob), flags, expiresAtMs);
  return offset;
}

function newBlobId(view: SegmentView, blob: Uint8Array): number {
  const meta = view.meta;
  const id = meta[kMetaNextBlobId] as number;
  assert(id < kBlobIdMax, 'blob id space of a segment exhausted (rebuild renumbers)');
  meta[kMetaNextBlobId] = id + 1;
  meta[kMetaBlobCount] = (meta[kMetaBlobCount] as number) + 1;
  if (view.blobs === null) view.blobs = new Map();
  view.blobs.set(id, blob);
  return id;
}

/** Append an out-of-line stub for blob `id` (already in the segment's map); returns its offset. */
function appendStub(view: SegmentView, hash: number, id: number, flags: number, expiresAtMs: number): number {
  const meta = view.meta;
  const offset = meta[kMetaHeapUsedBytes] as number;
  assert(offset + kOutOfLineEntryBytes + (expiresAtMs !== 0 ? kEntryExpiryBytes : 0) <= kHeapBytes, 'stub overflowed a heap');
  const word = offset >>> 2;
  const heap32 = view.heap32;
  heap32[word + kEntryHashWord] = hash;
  heap32[word + kEntryLengthsWord] = (kOutOfLineMarker | flags) >>> 0;
  heap32[word + kEntryBlobIdWord] = id;
  heap32[word + 3] = 0;
  if (expiresAtMs !== 0) {
    writeExpiry(heap32, word + kOutOfLineExpiryWord, expiresAtMs);
    meta[kMetaHeapUsedBytes] = offset + kOutOfLineEntryBytes + kEntryExpiryBytes;
  } else {
    meta[kMetaHeapUsedBytes] = offset + kOutOfLineEntryBytes;
  }
  return offset;
}

/** Put the entry at `offset` into `slotIndex`, an empty slot that `findSlot` just reported. */
export function insertSlotAt(view: SegmentView, hash: number, offset: number, slotIndex: number): void {
  const meta = view.meta;
  assert((meta[kMetaHeaderWords + slotIndex] as number) === 0, 'insertSlotAt into an occupied slot');
  meta[kMetaHeaderWords + slotIndex] = (slotTag(hash) << kSlotTagShift) | (offset >>> kEntryAlignShift);
  meta[kMetaEntryCount] = (meta[kMetaEntryCount] as number) + 1;
}

/** Put a new slot for the entry at `offset` (the key must not be present). */
export function insertSlot(view: SegmentView, hash: number, offset: number): void {
  const meta = view.meta;
  let i = hash & kSlotMask;
  while ((meta[kMetaHeaderWords + i] as number) !== 0) i = (i + 1) & kSlotMask;
  meta[kMetaHeaderWords + i] = (slotTag(hash) << kSlotTagShift) | (offset >>> kEntryAlignShift);
  meta[kMetaEntryCount] = (meta[kMetaEntryCount] as number) + 1;
}

/** Account the entry at `offset` as garbage and forget its blob, if any (unless `keepBlob`). */
function discardEntry(view: SegmentView, offset: number, keepBlob = false): number {
  readRecord(view, offset);
  const meta = view.meta;
  meta[kMetaGarbageBytes] = (meta[kMetaGarbageBytes] as number) + record.entryBytes;
  if (record.expiresAtMs !== 0) meta[kMetaExpiringCount] = (meta[kMetaExpiringCount] as number) - 1;
  if (record.outOfLine && !keepBlob) {
    view.blobs!.delete(view.heap32[(offset >>> 2) + kEntryBlobIdWord] as number);
    meta[kMetaBlobCount] = (meta[kMetaBlobCount] as number) - 1;
  }
  return record.entryBytes;
}

/** Point slot `slotIndex` at a freshly appended entry; the old one becomes garbage. */
export function repointSlot(view: SegmentView, slotIndex: number, newOffset: number): void {
  const meta = view.meta;
  const slot = meta[kMetaHeaderWords + slotIndex] as number;
  discardEntry(view, slotOffset(slot));
  meta[kMetaHeaderWords + slotIndex] = (slot & ~kSlotOffsetMask) | (newOffset >>> kEntryAlignShift);
}

/**
 * Overwrite the value (and type and expiry time) of an inline entry in place when the entry
 * keeps its size and whether it has an expiry. Returns false when it cannot.
 */
export function overwriteValueInPlace(
  view: SegmentView,
  slotIndex: number,
  value: ValueSource,
  valueOffset: number,
  valueLength: number,
  type = 0,
  expiresAtMs = 0,
): boolean {
  const offset = slotOffset(view.meta[kMetaHeaderWords + slotIndex] as number);
  const word = offset >>> 2;
  const lengths = view.heap32[word + kEntryLengthsWord] as number;
  const keyLength = lengths & kEntryKeyLengthMask;
  const expiring = expiresAtMs !== 0;
  if (keyLength === kOutOfLineMarker) return false;
  if (((lengths & kEntryExpiryFlag) !== 0) !== expiring) return false;
  if (!isInlineRecord(keyLength, valueLength, expiring)) return false;
  const oldValueLength = (lengths >>> kEntryValueLengthShift) & kEntryValueLengthMask;
  if (inlineEntryBytes(keyLength, valueLength, expiring) !== inlineEntryBytes(keyLength, oldValueLength, expiring)) return false;
  view.heap32[word + kEntryLengthsWord] = (keyLength | (valueLength << kEntryValueLengthShift) | entryFlags(type, expiresAtMs)) >>> 0;
  if (expiring) writeExpiry(view.heap32, word + 2, expiresAtMs);
  const keyAt = offset + (expiring ? kEntryHeaderBytes + kEntryExpiryBytes : kEntryHeaderBytes);
  writeValue(view.heap8, view.heapBuffer, keyAt + keyLength, value, valueOffset, valueLength);
  return true;
}

/**
 * Change only the expiry time of the entry in `slotIndex` in place, when it already has one and
 * `expiresAtMs` is not 0. Returns false when the entry must be re-appended instead.
 */
export function setExpiryInPlace(view: SegmentView, slotIndex: number, expiresAtMs: number): boolean {
  if (expiresAtMs === 0) return false;
  const offset = slotOffset(view.meta[kMetaHeaderWords + slotIndex] as number);
  const lengths = view.heap32[(offset >>> 2) + kEntryLengthsWord] as number;
  if ((lengths & kEntryExpiryFlag) === 0) return false;
  writeExpiry(view.heap32, expiryWord(offset, lengths), expiresAtMs);
  return true;
}

/** Heap bytes a copy of the entry in `slotIndex` with expiry `expiresAtMs` (0: none) takes. */
export function restampedEntryBytes(view: SegmentView, slotIndex: number, expiresAtMs: number): number {
  readRecord(view, slotOffset(view.meta[kMetaHeaderWords + slotIndex] as number));
  const expiring = expiresAtMs !== 0;
  if (record.outOfLine) return expiring ? kOutOfLineEntryBytes + kEntryExpiryBytes : kOutOfLineEntryBytes;
  return inlineEntryBytes(record.keyLength, record.valueLength, expiring);
}

/**
 * Re-append the entry in `slotIndex` with a new expiry time (0: none), same key, value and
 * type, and repoint its slot (room already checked with `restampedEntryBytes`). An out-of-line
 * entry gets a new stub over the same immutable blob, so no value bytes are copied.
 */
export function restampEntry(view: SegmentView, slotIndex: number, expiresAtMs: number): void {
  const meta = view.meta;
  const slot = meta[kMetaHeaderWords + slotIndex] as number;
  const oldOffset = slotOffset(slot);
  const hash = view.heap32[(oldOffset >>> 2) + kEntryHashWord] as number;
  readRecord(view, oldOffset);
  let newOffset: number;
  if (record.outOfLine) {
    const id = view.heap32[(oldOffset >>> 2) + kEntryBlobIdWord] as number;
    newOffset = appendStub(view, hash, id, entryFlags(record.type, expiresAtMs), expiresAtMs);
    if (expiresAtMs !== 0) meta[kMetaExpiringCount] = (meta[kMetaExpiringCount] as number) + 1;
    discardEntry(view, oldOffset, true);
  } else {
    newOffset = appendRecord(view, hash, record.bytes, record.keyOffset, record.keyLength, record.bytes, record.valueOffset, record.valueLength, record.type, expiresAtMs);
    discardEntry(view, oldOffset);
  }
  meta[kMetaHeaderWords + slotIndex] = (slot & ~kSlotOffsetMask) | (newOffset >>> kEntryAlignShift);
}

/** Remove the entry in `slotIndex`: garbage-account it and close the probe gap. */
export function deleteSlot(view: SegmentView, slotIndex: number): void {
  const meta = view.meta;
  const heap32 = view.heap32;
  discardEntry(view, slotOffset(meta[kMetaHeaderWords + slotIndex] as number));
  meta[kMetaEntryCount] = (meta[kMetaEntryCount] as number) - 1;
  // Backward-shift: move later entries of the same probe run into the gap when their home
  // slot is not cyclically inside (gap, their position].
  let gap = slotIndex;
  let j = slotIndex;
  for (;;) {
    j = (j + 1) & kSlotMask;
    const slot = meta[kMetaHeaderWords + j] as number;
    if (slot === 0) break;
    const home = (heap32[slotOffset(slot) >>> 2] as number) & kSlotMask;
    const distanceFromHome = (j - home) & kSlotMask;
    const distanceFromGap = (j - gap) & kSlotMask;
    if (distanceFromHome >= distanceFromGap) {
      meta[kMetaHeaderWords + gap] = slot;
      gap = j;
    }
  }
  meta[kMetaHeaderWords + gap] = 0;
}

/**
 * Copy every live entry of `src` into `low` (and, when splitting, the entries whose hash has
 * bit `splitBitShift` set into `high`). Destinations must be freshly initialised. Blob ids are
 * renumbered densely, which is what keeps the per-segment id space from running out.
 */
export function rebuildInto(src: SegmentView, low: SegmentView, high: SegmentView | null, splitBitShift: number): void {
  const meta = src.meta;
  const heap32 = src.heap32;
  for (let i = 0; i < kSlotMask + 1; i++) {
    const slot = meta[kMetaHeaderWords + i] as number;
    if (slot === 0) continue;
    const offset = slotOffset(slot);
    const hash = heap32[(offset >>> 2) + kEntryHashWord] as number;
    const dst = high !== null && ((hash >>> splitBitShift) & 1) === 1 ? high : low;
    readRecord(src, offset);
    let newOffset: number;
    if (record.outOfLine) {
      // Move the blob (immutable, so sharing it with the frozen source is safe).
      newOffset = appendStub(dst, hash, newBlobId(dst, record.bytes), entryFlags(record.type, record.expiresAtMs), record.expiresAtMs);
    } else {
      const dstMeta = dst.meta;
      newOffset = dstMeta[kMetaHeapUsedBytes] as number;
      assert(newOffset + record.entryBytes <= kHeapBytes, 'rebuild overflowed a heap');
      copyBytes(dst.heap8, newOffset, src.heap8, offset, record.entryBytes);
      dstMeta[kMetaHeapUsedBytes] = newOffset + record.entryBytes;
    }
    if (record.expiresAtMs !== 0) dst.meta[kMetaExpiringCount] = (dst.meta[kMetaExpiringCount] as number) + 1;
    insertSlot(dst, hash, newOffset);
  }
}

/** Heap bytes of live entries (what a compaction would keep). */
export function liveHeapBytes(view: SegmentView): number {
  return (view.meta[kMetaHeapUsedBytes] as number) - kHeapFirstEntryBytes - (view.meta[kMetaGarbageBytes] as number);
}
