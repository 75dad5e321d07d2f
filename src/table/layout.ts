/**
 * Shared-buffer layout of a table segment: every slot named, checked once at load.
 *
 * A segment is two SharedArrayBuffers. They are split so that copy-on-write during a save
 * copies only the small one (the slot array, about 6% of the segment): the heap is append-only
 * while any frozen generation holds it, so the frozen and the live segment can share it.
 *
 *   meta buffer (Uint32 words)                     heap buffer (bytes)
 *   ┌──────────────────────────────┐               ┌───────────────────────────────────────┐
 *   │ 0 kMetaMagic                 │               │ 0..7   reserved: offset unit 0 = empty│
 *   │ 1 kMetaEntryCount            │               │ 8..    entries, 8-byte aligned, append│
 *   │ 2 kMetaHeapUsedBytes ────────┼──► end of ───►│        only while a frozen generation │
 *   │ 3 kMetaGarbageBytes          │    appended   │        holds this heap                │
 *   │ 4 kMetaLocalDepth            │    entries    │ ...                                   │
 *   │ 5 kMetaPrefix                │               │ kHeapBytes                            │
 *   │ 6 kMetaBlobCount             │               └───────────────────────────────────────┘
 *   │ 7 kMetaNextBlobId            │
 *   │ 8 kMetaExpiringCount         │
 *   │ 16.. kSlotCount slots (u32)  │   slot = tag(16 bits) << 16 | entry offset / 8 (16 bits)
 *   └──────────────────────────────┘   slot 0 means empty (no entry lives at offset 0)
 *
 *   inline entry at offset o (Uint32 words o/4 ...):
 *     word 0  hash of the key (32 bits, seeded per table)
 *     word 1  keyLength (bits 0-15) | valueLength (bits 16-27) | type (bits 28-30) | expiry flag (bit 31)
 *     words 2-3  only with the expiry flag: absolute expiry time, ms since the epoch (lo, hi)
 *     bytes   key, then value, padded to 8 bytes
 *   out-of-line entry (keyLength field = kOutOfLineMarker), 16 bytes (24 with an expiry):
 *     word 0  hash; word 1  kOutOfLineMarker | type | expiry flag; word 2  blob id (unique
 *     within the segment); word 3 unused; words 4-5 the expiry time with the expiry flag
 *     the blob is its own immutable SharedArrayBuffer:
 *       [u32 keyLength][u32 valueLength][key bytes][value bytes]   (little-endian)
 *   A key without an expiry costs nothing extra: the flag bit is free (inline lengths need 12
 *   bits) and the 8 expiry bytes exist only when it is set.
 *
 * Who writes what: only the main thread writes meta and heap buffers, and only while no
 * unfinished frozen generation holds them (see table.ts for the copy-on-write rule). Worker
 * threads only read them. The status array of a frozen generation is written by workers
 * (Atomics.compareExchange pending -> claimed, then Atomics.store kSegmentStatusDone) and read
 * by the main thread (Atomics.load); only `done` lets the main thread write in place.
 */

import { assert } from '../util/assert.js';

// ---- meta buffer: header words ----
export const kMetaMagic = 0;
export const kMetaEntryCount = 1;
export const kMetaHeapUsedBytes = 2;
export const kMetaGarbageBytes = 3;
export const kMetaLocalDepth = 4;
export const kMetaPrefix = 5;
export const kMetaBlobCount = 6;
export const kMetaNextBlobId = 7;
/** Entries carrying an expiry time (the active sweep skips segments with none). */
export const kMetaExpiringCount = 8;
/** Header words; 9..15 are reserved for later per-segment counters. */
export const kMetaHeaderWords = 16;

export const kMetaMagicValue = 0x46524b53; // 'FRKS'

// ---- slots ----
export const kSlotCount = 2048;
export const kSlotMask = kSlotCount - 1;
/** Split or compact before the slot array passes 75% load: linear probing degrades past it. */
export const kSlotsUsedMax = (kSlotCount * 3) >>> 2;
export const kSlotTagShift = 16;
export const kSlotOffsetMask = 0xffff;
export const kEntryAlignShift = 3;
export const kEntryAlignBytes = 1 << kEntryAlignShift;

export const kMetaWords = kMetaHeaderWords + kSlotCount;
export const kMetaBytes = kMetaWords * 4;

// ---- heap ----
export const kHeapBytes = 128 * 1024;
/** Bytes 0..7 of every heap are never an entry, so an offset unit of 0 can mean "empty". */
export const kHeapFirstEntryBytes = 8;
export const kEntryHeaderBytes = 8;
export const kEntryHashWord = 0;
export const kEntryLengthsWord = 1;
export const kEntryBlobIdWord = 2;
export const kOutOfLineEntryBytes = 16;
export const kOutOfLineMarker = 0xffff;
export const kEntryValueLengthShift = 16;
export const kEntryKeyLengthMask = 0xffff;
/** Inline value lengths fit 12 bits: an inline entry is at most kInlineEntryMaxBytes. */
export const kEntryValueLengthMask = 0xfff;
export const kEntryTypeShift = 28;
export const kEntryTypeMask = 0x7;
/** Bit 31 of the lengths word: words 2-3 (inline) or 4-5 (out of line) hold an expiry time. */
export const kEntryExpiryFlag = 0x80000000;
export const kEntryExpiryBytes = 8;
/** Where the expiry time sits in an out-of-line stub (after hash, lengths, blob id, padding). */
export const kOutOfLineExpiryWord = 4;
/** 2^32, to join the two halves of a stored expiry time. */
export const kU32Range = 0x1_0000_0000;
/**
 * Records whose inline entry would exceed this go out of line, so copying or compacting a
 * segment never copies a big value and a segment always holds at least 32 entries.
 */
export const kInlineEntryMaxBytes = 4096;

// ---- blobs (out-of-line records) ----
export const kBlobKeyLengthOffset = 0;
export const kBlobValueLengthOffset = 4;
export const kBlobHeaderBytes = 8;
export const kBlobIdMax = 0xffffffff;

// ---- frozen generation status array (one Int32 per segment) ----
export const kSegmentStatusPending = 0;
export const kSegmentStatusDone = 1;
/** A worker has claimed the segment (compare-exchange from pending) and is reading it. */
export const kSegmentStatusClaimed = 2;

// ---- hashing / directory ----
export const kHashBits = 32;
export const kDepthMax = kHashBits;

/** Size in bytes of an inline entry for these lengths (header [+ expiry] + key + value, 8-aligned). */
export function inlineEntryBytes(keyLength: number, valueLength: number, expiring = false): number {
  const header = expiring ? kEntryHeaderBytes + kEntryExpiryBytes : kEntryHeaderBytes;
  return (header + keyLength + valueLength + kEntryAlignBytes - 1) & ~(kEntryAlignBytes - 1);
}

export function isInlineRecord(keyLength: number, valueLength: number, expiring = false): boolean {
  return keyLength < kOutOfLineMarker && inlineEntryBytes(keyLength, valueLength, expiring) <= kInlineEntryMaxBytes;
}

/** Heap bytes an entry for these lengths takes, inline or out of line. */
export function entryHeapBytes(keyLength: number, valueLength: number, expiring = false): number {
  if (isInlineRecord(keyLength, valueLength, expiring)) return inlineEntryBytes(keyLength, valueLength, expiring);
  return expiring ? kOutOfLineEntryBytes + kEntryExpiryBytes : kOutOfLineEntryBytes;
}

// Load-time checks that the named offsets agree with each other.
assert(kMetaExpiringCount < kMetaHeaderWords, 'meta header words overlap the slot array');
assert(kInlineEntryMaxBytes - kEntryHeaderBytes <= kEntryValueLengthMask, 'inline value lengths must fit their 12 bits');
assert((kEntryValueLengthMask << kEntryValueLengthShift) >>> 0 < (1 << kEntryTypeShift) >>> 0, 'value length bits overlap the type');
assert(((kEntryTypeMask << kEntryTypeShift) & kEntryExpiryFlag) === 0, 'type bits overlap the expiry flag');
assert((kSlotCount & kSlotMask) === 0, 'slot count must be a power of two');
assert(kHeapBytes >>> kEntryAlignShift <= kSlotOffsetMask, 'heap too large for a 16-bit offset unit');
assert(kHeapFirstEntryBytes >= kEntryAlignBytes, 'offset unit 0 must never be an entry');
assert(kInlineEntryMaxBytes * 32 <= kHeapBytes, 'a segment must hold at least 32 inline entries');
assert(kOutOfLineEntryBytes >= (kEntryBlobIdWord + 1) * 4, 'out-of-line entry too small for its blob id');
assert(inlineEntryBytes(0, 0) === kEntryHeaderBytes, 'empty inline entry is just its header');
