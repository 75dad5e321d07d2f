/**
 * Auth tokens and the origin key, as Skytable 0.7.7 shapes them (server/src/auth/keys.rs), with
 * frostkv's storage rule.
 *
 * Guarantees:
 * - A token is 40 bytes from the OS's CSPRNG, base64-encoded with the bcrypt alphabet
 *   (`./A-Za-z0-9`) and `=` padding: 56 characters, as Skytable 0.7.7 issues them.
 * - Only a token's SHA-256 digest is ever kept (memory, saves); the token itself exists only
 *   in the reply that hands it out. A token carries 320 random bits, so a fast hash loses
 *   nothing against guessing (a slow password hash protects low-entropy secrets).
 * - Every secret comparison (token against stored digest, origin key against the configured
 *   one) runs `crypto.timingSafeEqual` over two fixed-length SHA-256 digests, so the time
 *   taken depends neither on where the inputs differ nor on their lengths.
 */

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Random bytes in a token (Skytable's RAN_BYTES_SIZE). */
export const kTokenRandomBytes = 40;
/** Characters in an issued token: base64 of 40 bytes with padding. */
export const kTokenLength = 56;
/** Bytes of a stored token digest (SHA-256). */
export const kTokenDigestBytes = 32;

const kStandardAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const kBcryptAlphabet = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const kToBcrypt = new Map([...kStandardAlphabet].map((ch, i) => [ch, kBcryptAlphabet[i] as string]));

/** Base64 with the bcrypt alphabet and `=` padding (base64 0.21's GeneralPurpose default config). */
export function bcryptBase64(bytes: Uint8Array): string {
  let out = '';
  for (const ch of Buffer.from(bytes).toString('base64')) out += kToBcrypt.get(ch) ?? ch;
  return out;
}

/** The stored form of a token: its SHA-256 digest. */
export function digestToken(token: string | Uint8Array): Buffer {
  return createHash('sha256').update(token).digest();
}

/** A new token and the digest to store for it. */
export function generateToken(): { token: string; digest: Buffer } {
  const token = bcryptBase64(randomBytes(kTokenRandomBytes));
  return { token, digest: digestToken(token) };
}

/**
 * The one comparison every secret check uses: constant time over fixed-length digests. Exported
 * so a test can assert that the auth code calls it (and not `===` or Buffer.equals).
 */
export const secretCompare = { equal: timingSafeEqual };

/** Compared against when there is nothing to compare with, so every check does the same work. */
const kNoDigest = Buffer.alloc(kTokenDigestBytes);

/**
 * Whether `secret` (a token, or a candidate origin key) hashes to `storedDigest`, compared in
 * constant time. A stored digest of another length (damaged) matches nothing and never throws.
 */
export function tokenMatches(secret: Uint8Array, storedDigest: Uint8Array | null): boolean {
  const digest = digestToken(secret);
  if (storedDigest === null || storedDigest.length !== kTokenDigestBytes) {
    secretCompare.equal(digest, kNoDigest);
    return false;
  }
  return secretCompare.equal(digest, storedDigest);
}
