/**
 * The receive side shared by both wire parsers: an input buffer that accumulates socket chunks,
 * bounded size-line parsing, and line search.
 *
 * Guarantees:
 * - `InputBuffer.push` copies nothing when nothing is pending: the chunk is parsed where it
 *   lies (borrowed). Pending bytes are copied into owned storage only when the parser runs out
 *   of input (`settle`) or when more bytes arrive behind them, so the caller may reuse a chunk
 *   once the parser has asked for more.
 * - Owned storage grows geometrically and consumed bytes are compacted away only when the
 *   storage is full, so accumulating a request of n bytes costs O(n) copying in total.
 * - Size lines are read with at most `maxDigits` digits, so a size that cannot fit the limit is
 *   refused as soon as its first surplus digit arrives, before the terminator and before any
 *   allocation; values never leave the range of exact doubles.
 */

const kLf = 0x0a;
const kCr = 0x0d;
const kMinus = 0x2d;
const kDigit0 = 0x30;

/** The first owned storage; grown geometrically from here. */
export const kInputInitialBytes = 16 * 1024;
/** A drained input keeps owned storage up to this size for the next partial request. */
export const kInputRetainBytes = 64 * 1024;

const kNoBytes: Buffer = Buffer.alloc(0);

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Bytes received and not yet consumed, `bytes[start, end)`. Parsers keep their positions
 * relative to `start`, because `push` and `settle` may move the pending bytes.
 */
export class InputBuffer {
  /** Where the pending bytes live: a borrowed chunk or the owned storage. */
  bytes: Buffer = kNoBytes;
  start = 0;
  end = 0;
  private storage: Buffer = kNoBytes;
  private borrowed = false;

  get pendingBytes(): number {
    return this.end - this.start;
  }

  /** Bytes of memory this buffer holds on to (borrowed chunks are the caller's). */
  get capacityBytes(): number {
    return this.storage.length;
  }

  push(chunk: Uint8Array): void {
    const length = chunk.length;
    if (length === 0) return;
    if (this.start === this.end) {
      this.bytes = asBuffer(chunk);
      this.start = 0;
      this.end = length;
      this.borrowed = true;
      return;
    }
    if (this.borrowed) this.moveToStorage(length);
    else if (this.end + length > this.storage.length) this.makeRoom(length);
    this.storage.set(chunk, this.end);
    this.end += length;
  }

  /** Mark `byteCount` pending bytes as parsed and done with. */
  consume(byteCount: number): void {
    this.start += byteCount;
  }

  /**
   * The parser needs more bytes: stop borrowing the caller's chunk (copying what is pending),
   * and let go of oversized storage once everything is consumed.
   */
  settle(): void {
    if (this.start === this.end) {
      this.start = 0;
      this.end = 0;
      this.borrowed = false;
      if (this.storage.length > kInputRetainBytes) this.storage = kNoBytes;
      this.bytes = this.storage;
      return;
    }
    if (this.borrowed) this.moveToStorage(0);
  }

  /** Drop owned storage if nothing is pending (for a server trimming idle connections). */
  trim(): void {
    if (this.start !== this.end) return;
    this.storage = kNoBytes;
    this.bytes = kNoBytes;
    this.start = 0;
    this.end = 0;
    this.borrowed = false;
  }

  /** Forget everything (after a protocol error the rest of the stream is meaningless). */
  discard(): void {
    this.start = 0;
    this.end = 0;
    this.trim();
  }

  /** Copy the pending borrowed bytes into owned storage with room for `extraBytes` more. */
  private moveToStorage(extraBytes: number): void {
    const pending = this.end - this.start;
    const needed = pending + extraBytes;
    if (needed > this.storage.length) this.storage = Buffer.allocUnsafeSlow(grownCapacity(this.storage.length, needed));
    this.bytes.copy(this.storage, 0, this.start, this.end);
    this.bytes = this.storage;
    this.start = 0;
    this.end = pending;
    this.borrowed = false;
  }

  /** Owned storage is full at the end: compact consumed bytes away, or grow. */
  private makeRoom(extraBytes: number): void {
    const pending = this.end - this.start;
    const needed = pending + extraBytes;
    if (needed <= this.storage.length) {
      this.storage.copyWithin(0, this.start, this.end);
    } else {
      const next = Buffer.allocUnsafeSlow(grownCapacity(this.storage.length, needed));
      this.storage.copy(next, 0, this.start, this.end);
      this.storage = next;
    }
    this.bytes = this.storage;
    this.start = 0;
    this.end = pending;
  }
}

export function grownCapacity(current: number, needed: number): number {
  let capacity = Math.max(current * 2, kInputInitialBytes);
  while (capacity < needed) capacity *= 2;
  return capacity;
}

// ------------------------------------------------------------------ size lines

/** Outcomes of reading a size line; on `kLineOk` the value is in `sizeLine`. */
export const kLineOk = 0;
export const kLineNeedMore = 1;
/** A byte other than a digit (or a bad terminator, or a non-canonical RESP number). */
export const kLineNotDigit = 2;
/** More digits than `maxDigits`: the value cannot be within the limit. */
export const kLineTooLong = 3;
/** The terminator came before any digit. */
export const kLineEmpty = 4;

export type LineStatus = typeof kLineOk | typeof kLineNeedMore | typeof kLineNotDigit | typeof kLineTooLong | typeof kLineEmpty;

/**
 * The result of the last successful size-line read. A single module-level cursor: a parser
 * reads it right after the call, before anything else can run.
 */
export const sizeLine = {
  value: 0,
  /** Absolute position just past the line terminator. */
  next: 0,
};

/** Digits needed to write `limit` in decimal: a longer size line cannot be within it. */
export function maxDigitsFor(limit: number): number {
  let digits = 1;
  for (let bound = 10; bound <= limit; bound *= 10) digits++;
  return digits;
}

/**
 * Skyhash size line: `<digits>\n`. Leading zeros are accepted (Skytable 0.7 accepted them), but
 * they count towards `maxDigits`.
 */
export function readSizeLineLf(bytes: Uint8Array, from: number, end: number, maxDigits: number): LineStatus {
  let value = 0;
  for (let at = from; at < end; at++) {
    const byte = bytes[at] as number;
    if (byte === kLf) {
      if (at === from) return kLineEmpty;
      sizeLine.value = value;
      sizeLine.next = at + 1;
      return kLineOk;
    }
    const digit = byte - kDigit0;
    if (digit < 0 || digit > 9) return kLineNotDigit;
    if (at - from >= maxDigits) return kLineTooLong;
    value = value * 10 + digit;
  }
  return kLineNeedMore;
}

/**
 * RESP size line: `[-]<digits>\r\n`, read as Redis's string2ll reads it: no sign other than a
 * leading `-`, no leading zeros, no empty number. The value may be negative.
 */
export function readSizeLineCrlf(bytes: Uint8Array, from: number, end: number, maxDigits: number): LineStatus {
  let at = from;
  if (at >= end) return kLineNeedMore;
  const negative = bytes[at] === kMinus;
  if (negative) at++;
  const digitsFrom = at;
  let value = 0;
  for (; at < end; at++) {
    const byte = bytes[at] as number;
    if (byte === kCr) {
      const digits = at - digitsFrom;
      if (digits === 0) return digitsFrom === from ? kLineEmpty : kLineNotDigit;
      if (bytes[digitsFrom] === kDigit0 && (digits > 1 || negative)) return kLineNotDigit;
      if (at + 1 >= end) return kLineNeedMore;
      if (bytes[at + 1] !== kLf) return kLineNotDigit;
      sizeLine.value = negative ? -value : value;
      sizeLine.next = at + 2;
      return kLineOk;
    }
    const digit = byte - kDigit0;
    if (digit < 0 || digit > 9) return kLineNotDigit;
    if (at - digitsFrom >= maxDigits) return kLineTooLong;
    value = value * 10 + digit;
  }
  return kLineNeedMore;
}

// ------------------------------------------------------------------ line search

/** Index of the first `\n` in `bytes[from, end)`, or -1. */
export function findLf(bytes: Uint8Array, from: number, end: number): number {
  for (let at = from; at < end; at++) {
    if (bytes[at] === kLf) return at;
  }
  return -1;
}

/** Index of the first `\r\n` in `bytes[from, end)` (the index of the `\r`), or -1. */
export function findCrlf(bytes: Uint8Array, from: number, end: number): number {
  for (let at = from; at + 1 < end; at++) {
    if (bytes[at] === kCr && bytes[at + 1] === kLf) return at;
  }
  return -1;
}
