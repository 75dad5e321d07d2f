/**
 * Key hashing: seeded FNV-1a over the key's bytes, finished with murmur3's fmix32.
 *
 * Guarantees: a string key and the Buffer holding its UTF-8 bytes hash the same (the string
 * path hashes char codes only while they are ASCII, which equal their UTF-8 bytes). The seed
 * is random per table so a client cannot aim keys at one segment; it is saved in the manifest
 * so a loader rebuilds the same segment layout.
 */

import { randomBytes } from 'node:crypto';

export const kFnvOffsetBasis = 0x811c9dc5;
export const kFnvPrime = 0x01000193;

export function finishHash(h: number, lengthBytes: number): number {
  h ^= lengthBytes;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function hashBytes(seed: number, bytes: Uint8Array, offset: number, length: number): number {
  let h = (seed ^ kFnvOffsetBasis) | 0;
  const end = offset + length;
  for (let i = offset; i < end; i++) h = Math.imul(h ^ (bytes[i] as number), kFnvPrime);
  return finishHash(h, length);
}

/** A 16-bit tag for the slot array, derived from the hash but independent of its low bits. */
export function slotTag(hash: number): number {
  return Math.imul(hash, 0x2c1b3c6d) >>> 16;
}

export function randomSeed(): number {
  return randomBytes(4).readUInt32LE(0);
}
