/**
 * RESP2 reply writer: appends replies to one reusable per-connection buffer (see ../output.ts
 * for the `take()`/`release()` ownership rule).
 *
 *   simple string  +OK\r\n          error       -ERR message\r\n    integer  :42\r\n
 *   bulk string    $3\r\nfoo\r\n     null bulk   $-1\r\n
 *   array header   *2\r\n           null array  *-1\r\n
 *
 * Guarantees: exactly these bytes; bulk lengths in bytes (UTF-8 for strings); CR and LF in a
 * simple string or error are written as spaces (as Redis's addReplyErrorFormat does) so a reply
 * can never break the framing; no allocation per reply for numbers, Buffers and short strings.
 */

import { checkRange, checkUint, OutputBuffer, uintDigits, utf8Length } from '../output.js';

const kCr = 0x0d;
const kLf = 0x0a;
const kSpace = 0x20;
const kPlus = 0x2b;
const kMinus = 0x2d;
const kColon = 0x3a;
const kDollar = 0x24;
const kStar = 0x2a;
const kDigit0 = 0x30;
const kDigit1 = 0x31;

/** Prefix, sign, up to 16 digits, CRLF: room for any header. */
const kHeaderMaxBytes = 20;

export class RespWriter extends OutputBuffer {
  /** `+OK\r\n`. */
  ok(): void {
    this.ensure(5);
    this.putByte(kPlus);
    this.putByte(0x4f);
    this.putByte(0x4b);
    this.putCrlf();
  }

  /** `+<text>\r\n`. */
  simple(text: string): void {
    this.line(kPlus, text);
  }

  /**
   * `-<text>\r\n`. `text` is the whole error line, prefix included: `ERR unknown command`,
   * `WRONGTYPE ...`; for a ProtocolError write `ERR ${error.message}`.
   */
  error(text: string): void {
    this.line(kMinus, text);
  }

  /** `:<n>\r\n` for a safe integer or a bigint (64-bit counters). */
  integer(n: number | bigint): void {
    if (typeof n === 'bigint') {
      this.line(kColon, n.toString());
      return;
    }
    if (n === 0 || n === 1) {
      this.ensure(4);
      this.putByte(kColon);
      this.putByte(n === 0 ? kDigit0 : kDigit1);
      this.putCrlf();
      return;
    }
    this.signedHeader(kColon, n);
  }

  /** `$<len>\r\n<bytes>\r\n`. */
  bulk(value: string | Uint8Array, offset = 0, length?: number): void {
    if (typeof value === 'string') {
      const byteLength = utf8Length(value);
      this.ensure(kHeaderMaxBytes + byteLength + 2);
      this.putLengthHeader(kDollar, byteLength);
      this.putText(value, byteLength);
    } else {
      const count = length ?? value.length - offset;
      checkRange(value, offset, count);
      this.ensure(kHeaderMaxBytes + count + 2);
      this.putLengthHeader(kDollar, count);
      this.putRange(value, offset, count);
    }
    this.putCrlf();
  }

  /** `$-1\r\n`: a missing value. */
  nullBulk(): void {
    this.ensure(5);
    this.putByte(kDollar);
    this.putByte(kMinus);
    this.putByte(kDigit1);
    this.putCrlf();
  }

  /** `*<n>\r\n`: an array of `count` replies follows. */
  array(count: number): void {
    checkUint(count);
    this.ensure(kHeaderMaxBytes);
    this.putLengthHeader(kStar, count);
  }

  /** `*-1\r\n`. */
  nullArray(): void {
    this.ensure(5);
    this.putByte(kStar);
    this.putByte(kMinus);
    this.putByte(kDigit1);
    this.putCrlf();
  }

  private line(prefix: number, text: string): void {
    const byteLength = utf8Length(text);
    this.ensure(byteLength + 3);
    this.putByte(prefix);
    const from = this.used;
    this.putText(text, byteLength);
    const bytes = this.bytes;
    for (let at = from; at < this.used; at++) {
      const byte = bytes[at] as number;
      if (byte === kCr || byte === kLf) bytes[at] = kSpace;
    }
    this.putCrlf();
  }

  private signedHeader(prefix: number, n: number): void {
    const magnitude = n < 0 ? -n : n;
    checkUint(magnitude);
    this.ensure(kHeaderMaxBytes);
    this.putByte(prefix);
    if (n < 0) this.putByte(kMinus);
    this.putUint(magnitude, uintDigits(magnitude));
    this.putCrlf();
  }

  private putLengthHeader(prefix: number, n: number): void {
    this.putByte(prefix);
    this.putUint(n, uintDigits(n));
    this.putCrlf();
  }

  private putCrlf(): void {
    this.putByte(kCr);
    this.putByte(kLf);
  }
}
