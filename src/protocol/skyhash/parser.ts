/**
 * Incremental, bounded parser for Skyhash 1.x requests (docs/behaviour.md, Skyhash 1.x).
 *
 *   request := '*' <n> '\n' query{n}            n = 1 simple query, n > 1 pipeline
 *   query   := '~' <count> '\n' element{count}
 *   element := <len> '\n' <len bytes> '\n'
 *
 * Use: `push(chunk)` each socket chunk, then call `next()` until it returns null; each non-null
 * result is one complete request whose queries are `ArgView`s over the receive buffer.
 *
 * Guarantees:
 * - A request may arrive split at any byte. Parsing resumes where it stopped: element bytes are
 *   never scanned (only their terminator is checked), so a large element arriving in many small
 *   chunks costs O(its length) in total.
 * - Bounded: a count above `pipelineQueriesMax` / `queryElementsMax`, an element that would take
 *   the request past `requestMaxBytes`, or a size line with more digits than the limit needs is
 *   refused as soon as it is seen. Nothing is allocated from an announced size or count: the
 *   position arrays grow only with elements actually received. With the caller draining `next()`
 *   after every `push`, pending input never exceeds one request's bytes plus one chunk.
 * - Errors: `ProtocolError` with code ERR_PROTOCOL_FRAMING / _EMPTY / _TOO_LARGE (Skyhash code
 *   4) or ERR_PROTOCOL_BAD_SIZE (code 7, a non-digit where a size was expected). After an error
 *   the parser is failed for good: `push` ignores input and `next` throws the same error (the
 *   server replies and closes the connection; the bad bytes are not left to be re-read).
 * - Views (the returned request, its queries, Buffers from `arg`) stay valid until the next
 *   `push()` or `next()`.
 */

import { InvariantError } from '../../util/assert.js';
import { ArgView } from '../args.js';
import {
  checkProtocolLimits,
  kSkyhashWrongType,
  ProtocolError,
  ProtocolErrorCode,
  type ProtocolErrorCodeValue,
  type ProtocolLimits,
} from '../limits.js';
import {
  InputBuffer,
  kLineEmpty,
  kLineNeedMore,
  kLineNotDigit,
  kLineOk,
  kLineTooLong,
  maxDigitsFor,
  readSizeLineLf,
  sizeLine,
  type LineStatus,
} from '../reader.js';

const kLf = 0x0a;
const kStar = 0x2a;
const kTilde = 0x7e;

const kStatePacket = 0;
const kStateQuery = 1;
const kStateElementSize = 2;
const kStateElementBody = 3;

/** Position arrays start this small and return to it after a request that needed more. */
const kElementsInitial = 16;
const kQueriesInitial = 4;
const kElementsRetainMax = 4096;
const kQueriesRetainMax = 1024;

/** One complete request: `count` queries, each an ArgView of its elements. */
export class SkyhashRequest {
  /** Number of queries (1 for a simple query). */
  count = 0;
  /** One view per query index, reused from request to request. */
  private views: ArgView[] = [];

  /** True for a pipeline (`*n` with n > 1): the reply must be `*n` with one element per query. */
  get isPipeline(): boolean {
    return this.count > 1;
  }

  /** Query `i`'s elements; valid until the next `push()`/`next()`. */
  query(i: number): ArgView {
    if (!(i >= 0 && i < this.count)) throw new InvariantError(`query index ${i} outside [0, ${this.count})`);
    return this.views[i] as ArgView;
  }

  /** @internal The parser's view slots. */
  slots(count: number): ArgView[] {
    while (this.views.length < count) this.views.push(new ArgView());
    if (this.views.length > kQueriesRetainMax && count <= kQueriesRetainMax) this.views.length = kQueriesRetainMax;
    this.count = count;
    return this.views;
  }
}

export class SkyhashParser {
  private readonly input = new InputBuffer();
  private readonly limits: ProtocolLimits;
  private readonly queriesDigitsMax: number;
  private readonly elementsDigitsMax: number;
  private readonly lengthDigitsMax: number;

  private state = kStatePacket;
  /** Next unparsed byte of the current request, relative to `input.start`. */
  private pos = 0;
  private queriesExpected = 0;
  private queriesDone = 0;
  private elementsExpected = 0;
  private elementsDone = 0;
  private elementLength = 0;
  /** Elements of the current request so far, across its queries. */
  private elementTotal = 0;

  private offsets = new Int32Array(kElementsInitial);
  private lengths = new Int32Array(kElementsInitial);
  private queryFirst = new Int32Array(kQueriesInitial);
  private queryElements = new Int32Array(kQueriesInitial);

  private readonly request = new SkyhashRequest();
  private failure: ProtocolError | null = null;

  constructor(limits: ProtocolLimits) {
    checkProtocolLimits(limits);
    this.limits = { ...limits };
    this.queriesDigitsMax = maxDigitsFor(limits.pipelineQueriesMax);
    this.elementsDigitsMax = maxDigitsFor(limits.queryElementsMax);
    this.lengthDigitsMax = maxDigitsFor(limits.requestMaxBytes);
  }

  /** Append a received chunk. The parser may parse it in place until `next()` returns null. */
  push(chunk: Uint8Array): void {
    if (this.failure !== null) return;
    this.input.push(chunk);
  }

  /**
   * The next complete request, or null when more bytes are needed. Throws ProtocolError on
   * malformed or oversized input (and from then on).
   */
  next(): SkyhashRequest | null {
    if (this.failure !== null) throw this.failure;
    if (this.state === kStatePacket && this.pos === 0) this.shrinkPositions();
    return this.parse();
  }

  /** Bytes received and not yet returned as part of a request. */
  get pendingBytes(): number {
    return this.input.pendingBytes;
  }

  /** Memory this parser holds: receive storage and position arrays. */
  get retainedBytes(): number {
    return (
      this.input.capacityBytes +
      this.offsets.byteLength +
      this.lengths.byteLength +
      this.queryFirst.byteLength +
      this.queryElements.byteLength
    );
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

  private parse(): SkyhashRequest | null {
    const input = this.input;
    const bytes = input.bytes;
    const base = input.start;
    const end = input.end;
    for (;;) {
      const at = base + this.pos;
      switch (this.state) {
        case kStatePacket: {
          if (at >= end) return this.needMore();
          if (bytes[at] !== kStar) {
            throw this.fail(ProtocolErrorCode.framing, `expected '*' at the start of a packet, got ${describeByte(bytes[at] as number)}`);
          }
          const status = readSizeLineLf(bytes, at + 1, end, this.queriesDigitsMax);
          if (status !== kLineOk) {
            if (status === kLineNeedMore) return this.needMore();
            throw this.failSize(status, 'query count', this.limits.pipelineQueriesMax, 'pipelineQueriesMax');
          }
          const queries = sizeLine.value;
          if (queries === 0) throw this.fail(ProtocolErrorCode.empty, 'a packet of 0 queries (*0)');
          if (queries > this.limits.pipelineQueriesMax) {
            throw this.fail(ProtocolErrorCode.tooLarge, `a pipeline of ${queries} queries is over pipelineQueriesMax (${this.limits.pipelineQueriesMax})`);
          }
          this.queriesExpected = queries;
          this.queriesDone = 0;
          this.elementTotal = 0;
          this.advanceTo(sizeLine.next - base);
          this.state = kStateQuery;
          break;
        }
        case kStateQuery: {
          if (at >= end) return this.needMore();
          if (bytes[at] !== kTilde) {
            throw this.fail(ProtocolErrorCode.framing, `expected '~' at the start of query ${this.queriesDone + 1}, got ${describeByte(bytes[at] as number)}`);
          }
          const status = readSizeLineLf(bytes, at + 1, end, this.elementsDigitsMax);
          if (status !== kLineOk) {
            if (status === kLineNeedMore) return this.needMore();
            throw this.failSize(status, 'element count', this.limits.queryElementsMax, 'queryElementsMax');
          }
          const elements = sizeLine.value;
          if (elements === 0) throw this.fail(ProtocolErrorCode.empty, 'a query of 0 elements (~0)');
          if (elements > this.limits.queryElementsMax) {
            throw this.fail(ProtocolErrorCode.tooLarge, `a query of ${elements} elements is over queryElementsMax (${this.limits.queryElementsMax})`);
          }
          const q = this.queriesDone;
          if (q === this.queryFirst.length) this.growQueries();
          this.queryFirst[q] = this.elementTotal;
          this.queryElements[q] = elements;
          this.elementsExpected = elements;
          this.elementsDone = 0;
          this.advanceTo(sizeLine.next - base);
          this.state = kStateElementSize;
          break;
        }
        case kStateElementSize: {
          const status = readSizeLineLf(bytes, at, end, this.lengthDigitsMax);
          if (status !== kLineOk) {
            if (status === kLineNeedMore) return this.needMore();
            throw this.failSize(status, 'element length', this.limits.requestMaxBytes, 'requestMaxBytes');
          }
          const length = sizeLine.value;
          const bodyAt = sizeLine.next - base;
          if (bodyAt + length + 1 > this.limits.requestMaxBytes) {
            throw this.fail(ProtocolErrorCode.tooLarge, `an element of ${length} bytes takes the request over requestMaxBytes (${this.limits.requestMaxBytes})`);
          }
          this.pos = bodyAt;
          this.elementLength = length;
          this.state = kStateElementBody;
          break;
        }
        case kStateElementBody: {
          const length = this.elementLength;
          if (at + length + 1 > end) return this.needMore();
          if (bytes[at + length] !== kLf) {
            throw this.fail(ProtocolErrorCode.framing, `expected '\\n' after ${length} element bytes, got ${describeByte(bytes[at + length] as number)}`);
          }
          const k = this.elementTotal;
          if (k === this.offsets.length) this.growElements();
          this.offsets[k] = this.pos;
          this.lengths[k] = length;
          this.elementTotal = k + 1;
          this.pos += length + 1;
          this.elementsDone++;
          if (this.elementsDone < this.elementsExpected) {
            this.state = kStateElementSize;
            break;
          }
          this.queriesDone++;
          if (this.queriesDone < this.queriesExpected) {
            this.state = kStateQuery;
            break;
          }
          return this.complete(bytes, base);
        }
      }
    }
  }

  private complete(bytes: Buffer, base: number): SkyhashRequest {
    const queries = this.queriesExpected;
    const views = this.request.slots(queries);
    for (let q = 0; q < queries; q++) {
      (views[q] as ArgView).bind(
        bytes,
        base,
        this.offsets,
        this.lengths,
        this.queryFirst[q] as number,
        this.queryElements[q] as number,
      );
    }
    this.input.consume(this.pos);
    this.pos = 0;
    this.state = kStatePacket;
    return this.request;
  }

  private needMore(): null {
    this.input.settle();
    return null;
  }

  private advanceTo(pos: number): void {
    if (pos > this.limits.requestMaxBytes) {
      throw this.fail(ProtocolErrorCode.tooLarge, `the request is over requestMaxBytes (${this.limits.requestMaxBytes})`);
    }
    this.pos = pos;
  }

  private failSize(status: LineStatus, what: string, limit: number, limitName: string): ProtocolError {
    switch (status) {
      case kLineNotDigit:
        return this.fail(ProtocolErrorCode.badSize, `expected digits for the ${what}`, kSkyhashWrongType);
      case kLineTooLong:
        return this.fail(ProtocolErrorCode.tooLarge, `the ${what} has more digits than ${limitName} (${limit}) allows`);
      case kLineEmpty:
        return this.fail(ProtocolErrorCode.framing, `empty ${what} line`);
      default:
        return this.fail(ProtocolErrorCode.framing, `bad ${what} line`);
    }
  }

  private fail(code: ProtocolErrorCodeValue, message: string, responseCode?: 4 | 7): ProtocolError {
    const error = new ProtocolError(code, `Skyhash: ${message}`, responseCode);
    this.failure = error;
    this.input.discard();
    return error;
  }

  private growElements(): void {
    const capacity = this.offsets.length * 2;
    const offsets = new Int32Array(capacity);
    const lengths = new Int32Array(capacity);
    offsets.set(this.offsets);
    lengths.set(this.lengths);
    this.offsets = offsets;
    this.lengths = lengths;
  }

  private growQueries(): void {
    const capacity = this.queryFirst.length * 2;
    const first = new Int32Array(capacity);
    const elements = new Int32Array(capacity);
    first.set(this.queryFirst);
    elements.set(this.queryElements);
    this.queryFirst = first;
    this.queryElements = elements;
  }

  /** Between requests: give back position arrays a large pipeline needed. */
  private shrinkPositions(): void {
    if (this.offsets.length > kElementsRetainMax) {
      this.offsets = new Int32Array(kElementsInitial);
      this.lengths = new Int32Array(kElementsInitial);
    }
    if (this.queryFirst.length > kQueriesRetainMax) {
      this.queryFirst = new Int32Array(kQueriesInitial);
      this.queryElements = new Int32Array(kQueriesInitial);
    }
  }
}

function describeByte(byte: number): string {
  return byte >= 0x21 && byte <= 0x7e ? `'${String.fromCharCode(byte)}'` : `0x${byte.toString(16).padStart(2, '0')}`;
}
