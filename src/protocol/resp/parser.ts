/**
 * Incremental, bounded parser for RESP2 requests, read the way Redis 7 reads them
 * (networking.c processMultibulkBuffer / processInlineBuffer, sds.c sdssplitargs).
 *
 *   multibulk := '*' <n> '\r\n' ( '$' <len> '\r\n' <len bytes> '\r\n' ){n}
 *   inline    := any line not starting with '*', ended by '\n' or '\r\n', split into words
 *
 * Use: `push(chunk)` each socket chunk, then call `next()` until it returns null; each non-null
 * result is one command as an `ArgView` over the receive buffer.
 *
 * Guarantees:
 * - A command may arrive split at any byte; parsing resumes where it stopped (bulk bytes are
 *   never scanned; an inline line is scanned once).
 * - As Redis: `*0` and `*-n` are skipped, empty and blank inline lines are skipped, inline words
 *   follow sdssplitargs (double quotes with \n \r \t \b \a \xHH and \<char> escapes, single
 *   quotes with \' only, a closing quote must be followed by a blank). Numbers are read as
 *   string2ll reads them (no leading zeros, no `+`).
 * - Bounded: more than `queryElementsMax` arguments, a bulk taking the command past
 *   `requestMaxBytes`, or an inline line over min(64 KiB, requestMaxBytes) is refused as soon as
 *   it is seen, before allocating anything of that size.
 * - Errors: `ProtocolError` whose message is Redis's reply text (`Protocol error: invalid bulk
 *   length`, ...; the server writes `-ERR <message>` and closes). After an error the parser is
 *   failed for good: `push` ignores input and `next` throws the same error. A bad count or
 *   bulk length line is judged as Redis judges it, once its line is whole: `invalid multibulk
 *   length` / `invalid bulk length` when a '\r' ends it, `too big mbulk count string` / `too
 *   big bulk count string` when none comes within 64 KiB or a NUL comes first (so `*\x00`
 *   followed by anything is refused at once, with Redis's text).
 * - Where frostkv differs from Redis 7, on purpose:
 *   - the two bytes after a bulk must be `\r\n` (Redis skips them unchecked), so a client that
 *     lost framing is stopped instead of having its data reinterpreted (its own error text);
 *   - argument counts are bounded by `queryElementsMax` (Redis 7 allows up to INT_MAX when
 *     authenticated), with Redis's `invalid multibulk length` text;
 *   - an inline line longer than the bound is refused even when its end arrived in the same
 *     read (Redis refuses only while the end is missing), so the outcome never depends on how
 *     the stream was chunked;
 *   - a NUL in an inline line is an ordinary byte of a word (Redis 7 never finds the end of
 *     such a line and waits forever).
 * - Inline words with quotes are unescaped in place, inside the line's own bytes (so the chunk
 *   passed to `push` may be modified there). Views stay valid until the next `push()`/`next()`.
 */

import { ArgView } from '../args.js';
import {
  checkProtocolLimits,
  ProtocolError,
  ProtocolErrorCode,
  type ProtocolErrorCodeValue,
  type ProtocolLimits,
} from '../limits.js';
import {
  findLf,
  InputBuffer,
  kLineNeedMore,
  kLineOk,
  kLineTooLong,
  maxDigitsFor,
  readSizeLineCrlf,
  sizeLine,
} from '../reader.js';

const kTab = 0x09;
const kLf = 0x0a;
const kVt = 0x0b;
const kFf = 0x0c;
const kCr = 0x0d;
const kSpace = 0x20;
const kDoubleQuote = 0x22;
const kDollar = 0x24;
const kSingleQuote = 0x27;
const kStar = 0x2a;
const kBackslash = 0x5c;
const kLowerX = 0x78;

/** Redis's PROTO_INLINE_MAX_SIZE: the longest inline command line. */
export const kInlineMaxBytes = 64 * 1024;

export const RespErrorText = {
  invalidMultibulkLength: 'Protocol error: invalid multibulk length',
  invalidBulkLength: 'Protocol error: invalid bulk length',
  /** A count line whose '\r' does not come within kInlineMaxBytes (or comes after a NUL). */
  tooBigMbulkCount: 'Protocol error: too big mbulk count string',
  /** A bulk length line whose '\r' does not come within kInlineMaxBytes (or comes after a NUL). */
  tooBigBulkCount: 'Protocol error: too big bulk count string',
  unbalancedQuotes: 'Protocol error: unbalanced quotes in request',
  tooBigInline: 'Protocol error: too big inline request',
  /** frostkv only: Redis does not check the bytes after a bulk. */
  bulkNotTerminated: "Protocol error: expected '\\r\\n' after bulk data",
  /** frostkv only: Redis has no argument limit for inline commands. */
  tooManyInlineArguments: 'Protocol error: too many arguments in inline request',
} as const;

/** Redis's text for a byte other than '$' where a bulk header was expected. */
export function expectedDollarText(byte: number): string {
  // addReplyErrorFormat turns CR and LF into spaces so the error line stays one line.
  const shown = byte === kCr || byte === kLf ? kSpace : byte;
  return `Protocol error: expected '$', got '${String.fromCharCode(shown)}'`;
}

const kStateCommand = 0;
const kStateInline = 1;
const kStateBulkHeader = 2;
const kStateBulkBody = 3;
/** A count or bulk length line is known bad; waiting for its '\r' to pick Redis's text. */
const kStateBadSizeLine = 4;

const kNul = 0x00;

const kArgsInitial = 16;
const kArgsRetainMax = 4096;

function isCSpace(byte: number): boolean {
  return byte === kSpace || byte === kTab || byte === kLf || byte === kCr || byte === kVt || byte === kFf;
}

function hexValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  if (byte >= 0x61 && byte <= 0x66) return byte - 0x61 + 10;
  if (byte >= 0x41 && byte <= 0x46) return byte - 0x41 + 10;
  return -1;
}

export class RespParser {
  private readonly input = new InputBuffer();
  private readonly limits: ProtocolLimits;
  private readonly inlineMaxBytes: number;
  private readonly countDigitsMax: number;
  private readonly lengthDigitsMax: number;

  private state = kStateCommand;
  /** Next unparsed byte of the current command, relative to `input.start`. */
  private pos = 0;
  /** Inline: where the search for the line end resumes, relative to `input.start`. */
  private scanPos = 0;
  private argsExpected = 0;
  private argCount = 0;
  private bulkLength = 0;
  /** kStateBadSizeLine: what to refuse with once the line's end (or its absence) is known. */
  private badLine: { code: ProtocolErrorCodeValue; invalid: string; tooBig: string } | null = null;

  private offsets = new Int32Array(kArgsInitial);
  private lengths = new Int32Array(kArgsInitial);

  private readonly command = new ArgView();
  private failure: ProtocolError | null = null;

  constructor(limits: ProtocolLimits) {
    checkProtocolLimits(limits);
    this.limits = { ...limits };
    this.inlineMaxBytes = Math.min(kInlineMaxBytes, limits.requestMaxBytes);
    this.countDigitsMax = maxDigitsFor(limits.queryElementsMax);
    this.lengthDigitsMax = maxDigitsFor(limits.requestMaxBytes);
  }

  /** Append a received chunk. The parser may parse it in place until `next()` returns null. */
  push(chunk: Uint8Array): void {
    if (this.failure !== null) return;
    this.input.push(chunk);
  }

  /**
   * The next complete command (at least one argument), or null when more bytes are needed.
   * Throws ProtocolError on malformed or oversized input (and from then on).
   */
  next(): ArgView | null {
    if (this.failure !== null) throw this.failure;
    if (this.state === kStateCommand && this.offsets.length > kArgsRetainMax) {
      this.offsets = new Int32Array(kArgsInitial);
      this.lengths = new Int32Array(kArgsInitial);
    }
    return this.parse();
  }

  /** Bytes received and not yet returned as part of a command. */
  get pendingBytes(): number {
    return this.input.pendingBytes;
  }

  /** Memory this parser holds: receive storage and position arrays. */
  get retainedBytes(): number {
    return this.input.capacityBytes + this.offsets.byteLength + this.lengths.byteLength;
  }

  /**
   * After `next()` returned null: whether part of a request has arrived (for the server's
   * timeout on half-sent requests).
   */
  get inRequest(): boolean {
    return this.input.pendingBytes > 0;
  }

  /** Let go of receive storage if nothing is pending (idle connections). */
  trim(): void {
    this.input.trim();
  }

  private parse(): ArgView | null {
    const input = this.input;
    const bytes = input.bytes;
    const end = input.end;
    for (;;) {
      const base = input.start;
      const at = base + this.pos;
      switch (this.state) {
        case kStateCommand: {
          if (at >= end) return this.needMore();
          if (bytes[at] !== kStar) {
            this.state = kStateInline;
            this.scanPos = 0;
            break;
          }
          const status = readSizeLineCrlf(bytes, at + 1, end, this.countDigitsMax);
          if (status !== kLineOk) {
            if (status === kLineNeedMore) return this.needMore();
            const code = status === kLineTooLong ? ProtocolErrorCode.tooLarge : ProtocolErrorCode.badSize;
            this.startBadSizeLine(code, RespErrorText.invalidMultibulkLength, RespErrorText.tooBigMbulkCount);
            break;
          }
          const count = sizeLine.value;
          if (count <= 0) {
            // Redis ignores `*0` and `*-1` requests.
            input.consume(sizeLine.next - base);
            break;
          }
          if (count > this.limits.queryElementsMax) throw this.fail(ProtocolErrorCode.tooLarge, RespErrorText.invalidMultibulkLength);
          this.argsExpected = count;
          this.argCount = 0;
          this.advanceTo(sizeLine.next - base, RespErrorText.invalidMultibulkLength);
          this.state = kStateBulkHeader;
          break;
        }
        case kStateInline: {
          const searchEnd = Math.min(end, base + this.inlineMaxBytes + 2);
          const lf = findLf(bytes, base + this.scanPos, searchEnd);
          if (lf < 0) {
            if (searchEnd - base >= this.inlineMaxBytes + 2) throw this.fail(ProtocolErrorCode.tooLarge, RespErrorText.tooBigInline);
            this.scanPos = searchEnd - base;
            return this.needMore();
          }
          const lineEnd = lf > base && bytes[lf - 1] === kCr ? lf - 1 : lf;
          if (lineEnd - base > this.inlineMaxBytes) throw this.fail(ProtocolErrorCode.tooLarge, RespErrorText.tooBigInline);
          const argc = this.splitInline(bytes, base, lineEnd);
          const lineBytes = lf + 1 - base;
          if (argc === 0) {
            input.consume(lineBytes);
            this.pos = 0;
            this.state = kStateCommand;
            break;
          }
          this.pos = lineBytes;
          return this.complete(bytes, base, argc);
        }
        case kStateBulkHeader: {
          if (at >= end) return this.needMore();
          const first = bytes[at] as number;
          if (first !== kDollar) throw this.fail(ProtocolErrorCode.framing, expectedDollarText(first));
          const status = readSizeLineCrlf(bytes, at + 1, end, this.lengthDigitsMax);
          if (status !== kLineOk) {
            if (status === kLineNeedMore) return this.needMore();
            const code = status === kLineTooLong ? ProtocolErrorCode.tooLarge : ProtocolErrorCode.badSize;
            this.startBadSizeLine(code, RespErrorText.invalidBulkLength, RespErrorText.tooBigBulkCount);
            break;
          }
          const length = sizeLine.value;
          if (length < 0) throw this.fail(ProtocolErrorCode.badSize, RespErrorText.invalidBulkLength);
          const bodyAt = sizeLine.next - base;
          if (bodyAt + length + 2 > this.limits.requestMaxBytes) throw this.fail(ProtocolErrorCode.tooLarge, RespErrorText.invalidBulkLength);
          this.pos = bodyAt;
          this.bulkLength = length;
          this.state = kStateBulkBody;
          break;
        }
        case kStateBulkBody: {
          const length = this.bulkLength;
          if (at + length + 2 > end) return this.needMore();
          if (bytes[at + length] !== kCr || bytes[at + length + 1] !== kLf) {
            throw this.fail(ProtocolErrorCode.framing, RespErrorText.bulkNotTerminated);
          }
          this.pushArg(this.argCount, this.pos, length);
          this.argCount++;
          this.pos += length + 2;
          if (this.argCount < this.argsExpected) {
            this.state = kStateBulkHeader;
            break;
          }
          return this.complete(bytes, base, this.argCount);
        }
        case kStateBadSizeLine:
          return this.refuseBadSizeLine(bytes, base, end);
      }
    }
  }

  /**
   * The size line at `pos` is bad. Redis reads such a line whole before judging it, so its text
   * depends on what follows: \`invalid ...\` once a '\r' ends the line, \`too big ... string\`
   * when no '\r' comes within kInlineMaxBytes (or a NUL comes first: Redis's strchr stops
   * there). frostkv waits for the same bytes, so the text never depends on the chunking; the
   * wait holds at most kInlineMaxBytes and falls under the server's request timeout.
   */
  private startBadSizeLine(code: ProtocolErrorCodeValue, invalid: string, tooBig: string): void {
    this.badLine = { code, invalid, tooBig };
    this.scanPos = this.pos + 1;
    this.state = kStateBadSizeLine;
  }

  private refuseBadSizeLine(bytes: Buffer, base: number, end: number): null {
    const bad = this.badLine as NonNullable<typeof this.badLine>;
    const lineStart = base + this.pos;
    const searchEnd = Math.min(end, lineStart + kInlineMaxBytes + 1);
    for (let at = base + this.scanPos; at < searchEnd; at++) {
      const byte = bytes[at] as number;
      if (byte === kCr) throw this.fail(bad.code, bad.invalid);
      if (byte === kNul) throw this.fail(ProtocolErrorCode.badSize, bad.tooBig);
    }
    if (searchEnd - lineStart > kInlineMaxBytes) throw this.fail(ProtocolErrorCode.tooLarge, bad.tooBig);
    this.scanPos = searchEnd - base;
    return this.needMore();
  }

  /**
   * sdssplitargs over `bytes[lineStart, lineEnd)`, writing each word's unescaped bytes in place
   * (a word never grows when unescaped, so the write cursor never passes the read cursor).
   */
  private splitInline(bytes: Buffer, lineStart: number, lineEnd: number): number {
    // Redis 7 never completes an inline line holding a NUL (its strchr for the line end stops
    // there, so the client hangs); frostkv treats NUL as an ordinary byte rather than truncate.
    const stop = lineEnd;
    let read = lineStart;
    let write = lineStart;
    let argc = 0;
    for (;;) {
      while (read < stop && isCSpace(bytes[read] as number)) read++;
      if (read >= stop) return argc;
      const wordStart = write;
      let inDouble = false;
      let inSingle = false;
      for (;;) {
        if (inDouble) {
          if (read >= stop) throw this.fail(ProtocolErrorCode.unbalancedQuotes, RespErrorText.unbalancedQuotes);
          const byte = bytes[read] as number;
          if (byte === kBackslash && read + 3 < stop && bytes[read + 1] === kLowerX) {
            const high = hexValue(bytes[read + 2] as number);
            const low = hexValue(bytes[read + 3] as number);
            if (high >= 0 && low >= 0) {
              bytes[write++] = high * 16 + low;
              read += 4;
              continue;
            }
          }
          if (byte === kBackslash && read + 1 < stop) {
            bytes[write++] = unescapeByte(bytes[read + 1] as number);
            read += 2;
          } else if (byte === kDoubleQuote) {
            if (read + 1 < stop && !isCSpace(bytes[read + 1] as number)) {
              throw this.fail(ProtocolErrorCode.unbalancedQuotes, RespErrorText.unbalancedQuotes);
            }
            read++;
            break;
          } else {
            bytes[write++] = byte;
            read++;
          }
        } else if (inSingle) {
          if (read >= stop) throw this.fail(ProtocolErrorCode.unbalancedQuotes, RespErrorText.unbalancedQuotes);
          const byte = bytes[read] as number;
          if (byte === kBackslash && read + 1 < stop && bytes[read + 1] === kSingleQuote) {
            bytes[write++] = kSingleQuote;
            read += 2;
          } else if (byte === kSingleQuote) {
            if (read + 1 < stop && !isCSpace(bytes[read + 1] as number)) {
              throw this.fail(ProtocolErrorCode.unbalancedQuotes, RespErrorText.unbalancedQuotes);
            }
            read++;
            break;
          } else {
            bytes[write++] = byte;
            read++;
          }
        } else {
          if (read >= stop) break;
          const byte = bytes[read] as number;
          if (byte === kSpace || byte === kLf || byte === kCr || byte === kTab) {
            read++;
            break;
          }
          if (byte === kDoubleQuote) inDouble = true;
          else if (byte === kSingleQuote) inSingle = true;
          else if (write === read) write++;
          else bytes[write++] = byte;
          read++;
        }
      }
      if (argc === this.limits.queryElementsMax) throw this.fail(ProtocolErrorCode.tooLarge, RespErrorText.tooManyInlineArguments);
      this.pushArg(argc, wordStart - lineStart, write - wordStart);
      argc++;
    }
  }

  private pushArg(index: number, offset: number, length: number): void {
    if (index === this.offsets.length) this.growArgs();
    this.offsets[index] = offset;
    this.lengths[index] = length;
  }

  private complete(bytes: Buffer, base: number, argc: number): ArgView {
    this.command.bind(bytes, base, this.offsets, this.lengths, 0, argc);
    this.input.consume(this.pos);
    this.pos = 0;
    this.state = kStateCommand;
    return this.command;
  }

  private needMore(): null {
    this.input.settle();
    return null;
  }

  private advanceTo(pos: number, message: string): void {
    if (pos > this.limits.requestMaxBytes) throw this.fail(ProtocolErrorCode.tooLarge, message);
    this.pos = pos;
  }

  private fail(code: ProtocolErrorCodeValue, message: string): ProtocolError {
    const error = new ProtocolError(code, message);
    this.failure = error;
    this.input.discard();
    return error;
  }

  private growArgs(): void {
    const capacity = this.offsets.length * 2;
    const offsets = new Int32Array(capacity);
    const lengths = new Int32Array(capacity);
    offsets.set(this.offsets);
    lengths.set(this.lengths);
    this.offsets = offsets;
    this.lengths = lengths;
  }
}

/** The byte a backslash escape stands for inside double quotes (sdssplitargs). */
function unescapeByte(byte: number): number {
  switch (byte) {
    case 0x6e: // n
      return kLf;
    case 0x72: // r
      return kCr;
    case 0x74: // t
      return kTab;
    case 0x62: // b
      return 0x08;
    case 0x61: // a
      return 0x07;
    default:
      return byte;
  }
}
