/**
 * Encoding frozen segments into data files (runs in worker threads).
 *
 * A data file is one MessagePack stream whose layout is src/persist/schema.ts (and
 * docs/format.md): a file header, then per segment one block (its header map, then its
 * records), then the trailer. This module writes the version `kFormatVersion` names (3), through
 * that version's writer schema. Header maps are packed with msgpackr; records are framed in bulk
 * straight from the shared segment buffers into a reused frame buffer (per-record pack() is an
 * order of magnitude too slow), and each frame is stored compressed with LZ4
 * (src/persist/compress.ts) when that saves enough, raw otherwise; big values are written to the
 * file directly from their blob as raw frames of their own, never copied. A worker's memory is
 * its output buffer and its frame buffer (plus one LZ4 output per frame), whatever the data.
 *
 * Guarantees: a segment is encoded by exactly one task of a save: a task first claims it
 * (compare-exchange pending -> claimed in the frozen generation's status array) and skips it if
 * another task (a "hot" batch) got there first; it is marked done as soon as its bytes have
 * left the shared buffers. A part whose segments were all taken writes no file. Every file is
 * fsynced before the task reports success, and its crc32 covers every byte written. Every
 * encoded record's hash lies in its block and every block's record count matches its slots;
 * a block that breaks either is a failed check (SaveCheckError): the task reports it and the
 * save is not published. Each file reports its blocks, so the commit can check that the
 * save's blocks tile the hash space (src/persist/checks.ts).
 */

import { crc32 } from 'node:zlib';
import { pack } from 'msgpackr';
import { join, dirname } from 'node:path';
import type { FrozenSegmentWire } from '../table/generation.js';
import {
  kEntryHashWord,
  kMetaEntryCount,
  kMetaExpiringCount,
  kMetaHeaderWords,
  kMetaLocalDepth,
  kMetaPrefix,
  kSegmentStatusClaimed,
  kSegmentStatusDone,
  kSegmentStatusPending,
  kSlotCount,
} from '../table/layout.js';
import { entryExpiry, readRecord, record, slotOffset, type SegmentView } from '../table/segment.js';
import { viewFromWire } from '../table/wire.js';
import { writeElementHeader, type ElementKind } from '../engine/list.js';
import type { TableModel } from '../engine/model.js';
import { SaveCheckError, hashInBlock, type BlockList } from './checks.js';
import { FsFailure, FsSeam, type FaultPlan, type FsFailureInfo } from './fs-seam.js';
import { crc32Hex, type kFormatVersion, type ManifestFile } from './format.js';
import {
  frameHeaderV3,
  kMsgpackUint64,
  kRecordExpiryBytes,
  kWriterSchemaV3,
  recordLayout,
  recordTag,
  type RecordLayout,
  type WriterSchema,
} from './schema.js';
import { compressFrame, kCodecLz4, kCodecNone } from './compress.js';

/** The schema of the version this build writes (its type pins it to `kFormatVersion`). */
const kWriter: WriterSchema<typeof kFormatVersion> & { frameHeader: typeof frameHeaderV3 } = { ...kWriterSchemaV3, frameHeader: frameHeaderV3 };
/** Record type codes (src/engine/value.ts names them): only these two frame their value differently. */
const kTypeString = 0;
const kTypeList = 1;

/** Output buffer per worker: large enough that flushes are big sequential writes. */
export const kEncodeBufferBytes = 4 * 1024 * 1024;
/** Values at least this large are written straight from their blob, not copied. */
export const kDirectWriteMinBytes = 256 * 1024;
const kMsgpackHeaderMaxBytes = 5;
/**
 * Frame buffer per worker (format 3): a block's records are compressed this many bytes at a
 * time at most. A block is one segment (kHeapBytes of inline records, plus its blobs), so most
 * blocks are one frame; big blocks are split, so the buffer never grows.
 */
export const kFrameBufferBytes = 1024 * 1024;
/**
 * After a frame that lz4 did not shrink by kFrameMinSavedFraction, this many frames of the same
 * file are stored raw without trying: incompressible data then costs a sixteenth of the
 * compression time (measured at 630k keys of random base64 values: saves at format 2's time,
 * ~250-350 ms, where trying every frame would add about a fifth).
 */
const kRawFramesAfterPoorFrame = 15;
/** Copies up to this long are done byte by byte (a call to set() costs more for short runs). */
const kHandCopyMaxBytes = 64;
/** A record's tag (format 2 and 3) is one positive fixint. */
const kRecordTagBytes = 1;
/** A record's bytes beyond its key and value at most: tag, two str/bin headers, expiry. */
const kRecordFramingMaxBytes = kRecordTagBytes + 2 * kMsgpackHeaderMaxBytes + kRecordExpiryBytes;
/** Longest str a fixstr header frames (MessagePack). */
const kFixStrMaxBytes = 31;

export interface EncodePart {
  keyspace: string;
  table: string;
  part: number;
  model: TableModel;
  /** Relative to the save folder, `/`-separated. */
  relativePath: string;
  segments: FrozenSegmentWire[];
  status: Int32Array;
  statusIndexes: number[];
  /** The cut's time for expiry: records expiring at or before it are left out. */
  cutMs: number;
}

export interface EncodeTask {
  kind: 'encode';
  /** Absolute path of the temporary save folder. */
  dir: string;
  parts: EncodePart[];
  faults: FaultPlan | null;
}

export type EncodeResult =
  | { ok: true; files: EncodedFile[] }
  | { ok: false; failure: FsFailureInfo };

let output: Buffer | null = null;
let frameOutput: Buffer | null = null;

export function outputBuffer(): Buffer {
  if (output === null) output = Buffer.allocUnsafe(kEncodeBufferBytes);
  return output;
}

export function frameBuffer(): Buffer {
  if (frameOutput === null) frameOutput = Buffer.allocUnsafe(kFrameBufferBytes);
  return frameOutput;
}

class FileWriter {
  private readonly seam: FsSeam;
  private readonly fd: number;
  private readonly path: string;
  private readonly out: Buffer;
  private position = 0;
  private checksum = 0;
  sizeBytes = 0;

  constructor(seam: FsSeam, path: string, out: Buffer) {
    this.out = out;
    this.seam = seam;
    this.path = path;
    this.fd = seam.open(path, 'wx');
  }

  private flush(): void {
    if (this.position === 0) return;
    this.checksum = crc32(this.out.subarray(0, this.position), this.checksum);
    this.seam.write(this.fd, this.out, 0, this.position, this.path);
    this.sizeBytes += this.position;
    this.position = 0;
  }

  /** Make room for `bytes` in the output buffer (bytes <= buffer size). */
  private reserve(bytes: number): void {
    if (this.position + bytes > this.out.length) this.flush();
  }

  /** Write `bytes` to the file now, without copying them into the output buffer. */
  direct(bytes: Uint8Array, offset: number, length: number): void {
    this.flush();
    const view = bytes.subarray(offset, offset + length);
    this.checksum = crc32(view, this.checksum);
    this.seam.write(this.fd, bytes, offset, length, this.path);
    this.sizeBytes += length;
  }

  raw(bytes: Uint8Array, offset: number, length: number): void {
    if (length >= kDirectWriteMinBytes) {
      this.direct(bytes, offset, length);
      return;
    }
    this.reserve(length);
    this.out.set(bytes.subarray(offset, offset + length), this.position);
    this.position += length;
  }

  element(kind: ElementKind, bytes: Uint8Array, offset: number, length: number): void {
    this.reserve(kMsgpackHeaderMaxBytes);
    this.position = writeElementHeader(this.out, this.position, kind, length);
    this.raw(bytes, offset, length);
  }

  byte(value: number): void {
    this.reserve(1);
    this.out[this.position++] = value;
  }

  /** A MessagePack uint 64 (ms times fit 53 bits, so the high word is exact). */
  uint64(value: number): void {
    this.reserve(kRecordExpiryBytes);
    this.position = writeUint64(this.out, this.position, value);
  }

  packed(value: unknown): void {
    const bytes = pack(value);
    this.raw(bytes, 0, bytes.length);
  }

  finish(): { sizeBytes: number; crc32: number } {
    this.flush();
    this.seam.fsync(this.fd, this.path);
    this.seam.close(this.fd, this.path);
    return { sizeBytes: this.sizeBytes, crc32: this.checksum >>> 0 };
  }

  abandon(): void {
    try {
      this.seam.close(this.fd, this.path);
    } catch {
      // The task is already failing with the first error; a close error would hide it.
    }
  }
}

function writeUint64(out: Buffer, at: number, value: number): number {
  out[at] = kMsgpackUint64;
  out.writeUInt32BE(Math.floor(value / 0x1_0000_0000), at + 1);
  out.writeUInt32BE(value % 0x1_0000_0000, at + 5);
  return at + kRecordExpiryBytes;
}

/** Copy bytes into `out` at `at`; returns the end. Short runs by hand (cheaper than a call). */
function copyInto(out: Buffer, at: number, bytes: Uint8Array, offset: number, length: number): number {
  if (length <= kHandCopyMaxBytes) {
    for (let i = 0; i < length; i++) out[at++] = bytes[offset + i] as number;
    return at;
  }
  out.set(bytes.subarray(offset, offset + length), at);
  return at + length;
}

/**
 * Frames one block's records (format 3) into a frame buffer and stores each full frame, at the
 * end of the block or when the next record would not fit, compressed when that saves enough,
 * raw otherwise. A record too big for a frame, or with a value written straight from its blob
 * (kDirectWriteMinBytes), is a raw frame of its own, written through to the file as format 2
 * wrote it: big values stay uncompressed and are never copied, and a worker's memory stays its
 * two buffers, whatever the records.
 */
class FrameWriter {
  private readonly file: FileWriter;
  /** The frame buffer: records are framed straight into it (callers check they fit). */
  readonly out: Buffer;
  position = 0;
  private records = 0;
  /** Frames still to store raw without trying lz4 (after one that lz4 did not shrink enough). */
  private rawFramesLeft = 0;

  constructor(file: FileWriter, out: Buffer) {
    this.file = file;
    this.out = out;
  }

  /** Whether a record of at most `boundBytes` (its value `valueBytes`) is framed here. */
  fits(boundBytes: number, valueBytes: number): boolean {
    return valueBytes < kDirectWriteMinBytes && boundBytes <= this.out.length;
  }

  /** Make room for a record of at most `boundBytes`, to be framed into `out` at `position`. */
  startRecord(boundBytes: number): void {
    if (this.position + boundBytes > this.out.length) this.endFrame();
    this.records++;
  }

  /** Start a raw frame of one record of exactly `framedBytes`, written through to the file. */
  startOwnFrame(framedBytes: number): void {
    this.endFrame();
    this.file.packed(kWriter.frameHeader({ codec: kCodecNone, records: 1, rawBytes: framedBytes, storedBytes: framedBytes }));
  }

  /** Store the records framed so far as one frame. */
  endFrame(): void {
    if (this.records === 0) return;
    const raw = this.out.subarray(0, this.position);
    let stored: Buffer | null = null;
    if (this.rawFramesLeft > 0) {
      this.rawFramesLeft--;
    } else {
      stored = compressFrame(raw);
      if (stored === null) this.rawFramesLeft = kRawFramesAfterPoorFrame;
    }
    const codec = stored === null ? kCodecNone : kCodecLz4;
    const bytes = stored ?? raw;
    this.file.packed(kWriter.frameHeader({ codec, records: this.records, rawBytes: raw.length, storedBytes: bytes.length }));
    // A raw frame goes to the file from the frame buffer: no second copy of incompressible data.
    if (stored === null) this.file.direct(raw, 0, raw.length);
    else this.file.raw(stored, 0, stored.length);
    this.records = 0;
    this.position = 0;
  }
}

/** Bytes of a str or bin header for `length` bytes (what writeElementHeader writes). */
function elementHeaderBytes(kind: ElementKind, length: number): number {
  if (kind === 'str' && length <= kFixStrMaxBytes) return 1;
  return length <= 0xff ? 2 : length <= 0xffff ? 3 : 5;
}

/**
 * Frame the records in slots [from, to) of a frozen segment; returns how many were written.
 * Records whose expiry time is at or before the cut (`cutMs`) are not part of the cut: they
 * are skipped and counted in `skipped.expired`. Each record's stored hash must lie in the
 * segment's block: a record outside it would load into the wrong segment (checked here
 * because it costs one shift per record).
 */
function encodeSlots(frames: FrameWriter, view: SegmentView, from: number, to: number, scope: SlotScope, skipped: { expired: number }): number {
  const meta = view.meta;
  const kinds = scope.kinds;
  let written = 0;
  for (let i = from; i < to; i++) {
    const slot = meta[kMetaHeaderWords + i] as number;
    if (slot === 0) continue;
    const offset = slotOffset(slot);
    if (!hashInBlock(view.heap32[(offset >>> 2) + kEntryHashWord] as number, scope.depth, scope.prefix)) {
      throw new SaveCheckError('records in their block', scope.file, `slot ${i} of block ${scope.depth}/${scope.prefix} holds a record hashed outside it`);
    }
    readRecord(view, offset);
    const expiresAtMs = record.expiresAtMs;
    if (expiresAtMs !== 0 && expiresAtMs <= scope.cutMs) {
      skipped.expired++;
      continue;
    }
    const type = record.type;
    const keyLength = record.keyLength;
    const valueLength = record.valueLength;
    const valueKind = type === kTypeString ? kinds.value : 'binstr';
    const boundBytes = keyLength + valueLength + kRecordFramingMaxBytes;
    if (frames.fits(boundBytes, valueLength)) {
      frames.startRecord(boundBytes);
      frameRecord(frames, kinds.key, valueKind);
    } else {
      frames.startOwnFrame(kRecordTagBytes + elementHeaderBytes(kinds.key, keyLength) + keyLength +
        (type === kTypeList ? 0 : elementHeaderBytes(valueKind, valueLength)) + valueLength + (expiresAtMs !== 0 ? kRecordExpiryBytes : 0));
      writeRecordThrough(scope.writer, kinds.key, valueKind);
    }
    written++;
  }
  return written;
}

/** The record `readRecord` just read, framed into the frame buffer (startRecord made room). */
function frameRecord(frames: FrameWriter, keyKind: ElementKind, valueKind: ElementKind): void {
  const out = frames.out;
  const bytes = record.bytes;
  const expiresAtMs = record.expiresAtMs;
  let at = frames.position;
  out[at++] = recordTag(record.type, expiresAtMs);
  at = writeElementHeader(out, at, keyKind, record.keyLength);
  at = copyInto(out, at, bytes, record.keyOffset, record.keyLength);
  if (record.type !== kTypeList) at = writeElementHeader(out, at, valueKind, record.valueLength);
  at = copyInto(out, at, bytes, record.valueOffset, record.valueLength);
  if (expiresAtMs !== 0) at = writeUint64(out, at, expiresAtMs);
  frames.position = at;
}

/** The record `readRecord` just read, written through to the file (a raw frame of its own). */
function writeRecordThrough(writer: FileWriter, keyKind: ElementKind, valueKind: ElementKind): void {
  const bytes = record.bytes;
  writer.byte(recordTag(record.type, record.expiresAtMs));
  writer.element(keyKind, bytes, record.keyOffset, record.keyLength);
  if (record.type === kTypeList) writer.raw(bytes, record.valueOffset, record.valueLength);
  else writer.element(valueKind, bytes, record.valueOffset, record.valueLength);
  if (record.expiresAtMs !== 0) writer.uint64(record.expiresAtMs);
}

/** What encodeSlots needs to know about the block it frames. */
interface SlotScope {
  kinds: RecordLayout;
  /** The file, for records written through it (raw frames of their own). */
  writer: FileWriter;
  depth: number;
  prefix: number;
  cutMs: number;
  file: string;
}

/** Records of a frozen segment that are part of the cut (not expired at `cutMs`). */
function liveRecords(view: SegmentView, cutMs: number): number {
  const meta = view.meta;
  let count = meta[kMetaEntryCount] as number;
  if ((meta[kMetaExpiringCount] as number) === 0) return count;
  for (let i = 0; i < kSlotCount; i++) {
    const slot = meta[kMetaHeaderWords + i] as number;
    if (slot === 0) continue;
    const expiresAtMs = entryExpiry(view, slotOffset(slot));
    if (expiresAtMs !== 0 && expiresAtMs <= cutMs) count--;
  }
  return count;
}

/** The file a part produced, with its blocks for the commit's coverage check. */
export type EncodedFile = ManifestFile & {
  segments: number;
  blocks: BlockList;
  /** Records of the encoded segments left out because they had expired at the cut. */
  expired: number;
};

/**
 * Encode one part, one step at a time. The generator yields (the frozen index of the segment
 * it is at) before each claim and, when
 * `slotsPerStep` is below kSlotCount, inside a segment: production code runs it straight
 * through (`encodePart`); the save-protocol simulation (test/sim) stops it at every yield to
 * run main-thread writes, cuts and other workers' steps in between, which is every point at
 * which another thread can act on the shared buffers this worker reads.
 */
export interface StepOptions {
  /** Slots encoded between two yields inside a segment (kSlotCount: no yield inside). */
  slotsPerStep: number;
  /** The output buffer (a thread has one; the simulation gives each simulated worker its own). */
  output: Buffer;
  /**
   * The frame buffer (kFrameBufferBytes). Default: the thread's own when `output` is the
   * thread's output buffer, else a new one for this part (simulated workers interleave, so
   * they must not share one).
   */
  frames?: Buffer;
}

export function* encodePartSteps(
  seam: FsSeam,
  dir: string,
  part: EncodePart,
  options: StepOptions = { slotsPerStep: kSlotCount, output: outputBuffer() },
): Generator<number, EncodedFile | null, void> {
  const kinds = recordLayout(part.model);
  let writer: FileWriter | null = null;
  let frames: FrameWriter | null = null;
  let records = 0;
  const skipped = { expired: 0 };
  const blocks: BlockList = [];
  try {
    for (let s = 0; s < part.segments.length; s++) {
      const index = part.statusIndexes[s] as number;
      yield index;
      // Claim: another task (a hot batch) may have this segment already; it encodes it, not us.
      if (Atomics.compareExchange(part.status, index, kSegmentStatusPending, kSegmentStatusClaimed) !== kSegmentStatusPending) continue;
      if (writer === null) {
        writer = openPartFile(seam, dir, part, options.output);
        frames = new FrameWriter(writer, options.frames ?? (options.output === output ? frameBuffer() : Buffer.allocUnsafe(kFrameBufferBytes)));
      }
      const view = viewFromWire(part.segments[s] as FrozenSegmentWire);
      const scope: SlotScope = { kinds, writer, depth: view.meta[kMetaLocalDepth] as number, prefix: view.meta[kMetaPrefix] as number, cutMs: part.cutMs, file: part.relativePath };
      records += yield* encodeBlockSteps(writer, frames as FrameWriter, view, scope, index, options.slotsPerStep, skipped);
      blocks.push(scope.depth, scope.prefix);
      // The segment's bytes are in our buffers or on disk: the main thread may write to it now.
      Atomics.store(part.status, index, kSegmentStatusDone);
    }
    if (writer === null) return null;
    writer.packed(kWriter.trailer({ blocks: blocks.length >>> 1, records }));
  } catch (error) {
    writer?.abandon();
    throw error;
  }
  const { sizeBytes, crc32: checksum } = writer.finish();
  return { path: part.relativePath, sizeBytes, records, crc32: crc32Hex(checksum), segments: blocks.length >>> 1, blocks, expired: skipped.expired };
}

/** One block: its header, then its records in frames; returns the records written. */
function* encodeBlockSteps(
  writer: FileWriter,
  frames: FrameWriter,
  view: SegmentView,
  scope: SlotScope,
  index: number,
  slotsPerStep: number,
  skipped: { expired: number },
): Generator<number, number, void> {
  const { depth, prefix } = scope;
  const entries = view.meta[kMetaEntryCount] as number;
  const count = liveRecords(view, scope.cutMs);
  const expiredBefore = skipped.expired;
  writer.packed(kWriter.blockHeader({ depth, prefix, records: count }));
  let written = 0;
  for (let from = 0; from < kSlotCount; from += slotsPerStep) {
    written += encodeSlots(frames, view, from, Math.min(kSlotCount, from + slotsPerStep), scope, skipped);
    if (from + slotsPerStep < kSlotCount) yield index;
  }
  frames.endFrame();
  if (written !== count || written + skipped.expired - expiredBefore !== entries) {
    throw new SaveCheckError('block record count', scope.file, `block ${depth}/${prefix} says ${count} records (${entries} entries), its slots hold ${written} (+${skipped.expired - expiredBefore} expired)`);
  }
  return written;
}

function openPartFile(seam: FsSeam, dir: string, part: EncodePart, output: Buffer): FileWriter {
  const path = join(dir, ...part.relativePath.split('/'));
  seam.mkdir(dirname(path));
  const writer = new FileWriter(seam, path, output);
  writer.packed(kWriter.fileHeader({ keyspace: part.keyspace, table: part.table, part: part.part, model: part.model }));
  return writer;
}

function encodePart(seam: FsSeam, dir: string, part: EncodePart): EncodedFile | null {
  const steps = encodePartSteps(seam, dir, part);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

/** What a failed encode reports: file-system failures and failed checks, named. */
export function encodeFailure(error: unknown): FsFailureInfo | null {
  if (error instanceof FsFailure) return error.info;
  if (error instanceof SaveCheckError) return error.info;
  return null;
}

export function encodeTask(task: EncodeTask): EncodeResult {
  const seam = new FsSeam(task.faults);
  const files: EncodedFile[] = [];
  try {
    for (const part of task.parts) {
      const file = encodePart(seam, task.dir, part);
      if (file !== null) files.push(file);
    }
    return { ok: true, files };
  } catch (error) {
    const failure = encodeFailure(error);
    if (failure !== null) return { ok: false, failure };
    throw error;
  }
}
