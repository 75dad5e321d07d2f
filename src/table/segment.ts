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
  kEntryValueLengthShift,
  kHeapBytes,
  kHeapFirstEntryBytes,
  kMetaBlobCount,
  kMetaEntryCount,
  kMetaGarbageBytes,
  kMetaHeaderWords,
  kMetaHeapUsedBytes,
  kMetaLocalDepth,
  kMetaMagic,
  kMetaMagicValue,
  kMetaNextBlobId,
  kMetaPrefix,
  kOutOfLineEntryBytes,
  kOutOfLineMarker,
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
  /** Heap bytes the entry occupies (header + inline data, or the out-of-line stub). */
  entryBytes: 0,
  outOfLine: false,
};

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
  if (keyLength !== kOutOfLineMarker) {
    const valueLength = lengths >>> kEntryValueLengthShift;
    record.bytes = view.heap8;
    record.keyOffset = offset + kEntryHeaderBytes;
    record.keyLength = keyLength;
    record.valueOffset = offset + kEntryHeaderBytes + keyLength;
    record.valueLength = valueLength;
    record.entryBytes = inlineEntryBytes(keyLength, valueLength);
    record.outOfLine = false;
    return;
  }
  const blob = blobOf(view, view.heap32[word + kEntryBlobIdWord] as number);
  const blobKeyLength = readU32LE(blob, kBlobKeyLengthOffset);
  record.bytes = blob;
  record.keyOffset = kBlobHeaderBytes;
  record.keyLength = blobKeyLength;
  record.valueOffset = kBlobHeaderBytes + blobKeyLength;
  record.valueLength = readU32LE(blob, kBlobValueLengthOffset);
  record.entryBytes = kOutOfLineEntryBytes;
  record.outOfLine = true;
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
          if (bytesEqual(heap8, offset + kEntryHeaderBytes, key, keyOffset, keyLength)) return i;
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
 * Append a record to the heap (room already checked) and return its offset. Large records
 * get their own immutable blob buffer.
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
): number {
  const meta = view.meta;
  const offset = meta[kMetaHeapUsedBytes] as number;
  const word = offset >>> 2;
  const heap32 = view.heap32;
  heap32[word + kEntryHashWord] = hash;
  if (isInlineRecord(keyLength, valueLength)) {
    heap32[word + kEntryLengthsWord] = keyLength | (valueLength << kEntryValueLengthShift);
    const heap8 = view.heap8;
    copyBytes(heap8, offset + kEntryHeaderBytes, key, keyOffset, keyLength);
    writeValue(heap8, view.heapBuffer, offset + kEntryHeaderBytes + keyLength, value, valueOffset, valueLength);
    meta[kMetaHeapUsedBytes] = offset + inlineEntryBytes(keyLength, valueLength);
    return offset;
  }
  const blobSab = new SharedArrayBuffer(kBlobHeaderBytes + keyLength + valueLength);
  const blob = new Uint8Array(blobSab);
  writeU32LE(blob, kBlobKeyLengthOffset, keyLength);
  writeU32LE(blob, kBlobValueLengthOffset, valueLength);
  copyBytes(blob, kBlobHeaderBytes, key, keyOffset, keyLength);
  writeValue(blob, Buffer.from(blobSab), kBlobHeaderBytes + keyLength, value, valueOffset, valueLength);
  const id = meta[kMetaNextBlobId] as number;
  assert(id < kBlobIdMax, 'blob id space of a segment exhausted (rebuild renumbers)');
  meta[kMetaNextBlobId] = id + 1;
  meta[kMetaBlobCount] = (meta[kMetaBlobCount] as number) + 1;
  if (view.blobs === null) view.blobs = new Map();
  view.blobs.set(id, blob);
  heap32[word + kEntryLengthsWord] = kOutOfLineMarker;
  heap32[word + kEntryBlobIdWord] = id;
  meta[kMetaHeapUsedBytes] = offset + kOutOfLineEntryBytes;
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

/** Account the entry at `offset` as garbage and forget its blob, if any. */
function discardEntry(view: SegmentView, offset: number): number {
  readRecord(view, offset);
  const meta = view.meta;
  meta[kMetaGarbageBytes] = (meta[kMetaGarbageBytes] as number) + record.entryBytes;
  if (record.outOfLine) {
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
 * Overwrite the value of an inline entry in place when the new value keeps the entry's size.
 * Returns false when it cannot (out of line, or a different size).
 */
export function overwriteValueInPlace(
  view: SegmentView,
  slotIndex: number,
  value: ValueSource,
  valueOffset: number,
  valueLength: number,
): boolean {
  const offset = slotOffset(view.meta[kMetaHeaderWords + slotIndex] as number);
  const word = offset >>> 2;
  const lengths = view.heap32[word + kEntryLengthsWord] as number;
  const keyLength = lengths & kEntryKeyLengthMask;
  if (keyLength === kOutOfLineMarker) return false;
  if (!isInlineRecord(keyLength, valueLength)) return false;
  if (inlineEntryBytes(keyLength, valueLength) !== inlineEntryBytes(keyLength, lengths >>> kEntryValueLengthShift)) {
    return false;
  }
  view.heap32[word + kEntryLengthsWord] = keyLength | (valueLength << kEntryValueLengthShift);
  writeValue(view.heap8, view.heapBuffer, offset + kEntryHeaderBytes + keyLength, value, valueOffset, valueLength);
  return true;
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
      const dstMeta = dst.meta;
      newOffset = dstMeta[kMetaHeapUsedBytes] as number;
      assert(newOffset + kOutOfLineEntryBytes <= kHeapBytes, 'rebuild overflowed a heap');
      const id = dstMeta[kMetaNextBlobId] as number;
      dstMeta[kMetaNextBlobId] = id + 1;
      dstMeta[kMetaBlobCount] = (dstMeta[kMetaBlobCount] as number) + 1;
      if (dst.blobs === null) dst.blobs = new Map();
      dst.blobs.set(id, record.bytes);
      const word = newOffset >>> 2;
      dst.heap32[word + kEntryHashWord] = hash;
      dst.heap32[word + kEntryLengthsWord] = kOutOfLineMarker;
      dst.heap32[word + kEntryBlobIdWord] = id;
      dstMeta[kMetaHeapUsedBytes] = newOffset + kOutOfLineEntryBytes;
    } else {
      const dstMeta = dst.meta;
      newOffset = dstMeta[kMetaHeapUsedBytes] as number;
      assert(newOffset + record.entryBytes <= kHeapBytes, 'rebuild overflowed a heap');
      copyBytes(dst.heap8, newOffset, src.heap8, offset, record.entryBytes);
      dstMeta[kMetaHeapUsedBytes] = newOffset + record.entryBytes;
    }
    insertSlot(dst, hash, newOffset);
  }
}

/** Heap bytes of live entries (what a compaction would keep). */
export function liveHeapBytes(view: SegmentView): number {
  return (view.meta[kMetaHeapUsedBytes] as number) - kHeapFirstEntryBytes - (view.meta[kMetaGarbageBytes] as number);
}
