/**
 * The frame codec of format-3 data files (runs in worker threads): how a frame's records are
 * stored, `none` (as they are) or `lz4` (the LZ4 block format, lz4.org's "LZ4 Block Format
 * Description", preceded by the uncompressed size as a u32 little-endian: what lz4-napi's
 * `compressSync`, lz4_flex's `compress_prepend_size` and Python's `lz4.block.compress` write).
 *
 * Why LZ4 (lz4-napi, prebuilt native binaries shipped in npm packages, no compiler needed):
 * measured in a worker thread on 128 KiB-1 MiB frames of format-2 records, it compressed at
 * 900-1400 MB/s and decompressed at 800-2300 MB/s on redis-benchmark-like data (ratio 0.09),
 * and at 340-460 MB/s on random base64 values (ratio 0.90), where zlib's deflate level 1 fell
 * to 30-50 MB/s and brotli quality 0 to 130-210 MB/s; snappy was slower and compressed less.
 *
 * On random values LZ4 saves only the keys' common bytes (10% with base64 values) for about a
 * fifth of a save's time (53 MB at ~400 MB/s over two workers, against ~300 ms saves), so a
 * frame that does not save kFrameMinSavedFraction is stored raw, and the writer then stores the next frames of that file raw without trying
 * (src/persist/encode.ts); compressible data is compressed at no loss of save speed.
 *
 * Guarantees:
 * - `compressFrame` returns bytes that `decompressFrame` turns back into exactly the input, or
 *   null when compressing would not save at least kFrameMinSavedFraction of the frame (the
 *   writer then stores it raw).
 * - `decompressFrame` returns exactly `rawBytes` bytes or throws a FormatError (the file's
 *   corrupt-save error) naming the file and the check; it never asks the codec for more than
 *   `kFrameRawMaxBytes`, whatever the stored bytes say, and never throws anything else.
 */

import { createRequire } from 'node:module';
import { FormatError } from './format.js';

interface Lz4Binding {
  compressSync(data: Buffer): Buffer;
  uncompressSync(data: Buffer): Buffer;
}

/**
 * lz4-napi, loaded at the first frame rather than at import: its native binary is an optional
 * per-platform package, and a platform without one must still load and write saves (frames
 * stored raw, which every reader reads) instead of failing to start.
 */
let lz4: Lz4Binding | null | undefined;

function lz4Binding(): Lz4Binding | null {
  if (lz4 === undefined) {
    try {
      lz4 = createRequire(import.meta.url)('lz4-napi') as Lz4Binding;
    } catch {
      lz4 = null;
    }
  }
  return lz4;
}

/** Whether this process can write and read lz4 frames. */
export function lz4Available(): boolean {
  return lz4Binding() !== null;
}

export const kCodecNone = 'none';
export const kCodecLz4 = 'lz4';
export type FrameCodec = typeof kCodecNone | typeof kCodecLz4;
export const kFrameCodecs: readonly FrameCodec[] = [kCodecNone, kCodecLz4];

/** The u32 little-endian uncompressed size in front of every lz4 frame's block. */
export const kLz4SizePrefixBytes = 4;
/**
 * The largest uncompressed size of a compressed frame a reader accepts (the writer's frames are
 * kFrameBufferBytes at most, src/persist/encode.ts). A reader allocates this much at most for a
 * frame, so a damaged header cannot make it allocate gigabytes.
 */
export const kFrameRawMaxBytes = 16 * 1024 * 1024;

/** A frame is stored compressed only if that saves at least this fraction of its bytes. */
export const kFrameMinSavedFraction = 1 / 8;

/**
 * The stored bytes of `raw` under lz4, or null when they would not save kFrameMinSavedFraction
 * (or lz4 is not available on this platform: the frame is then stored raw).
 */
export function compressFrame(raw: Buffer): Buffer | null {
  const binding = lz4Binding();
  if (binding === null) return null;
  const stored = binding.compressSync(raw);
  return stored.length <= raw.length * (1 - kFrameMinSavedFraction) ? stored : null;
}

/** Decompress one lz4 frame's stored bytes, which must hold exactly `rawBytes` bytes. */
export function decompressFrame(stored: Buffer, rawBytes: number, file: string): Buffer {
  if (rawBytes > kFrameRawMaxBytes) throw new FormatError(file, 'frame size', `a compressed frame of ${rawBytes} bytes exceeds ${kFrameRawMaxBytes}`);
  if (stored.length < kLz4SizePrefixBytes || stored.readUInt32LE(0) !== rawBytes) {
    throw new FormatError(file, 'frame size', `the lz4 block does not say ${rawBytes} uncompressed bytes`);
  }
  const binding = lz4Binding();
  if (binding === null) throw new FormatError(file, 'frame codec', 'the file holds lz4 frames and lz4-napi has no binary for this platform');
  let raw: Buffer;
  try {
    raw = binding.uncompressSync(stored);
  } catch (error) {
    throw new FormatError(file, 'frame decompression', (error as Error).message);
  }
  if (raw.length !== rawBytes) throw new FormatError(file, 'frame size', `decompressed to ${raw.length} bytes, the frame header says ${rawBytes}`);
  return raw;
}
