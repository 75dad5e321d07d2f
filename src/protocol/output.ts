/**
 * The send side shared by both response writers: one growable byte buffer per connection that
 * replies are appended to, handed out once per batch (per socket read) and then reused.
 *
 * Ownership rule (the one thing a caller must get right):
 *   const out = writer.take();                    // the pending bytes; the writer lets go of them
 *   socket.write(out, () => writer.release(out)); // give the storage back once it is written
 * `take()` lends its storage to the caller: the writer never writes into it again until
 * `release(out)` returns it, so the socket may hold `out` as long as it needs. Forgetting
 * `release` is safe (the writer allocates fresh storage and the lent one is garbage collected);
 * calling it before the socket is done with `out` is not.
 *
 * Guarantees:
 * - No allocation per reply: replies are appended in place; storage grows geometrically and in
 *   steady state two storages alternate (one being written by the socket, one being filled).
 * - Integers are written as digits directly (no `String(n)`), byte arrays are copied from any
 *   `Uint8Array` range without creating views for short ones, strings are measured and encoded
 *   as UTF-8 (lengths in replies are in bytes).
 */

import { InvariantError } from '../util/assert.js';

/** First storage size; grown geometrically from here. */
export const kOutputInitialBytes = 16 * 1024;
/** Storage larger than this is not kept for reuse after it is released. */
export const kOutputRetainBytes = 1024 * 1024;
/** Released storages kept for reuse (one being sent, one being filled). */
const kSpareMax = 1;
/** Lent storages tracked for `release`; older ones are forgotten (left to the GC). */
const kLentTrackedMax = 8;
/** Strings and byte ranges up to this length are handled with plain loops. */
const kShortBytes = 64;

const kNoBytes: Buffer = Buffer.alloc(0);
const kDigit0 = 0x30;

/** Decimal digits of a non-negative safe integer. */
export function uintDigits(n: number): number {
  let digits = 1;
  for (let bound = 10; bound <= n && digits < 16; bound *= 10) digits++;
  return digits;
}

/** UTF-8 byte length of `text` (lone surrogates count as the 3 bytes of U+FFFD, as written). */
export function utf8Length(text: string): number {
  const length = text.length;
  if (length > kShortBytes) return Buffer.byteLength(text, 'utf8');
  for (let i = 0; i < length; i++) {
    if (text.charCodeAt(i) >= 0x80) return Buffer.byteLength(text, 'utf8');
  }
  return length;
}

export class OutputBuffer {
  /** Storage being filled; never lent while it is here. */
  protected bytes: Buffer = kNoBytes;
  /** Bytes of `bytes` holding pending replies. */
  protected used = 0;
  private readonly spares: Buffer[] = [];
  private readonly lent: Buffer[] = [];
  /** Capacity to start the next storage with: what the last batch needed. */
  private capacityHint = kOutputInitialBytes;

  /** Bytes appended since the last `take()`. */
  get pendingBytes(): number {
    return this.used;
  }

  /** Memory held for reuse (the storage being filled and spares; not lent storages). */
  get retainedBytes(): number {
    let total = this.bytes.length;
    for (const spare of this.spares) total += spare.length;
    return total;
  }

  /**
   * The pending bytes, for one socket write. The returned Buffer's storage now belongs to the
   * caller until `release` (see the ownership rule above). Empty when nothing is pending.
   */
  take(): Buffer {
    const used = this.used;
    if (used === 0) return kNoBytes;
    const storage = this.bytes;
    const out = storage.subarray(0, used);
    this.capacityHint = Math.min(Math.max(storage.length, kOutputInitialBytes), kOutputRetainBytes);
    if (this.lent.length === kLentTrackedMax) this.lent.shift();
    this.lent.push(storage);
    this.bytes = kNoBytes;
    this.used = 0;
    return out;
  }

  /** Give back a Buffer from `take()` once the socket is done with it. Unknown buffers are ignored. */
  release(chunk: Uint8Array): void {
    const lent = this.lent;
    for (let i = 0; i < lent.length; i++) {
      const storage = lent[i] as Buffer;
      if (storage.buffer !== chunk.buffer) continue;
      lent.splice(i, 1);
      if (storage.length <= kOutputRetainBytes && this.spares.length < kSpareMax) this.spares.push(storage);
      return;
    }
  }

  /** Drop pending replies (the connection is going away). */
  discard(): void {
    this.used = 0;
  }

  /** Let go of every retained storage (idle connections). Pending bytes are kept. */
  trim(): void {
    this.spares.length = 0;
    if (this.used === 0) this.bytes = kNoBytes;
  }

  /** Make room for `extraBytes` more bytes. */
  protected ensure(extraBytes: number): void {
    if (this.used + extraBytes > this.bytes.length) this.grow(extraBytes);
  }

  private grow(extraBytes: number): void {
    const needed = this.used + extraBytes;
    if (this.used === 0) {
      const spare = this.spares.pop();
      if (spare !== undefined && spare.length >= needed) {
        this.bytes = spare;
        return;
      }
    }
    let capacity = Math.max(this.bytes.length * 2, this.capacityHint);
    while (capacity < needed) capacity *= 2;
    const next = Buffer.allocUnsafeSlow(capacity);
    if (this.used > 0) this.bytes.copy(next, 0, 0, this.used);
    this.bytes = next;
  }

  // -------------------------------------------------------------- appenders (room ensured)

  protected putByte(byte: number): void {
    this.bytes[this.used++] = byte;
  }

  /** Decimal digits of a non-negative safe integer. */
  protected putUint(n: number, digits: number): void {
    const bytes = this.bytes;
    let at = this.used + digits;
    let rest = n;
    while (rest >= 10) {
      const quotient = Math.floor(rest / 10);
      bytes[--at] = kDigit0 + (rest - quotient * 10);
      rest = quotient;
    }
    bytes[--at] = kDigit0 + rest;
    this.used += digits;
  }

  protected putRange(source: Uint8Array, offset: number, length: number): void {
    if (length <= kShortBytes) {
      const bytes = this.bytes;
      let at = this.used;
      for (let i = offset, stop = offset + length; i < stop; i++) bytes[at++] = source[i] as number;
    } else {
      this.bytes.set(new Uint8Array(source.buffer, source.byteOffset + offset, length), this.used);
    }
    this.used += length;
  }

  /** Encode `text`, whose UTF-8 length `byteLength` the caller measured with `utf8Length`. */
  protected putText(text: string, byteLength: number): void {
    if (byteLength === text.length && byteLength <= kShortBytes) {
      const bytes = this.bytes;
      let at = this.used;
      for (let i = 0; i < byteLength; i++) bytes[at++] = text.charCodeAt(i);
    } else {
      this.bytes.write(text, this.used, byteLength, byteLength === text.length ? 'latin1' : 'utf8');
    }
    this.used += byteLength;
  }

  /** Append bytes verbatim (pre-encoded replies). */
  raw(value: string | Uint8Array, offset = 0, length?: number): void {
    if (typeof value === 'string') {
      const byteLength = utf8Length(value);
      this.ensure(byteLength);
      this.putText(value, byteLength);
      return;
    }
    const count = length ?? value.length - offset;
    checkRange(value, offset, count);
    this.ensure(count);
    this.putRange(value, offset, count);
  }
}

/** Our own callers pass ranges of buffers they hold; a bad range is a bug, not client input. */
export function checkRange(value: Uint8Array, offset: number, length: number): void {
  if (!(Number.isInteger(offset) && Number.isInteger(length) && offset >= 0 && length >= 0 && offset + length <= value.length)) {
    throw new InvariantError(`byte range [${offset}, ${offset + length}) outside a source of ${value.length} bytes`);
  }
}

export function checkUint(n: number): void {
  if (!(Number.isSafeInteger(n) && n >= 0)) throw new InvariantError(`expected a non-negative safe integer, got ${n}`);
}
