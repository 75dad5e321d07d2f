/**
 * RESP2 and RESP3 reply writer: appends replies to one reusable per-connection buffer (see
 * ../output.ts for the `take()`/`release()` ownership rule). `protocol` (2 or 3) is the
 * connection's protocol (HELLO sets it).
 *
 *   simple string  +OK\r\n          error       -ERR message\r\n    integer  :42\r\n
 *   bulk string    $3\r\nfoo\r\n     null bulk   $-1\r\n         (RESP3: _\r\n)
 *   array header   *2\r\n           null array  *-1\r\n         (RESP3: _\r\n)
 *   RESP3 only, with Redis 7's RESP2 fallback in brackets:
 *   map %2\r\n [*4]   set ~2\r\n [*2]   push >2\r\n [*2]   double ,1.5\r\n [$3 1.5]
 *   boolean #t\r\n [:1]   null _\r\n [$-1]   big number (123\r\n [$3 123]
 *   verbatim =8\r\ntxt:abcd\r\n [$4 abcd]
 *
 * Guarantees: exactly these bytes; bulk lengths in bytes (UTF-8 for strings); CR and LF in a
 * simple string or error are written as spaces (as Redis's addReplyErrorFormat does) so a reply
 * can never break the framing; doubles are formatted as C's `%.17g` (Redis 7.0), infinities as
 * `inf`/`-inf`; no allocation per reply for numbers, Buffers and short strings.
 */

import { InvariantError } from '../../util/assert.js';
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
const kPercent = 0x25;
const kTilde = 0x7e;
const kGreater = 0x3e;
const kUnderscore = 0x5f;
const kHash = 0x23;
const kComma = 0x2c;
const kParen = 0x28;
const kEquals = 0x3d;
/** A verbatim string's format tag (`txt:`) counts in its length. */
const kVerbatimTagBytes = 4;
/** Digits of C's `%.17g`. */
const kDoublePrecision = 17;

export type RespProtocol = 2 | 3;

/** `n` as C's printf `%.17g` writes it (Redis 7.0's double replies). */
export function formatDouble(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  // %g picks exponent notation when the exponent is below -4 or at least the precision; the
  // exponent of the rounded value decides, so read it back from toExponential.
  const [mantissa, expText] = n.toExponential(kDoublePrecision - 1).split('e') as [string, string];
  const roundedExponent = Number(expText);
  if (roundedExponent < -4 || roundedExponent >= kDoublePrecision) {
    const digits = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
    const sign = roundedExponent < 0 ? '-' : '+';
    const magnitude = String(Math.abs(roundedExponent)).padStart(2, '0');
    return `${digits}e${sign}${magnitude}`;
  }
  const fixed = n.toFixed(Math.max(0, kDoublePrecision - 1 - roundedExponent));
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}

/** Prefix, sign, up to 16 digits, CRLF: room for any header. */
const kHeaderMaxBytes = 20;

export class RespWriter extends OutputBuffer {
  /** The connection's protocol: 2 until HELLO 3. */
  protocol: RespProtocol = 2;

  /** Where the next reply starts; `rewind(mark)` drops what was written after it (CLIENT REPLY OFF). */
  mark(): number {
    return this.used;
  }

  rewind(mark: number): void {
    if (mark >= 0 && mark <= this.used) this.used = mark;
  }

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
    this.onError?.(text);
  }

  /** Told of every error reply written (INFO errorstats and failed_calls: src/server/stats.ts). */
  onError: ((text: string) => void) | null = null;

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

  /** `$-1\r\n` (RESP3 `_\r\n`): a missing value. */
  nullBulk(): void {
    if (this.protocol === 3) return this.null3();
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

  /** `*-1\r\n` (RESP3 `_\r\n`). */
  nullArray(): void {
    if (this.protocol === 3) return this.null3();
    this.ensure(5);
    this.putByte(kStar);
    this.putByte(kMinus);
    this.putByte(kDigit1);
    this.putCrlf();
  }

  /** `_\r\n`; RESP2: `$-1\r\n` (Redis's addReplyNull). */
  null(): void {
    this.nullBulk();
  }

  /** `%<n>\r\n`: `count` key/value pairs follow; RESP2: an array of 2 * count. */
  map(count: number): void {
    checkUint(count);
    this.ensure(kHeaderMaxBytes);
    if (this.protocol === 3) this.putLengthHeader(kPercent, count);
    else this.putLengthHeader(kStar, count * 2);
  }

  /** `~<n>\r\n`; RESP2: an array. */
  set(count: number): void {
    this.aggregate(kTilde, count);
  }

  /** `><n>\r\n` (an out-of-band push); RESP2: an array. */
  push(count: number): void {
    this.aggregate(kGreater, count);
  }

  /** `,<%.17g>\r\n`; RESP2: the same text as a bulk string. */
  double(n: number): void {
    const text = formatDouble(n);
    if (this.protocol === 2) return this.bulk(text);
    this.line(kComma, text);
  }

  /** `#t\r\n` / `#f\r\n`; RESP2: `:1` / `:0`. */
  boolean(value: boolean): void {
    if (this.protocol === 2) return this.integer(value ? 1 : 0);
    this.ensure(4);
    this.putByte(kHash);
    this.putByte(value ? 0x74 : 0x66);
    this.putCrlf();
  }

  /** `(<digits>\r\n`; RESP2: a bulk string. */
  bigNumber(digits: string | bigint): void {
    const text = typeof digits === 'bigint' ? digits.toString() : digits;
    if (!/^-?[0-9]+$/.test(text)) throw new InvariantError(`not a big number: ${JSON.stringify(text.slice(0, 40))}`);
    if (this.protocol === 2) return this.bulk(text);
    this.line(kParen, text);
  }

  /** `=<len>\r\n<fmt>:<text>\r\n` (format `txt` or `mkd`); RESP2: a bulk string of the text. */
  verbatim(text: string | Uint8Array, format = 'txt'): void {
    if (this.protocol === 2) return this.bulk(text);
    const tag = `${format.padEnd(3, ' ').slice(0, 3)}:`;
    const body = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    this.ensure(kHeaderMaxBytes + kVerbatimTagBytes + body.length + 2);
    this.putLengthHeader(kEquals, body.length + kVerbatimTagBytes);
    this.putText(tag, kVerbatimTagBytes);
    this.putRange(body, 0, body.length);
    this.putCrlf();
  }

  private aggregate(prefix3: number, count: number): void {
    checkUint(count);
    this.ensure(kHeaderMaxBytes);
    this.putLengthHeader(this.protocol === 3 ? prefix3 : kStar, count);
  }

  private null3(): void {
    this.ensure(3);
    this.putByte(kUnderscore);
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
