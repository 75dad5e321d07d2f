/**
 * Order-independent digests of table contents, for proving that two views hold the same data
 * (a frozen generation read by a worker versus the table at its cut; a loaded save versus the
 * table that was saved).
 *
 * Guarantees: the digest depends only on the set of (key, value, type, expiry time) records,
 * not on segment layout, hash seed or insertion order; key/value boundaries are part of it
 * (lengths are hashed).
 */

import { crc32 } from 'node:zlib';
import { readRecord, record, slotOffset, type SegmentView } from './segment.js';
import { kMetaHeaderWords, kSlotCount } from './layout.js';

export interface Digest {
  count: number;
  sum: number;
  xor: number;
}

export function emptyDigest(): Digest {
  return { count: 0, sum: 0, xor: 0 };
}

const lengths = Buffer.alloc(16);

/** The hash one record contributes to a digest. */
export function recordHash(key: Uint8Array, value: Uint8Array, type = 0, expiresAtMs = 0): number {
  lengths.writeUInt32LE(key.length, 0);
  lengths.writeUInt32LE(value.length, 4);
  lengths.writeUInt32LE(type, 8);
  lengths.writeUInt32LE((expiresAtMs % 0x1_0000_0000) ^ Math.floor(expiresAtMs / 0x1_0000_0000), 12);
  return crc32(value, crc32(key, crc32(lengths)));
}

export function addRecord(digest: Digest, key: Uint8Array, value: Uint8Array, type = 0, expiresAtMs = 0): void {
  const h = recordHash(key, value, type, expiresAtMs);
  digest.count++;
  digest.sum = (digest.sum + h) >>> 0;
  digest.xor = (digest.xor ^ h) >>> 0;
}

/** Add every record of a segment; with `cutMs`, not those whose expiry time is at or before it. */
export function addSegment(digest: Digest, view: SegmentView, cutMs = Number.NEGATIVE_INFINITY): void {
  for (let i = 0; i < kSlotCount; i++) {
    const slot = view.meta[kMetaHeaderWords + i] as number;
    if (slot === 0) continue;
    readRecord(view, slotOffset(slot));
    if (record.expiresAtMs !== 0 && record.expiresAtMs <= cutMs) continue;
    const bytes = record.bytes;
    addRecord(
      digest,
      bytes.subarray(record.keyOffset, record.keyOffset + record.keyLength),
      bytes.subarray(record.valueOffset, record.valueOffset + record.valueLength),
      record.type,
      record.expiresAtMs,
    );
  }
}

export function mergeDigests(parts: readonly Digest[]): Digest {
  const total = emptyDigest();
  for (const part of parts) {
    total.count += part.count;
    total.sum = (total.sum + part.sum) >>> 0;
    total.xor = (total.xor ^ part.xor) >>> 0;
  }
  return total;
}

export function digestEntries(entries: Iterable<[Uint8Array, Uint8Array]>): Digest {
  const digest = emptyDigest();
  for (const [key, value] of entries) addRecord(digest, key, value);
  return digest;
}
