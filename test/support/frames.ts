/**
 * Format-3 frames read as docs/format.md describes them, with no frostkv code: an LZ4 block
 * decompressor written from the LZ4 block format, and `flattenFrames`, which turns a format-3
 * data file into the same stream with every block's frames replaced by the records they hold
 * (the layout of format 2), so the independent readers of the tests (test/persist/format-doc,
 * the kill -9 harness's test/support/kill9-log.ts) read every version with one record loop.
 * Files of versions 1 and 2 come back unchanged. This module must not import vitest.
 */
import { Unpackr } from 'msgpackr';

const unpackr = new Unpackr({ mapsAsObjects: true });
/** Header maps are small: unpack them from a window (msgpackr scans its whole input ahead). */
const kWindowBytes = 4096;
const kLz4MinMatchBytes = 4;
const kLz4SizePrefixBytes = 4;

function objectAt(bytes: Buffer, at: number): { value: unknown; end: number } {
  let found: { value: unknown; end: number } | null = null;
  const read = (window: Buffer): void => {
    unpackr.unpackMultiple(window, (value: unknown, _start?: number, end?: number) => {
      found = { value, end: at + (end ?? 0) };
      return false;
    });
  };
  try {
    read(bytes.subarray(at, Math.min(bytes.length, at + kWindowBytes)));
  } catch {
    read(bytes.subarray(at));
  }
  if (found === null) throw new Error(`no MessagePack object at ${at}`);
  return found;
}

/** Decode one LZ4 block (lz4.org, "LZ4 Block Format Description") into exactly `rawBytes` bytes. */
export function lz4DecompressBlock(src: Buffer, rawBytes: number): Buffer {
  const out = Buffer.alloc(rawBytes);
  let s = 0;
  let d = 0;
  const length = (base: number): number => {
    let n = base;
    if (base !== 15) return n;
    for (;;) {
      const b = src[s++];
      if (b === undefined) throw new Error('lz4: truncated length');
      n += b;
      if (b !== 255) return n;
    }
  };
  while (s < src.length) {
    const token = src[s++] as number;
    const literals = length(token >>> 4);
    if (s + literals > src.length || d + literals > rawBytes) throw new Error('lz4: literals out of bounds');
    src.copy(out, d, s, s + literals);
    s += literals;
    d += literals;
    if (s === src.length) break; // the last sequence holds literals only
    const offset = src.readUInt16LE(s);
    s += 2;
    const match = length(token & 15) + kLz4MinMatchBytes;
    if (offset === 0 || offset > d || d + match > rawBytes) throw new Error('lz4: bad match');
    for (let i = 0; i < match; i++, d++) out[d] = out[d - offset] as number;
  }
  if (d !== rawBytes) throw new Error(`lz4: ${d} bytes, expected ${rawBytes}`);
  return out;
}

export interface Flattened {
  bytes: Buffer;
  /** Frames seen, by codec (all zero for versions 1 and 2). */
  frames: { none: number; lz4: number };
}

export interface FrameHeaderFields {
  codec: string;
  records: number;
  rawBytes: number;
  storedBytes: number;
}

/** Where one frame lies in a format-3 file: its header map [headerAt, at), its bytes from `at`. */
export interface FrameSpan {
  headerAt: number;
  at: number;
  frame: FrameHeaderFields;
}

/**
 * Walk a format-3 data file: `onFrame` for every frame, `onMap` for every map that is not a
 * frame header (file header, block headers, trailer). Returns where the trailer ends.
 */
function walkFrames(file: Buffer, onMap: (from: number, to: number) => void, onFrame: (span: FrameSpan) => void): number {
  const header = objectAt(file, 0);
  if ((header.value as { version?: unknown }).version !== 3) throw new Error('not a format-3 data file');
  onMap(0, header.end);
  let at = header.end;
  for (;;) {
    const block = objectAt(file, at);
    onMap(at, block.end);
    at = block.end;
    const fields = block.value as { end?: boolean; records: number };
    if (fields.end === true) return at;
    for (let left = fields.records; left > 0;) {
      const next = objectAt(file, at);
      const frame = next.value as FrameHeaderFields;
      const counts = [frame.records, frame.rawBytes, frame.storedBytes];
      if (!counts.every((n) => Number.isSafeInteger(n) && n >= 0) || frame.records === 0) throw new Error(`bad frame header at ${at}`);
      onFrame({ headerAt: at, at: next.end, frame });
      at = next.end + frame.storedBytes;
      left -= frame.records;
    }
  }
}

/** Every frame of a format-3 data file. */
export function frameSpans(file: Buffer): FrameSpan[] {
  const spans: FrameSpan[] = [];
  walkFrames(file, () => {}, (span) => spans.push(span));
  return spans;
}

/** A data file with its format-3 frames replaced by the records they hold. */
export function flattenFrames(file: Buffer): Flattened {
  const frames = { none: 0, lz4: 0 };
  if ((objectAt(file, 0).value as { version?: unknown }).version !== 3) return { bytes: file, frames };
  const parts: Buffer[] = [];
  const end = walkFrames(file, (from, to) => parts.push(file.subarray(from, to)), ({ at, frame }) => {
    const stored = file.subarray(at, at + frame.storedBytes);
    if (frame.codec === 'lz4') {
      if (stored.readUInt32LE(0) !== frame.rawBytes) throw new Error('lz4 frame: size prefix differs from rawBytes');
      parts.push(lz4DecompressBlock(stored.subarray(kLz4SizePrefixBytes), frame.rawBytes));
      frames.lz4++;
    } else if (frame.codec === 'none') {
      parts.push(stored);
      frames.none++;
    } else {
      throw new Error(`unknown codec ${frame.codec}`);
    }
  });
  parts.push(file.subarray(end));
  return { bytes: Buffer.concat(parts), frames };
}
