/**
 * Skyhash 1.x response writer (docs/behaviour.md, Skyhash 1.x): appends response elements to one reusable
 * per-connection buffer (see ../output.ts for the `take()`/`release()` ownership rule).
 *
 *   response header     *<n>\n                  n = queries answered
 *   string              +<len>\n<bytes>\n
 *   binary string       ?<len>\n<bytes>\n
 *   unsigned integer    :<digit count>\n<n>\n    5 is :1\n5\n
 *   float               %<len>\n<text>\n
 *   response code       !<len>\n<code>\n         0 is !1\n0\n
 *   error string        !<len>\n<text>\n         !17\nerr-snapshot-busy\n
 *   typed array         @<t><n>\n then <len>\n<bytes>\n per element, \0\n for null
 *   non-null typed arr. ^<t><n>\n then <len>\n<bytes>\n per element
 *
 * Guarantees: exactly these bytes, lengths in bytes (UTF-8 for strings), no allocation per
 * element. The writer does not check that a response has as many elements as its header
 * announced: the caller writes one element per query, and `count` elements after an array header.
 */

import { checkRange, checkUint, OutputBuffer, uintDigits, utf8Length } from '../output.js';

const kLf = 0x0a;
const kStar = 0x2a;
const kColon = 0x3a;
const kPercent = 0x25;
const kBang = 0x21;
const kAt = 0x40;
const kCaret = 0x5e;

/** `+`: a `str` value. */
export const kSkyhashTypeString = 0x2b;
/** `?`: a `binstr` value. */
export const kSkyhashTypeBinary = 0x3f;
export type SkyhashStringType = typeof kSkyhashTypeString | typeof kSkyhashTypeBinary;

/** Symbol, up to 16 digits, `\n`: room for any header. */
const kHeaderMaxBytes = 18;

export class SkyhashWriter extends OutputBuffer {
  /** `*<n>\n`: a response answering `queryCount` queries follows. */
  response(queryCount: number): void {
    this.header(kStar, queryCount);
  }

  /** `+<len>\n<bytes>\n`. */
  str(value: string | Uint8Array, offset = 0, length?: number): void {
    this.scalar(kSkyhashTypeString, value, offset, length);
  }

  /** `?<len>\n<bytes>\n`. */
  binstr(value: string | Uint8Array, offset = 0, length?: number): void {
    this.scalar(kSkyhashTypeBinary, value, offset, length);
  }

  /** A string element with the table's type symbol (`+` str, `?` binstr). */
  scalar(type: SkyhashStringType, value: string | Uint8Array, offset = 0, length?: number): void {
    if (typeof value === 'string') {
      const byteLength = utf8Length(value);
      this.ensure(kHeaderMaxBytes + byteLength + 1);
      this.putHeader(type, byteLength);
      this.putText(value, byteLength);
    } else {
      const count = length ?? value.length - offset;
      checkRange(value, offset, count);
      this.ensure(kHeaderMaxBytes + count + 1);
      this.putHeader(type, count);
      this.putRange(value, offset, count);
    }
    this.putByte(kLf);
  }

  /** `:<digit count>\n<n>\n` for a non-negative safe integer. */
  uint(n: number): void {
    checkUint(n);
    const digits = uintDigits(n);
    this.ensure(kHeaderMaxBytes + digits + 1);
    this.putHeader(kColon, digits);
    this.putUint(n, digits);
    this.putByte(kLf);
  }

  /** `%<len>\n<text>\n`, the text being JavaScript's shortest round-trip form of `n`. */
  float(n: number): void {
    const text = String(n);
    this.ensure(kHeaderMaxBytes + text.length + 1);
    this.putHeader(kPercent, text.length);
    this.putText(text, text.length);
    this.putByte(kLf);
  }

  /** `!<len>\n<code>\n`: a numeric response code (0 okay, 1 nil, 2 overwrite error, ...). */
  code(responseCode: number): void {
    checkUint(responseCode);
    const digits = uintDigits(responseCode);
    this.ensure(kHeaderMaxBytes + digits + 1);
    this.putHeader(kBang, digits);
    this.putUint(responseCode, digits);
    this.putByte(kLf);
  }

  /** `!<len>\n<text>\n`: an error string such as `err-snapshot-busy`. */
  error(text: string): void {
    const byteLength = utf8Length(text);
    this.ensure(kHeaderMaxBytes + byteLength + 1);
    this.putHeader(kBang, byteLength);
    this.putText(text, byteLength);
    this.putByte(kLf);
  }

  /** `@<t><n>\n`: a typed array of `count` elements (`element` or `nullElement` each). */
  typedArray(type: SkyhashStringType, count: number): void {
    this.arrayHeader(kAt, type, count);
  }

  /** `^<t><n>\n`: a typed array of `count` elements that are never null. */
  nonNullArray(type: SkyhashStringType, count: number): void {
    this.arrayHeader(kCaret, type, count);
  }

  /** `<len>\n<bytes>\n`: one element of a typed array. */
  element(value: string | Uint8Array, offset = 0, length?: number): void {
    if (typeof value === 'string') {
      const byteLength = utf8Length(value);
      this.ensure(kHeaderMaxBytes + byteLength + 1);
      this.putLength(byteLength);
      this.putText(value, byteLength);
    } else {
      const count = length ?? value.length - offset;
      checkRange(value, offset, count);
      this.ensure(kHeaderMaxBytes + count + 1);
      this.putLength(count);
      this.putRange(value, offset, count);
    }
    this.putByte(kLf);
  }

  /** `\0\n`: a null element of a typed array (`@`), for a missing key. */
  nullElement(): void {
    this.ensure(2);
    this.putByte(0);
    this.putByte(kLf);
  }

  private header(symbol: number, n: number): void {
    checkUint(n);
    this.ensure(kHeaderMaxBytes);
    this.putHeader(symbol, n);
  }

  private arrayHeader(symbol: number, type: SkyhashStringType, count: number): void {
    checkUint(count);
    this.ensure(kHeaderMaxBytes + 1);
    this.putByte(symbol);
    this.putHeader(type, count);
  }

  private putHeader(symbol: number, n: number): void {
    this.putByte(symbol);
    this.putLength(n);
  }

  private putLength(n: number): void {
    this.putUint(n, uintDigits(n));
    this.putByte(kLf);
  }
}
