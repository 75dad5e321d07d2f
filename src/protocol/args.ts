/**
 * A parsed command's arguments as positions in the receive buffer: a Skyhash query's elements
 * or a RESP command's arguments, without a Buffer or string per argument.
 *
 * Guarantees:
 * - Nothing is copied: `buffer` is the parser's receive buffer and `offset(i)`/`length(i)` are
 *   read from Int32Arrays the parser reuses. A view (and every Buffer from `arg`) is valid only
 *   until the next `push()` or `next()` on the parser that produced it; copy what must outlive
 *   that (the table copies keys and values when it stores them).
 * - `argIs` compares ASCII case-insensitively without creating strings.
 * - An index outside `[0, count)` is a caller bug and throws (never reads a stale argument).
 */

import { InvariantError } from '../util/assert.js';

const kNoBytes: Buffer = Buffer.alloc(0);
const kNoPositions = new Int32Array(0);

function foldAscii(byte: number): number {
  return byte >= 0x61 && byte <= 0x7a ? byte - 0x20 : byte;
}

export class ArgView {
  /** The receive buffer holding the arguments. */
  buffer: Buffer = kNoBytes;
  /** Number of arguments. */
  count = 0;
  private base = 0;
  private first = 0;
  private offsets: Int32Array = kNoPositions;
  private lengths: Int32Array = kNoPositions;

  /**
   * Point the view at arguments `first .. first + count - 1` of `offsets`/`lengths`, which are
   * relative to `base` in `buffer`. Called by the parsers only.
   */
  bind(buffer: Buffer, base: number, offsets: Int32Array, lengths: Int32Array, first: number, count: number): void {
    this.buffer = buffer;
    this.base = base;
    this.offsets = offsets;
    this.lengths = lengths;
    this.first = first;
    this.count = count;
  }

  /** Position of argument `i`'s first byte in `buffer`. */
  offset(i: number): number {
    if (!(i >= 0 && i < this.count)) badIndex(i, this.count);
    return this.base + (this.offsets[this.first + i] as number);
  }

  /** Length of argument `i` in bytes. */
  length(i: number): number {
    if (!(i >= 0 && i < this.count)) badIndex(i, this.count);
    return this.lengths[this.first + i] as number;
  }

  /** Argument `i` as a Buffer aliasing the receive buffer (allocates a view; for rare paths). */
  arg(i: number): Buffer {
    const offset = this.offset(i);
    return this.buffer.subarray(offset, offset + this.length(i));
  }

  /** Argument `i` decoded as a string (UTF-8 unless told otherwise). */
  argString(i: number, encoding: BufferEncoding = 'utf8'): string {
    const offset = this.offset(i);
    return this.buffer.toString(encoding, offset, offset + this.length(i));
  }

  /**
   * Whether argument `i` equals `text` with ASCII letters compared case-insensitively. `text`
   * should be ASCII (command and keyword names). False when there is no argument `i`.
   */
  argIs(i: number, text: string): boolean {
    if (!(i >= 0 && i < this.count)) return false;
    const k = this.first + i;
    const length = this.lengths[k] as number;
    if (length !== text.length) return false;
    const bytes = this.buffer;
    const offset = this.base + (this.offsets[k] as number);
    for (let j = 0; j < length; j++) {
      if (foldAscii(bytes[offset + j] as number) !== foldAscii(text.charCodeAt(j))) return false;
    }
    return true;
  }

  /** Copies of every argument (tests and diagnostics; allocates). */
  toBuffers(): Buffer[] {
    const out: Buffer[] = [];
    for (let i = 0; i < this.count; i++) out.push(Buffer.from(this.arg(i)));
    return out;
  }
}

function badIndex(i: number, count: number): never {
  throw new InvariantError(`argument index ${i} outside [0, ${count})`);
}
