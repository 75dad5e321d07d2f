/**
 * Encoding frozen segments into data files (runs in worker threads).
 *
 * A data file is one MessagePack stream (docs/format.md):
 *   file header map   {format, version, keyspace, table, part, key, value}
 *   per segment:      block header map {depth, prefix, records}, then per record the key
 *                     (str or bin) and the value (str or bin; for list tables the value's own
 *                     MessagePack array, embedded as is)
 *   trailer map       {end: true, blocks, records}
 * Header maps are packed with msgpackr; records are framed in bulk straight from the shared
 * segment buffers into a reused output buffer (per-record pack() is an order of magnitude too
 * slow), and big values are written to the file directly from their blob, never copied.
 *
 * Guarantees: a segment is encoded by exactly one task of a save: a task first claims it
 * (compare-exchange pending -> claimed in the frozen generation's status array) and skips it if
 * another task (a "hot" batch) got there first; it is marked done as soon as its bytes have
 * left the shared buffers. A part whose segments were all taken writes no file. Every file is
 * fsynced before the task reports success, and its crc32 covers every byte written.
 */

import { crc32 } from 'node:zlib';
import { pack } from 'msgpackr';
import { join, dirname } from 'node:path';
import type { FrozenSegmentWire } from '../table/generation.js';
import {
  kMetaEntryCount,
  kMetaHeaderWords,
  kMetaLocalDepth,
  kMetaPrefix,
  kSegmentStatusClaimed,
  kSegmentStatusDone,
  kSegmentStatusPending,
  kSlotCount,
} from '../table/layout.js';
import { readRecord, record, slotOffset } from '../table/segment.js';
import { viewFromWire } from '../table/wire.js';
import { writeElementHeader, type ElementKind } from '../engine/list.js';
import { isListModel, type TableModel } from '../engine/model.js';
import { FsFailure, FsSeam, type FaultPlan, type FsFailureInfo } from './fs-seam.js';
import { crc32Hex, kDataFileFormat, kFormatVersion, type ManifestFile } from './format.js';
import { assert } from '../util/assert.js';

/** Output buffer per worker: large enough that flushes are big sequential writes. */
export const kEncodeBufferBytes = 4 * 1024 * 1024;
/** Values at least this large are written straight from their blob, not copied. */
export const kDirectWriteMinBytes = 256 * 1024;
const kMsgpackHeaderMaxBytes = 5;

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
}

export interface EncodeTask {
  kind: 'encode';
  /** Absolute path of the temporary save folder. */
  dir: string;
  parts: EncodePart[];
  faults: FaultPlan | null;
}

export type EncodeResult =
  | { ok: true; files: Array<ManifestFile & { segments: number }> }
  | { ok: false; failure: FsFailureInfo };

let output: Buffer | null = null;

function outputBuffer(): Buffer {
  if (output === null) output = Buffer.allocUnsafe(kEncodeBufferBytes);
  return output;
}

class FileWriter {
  private readonly seam: FsSeam;
  private readonly fd: number;
  private readonly path: string;
  private readonly out = outputBuffer();
  private position = 0;
  private checksum = 0;
  sizeBytes = 0;

  constructor(seam: FsSeam, path: string) {
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

  raw(bytes: Uint8Array, offset: number, length: number): void {
    if (length >= kDirectWriteMinBytes) {
      this.flush();
      const view = bytes.subarray(offset, offset + length);
      this.checksum = crc32(view, this.checksum);
      this.seam.write(this.fd, bytes, offset, length, this.path);
      this.sizeBytes += length;
      return;
    }
    this.reserve(length);
    this.out.set(bytes.subarray(offset, offset + length), this.position);
    this.position += length;
  }

  element(kind: ElementKind, bytes: Uint8Array, offset: number, length: number): void {
    this.reserve(kMsgpackHeaderMaxBytes);
    this.position = writeElementHeader(this.out, this.position, kind, length);
    if (length <= 64) {
      this.reserve(length);
      const out = this.out;
      let at = this.position;
      for (let i = 0; i < length; i++) out[at++] = bytes[offset + i] as number;
      this.position = at;
    } else {
      this.raw(bytes, offset, length);
    }
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

function encodePart(seam: FsSeam, dir: string, part: EncodePart): (ManifestFile & { segments: number }) | null {
  const keyKind: ElementKind = part.model.key;
  const list = isListModel(part.model);
  const valueKind: ElementKind = part.model.value === 'str' ? 'str' : 'binstr';
  let writer: FileWriter | null = null;
  let records = 0;
  let blocks = 0;
  try {
    for (let s = 0; s < part.segments.length; s++) {
      const index = part.statusIndexes[s] as number;
      if (Atomics.compareExchange(part.status, index, kSegmentStatusPending, kSegmentStatusClaimed) !== kSegmentStatusPending) continue;
      if (writer === null) {
        const path = join(dir, ...part.relativePath.split('/'));
        seam.mkdir(dirname(path));
        writer = new FileWriter(seam, path);
        writer.packed({
          format: kDataFileFormat,
          version: kFormatVersion,
          keyspace: part.keyspace,
          table: part.table,
          part: part.part,
          key: part.model.key,
          value: part.model.value,
        });
      }
      const view = viewFromWire(part.segments[s] as FrozenSegmentWire);
      const meta = view.meta;
      const count = meta[kMetaEntryCount] as number;
      writer.packed({ depth: meta[kMetaLocalDepth], prefix: meta[kMetaPrefix], records: count });
      let written = 0;
      for (let i = 0; i < kSlotCount; i++) {
        const slot = meta[kMetaHeaderWords + i] as number;
        if (slot === 0) continue;
        readRecord(view, slotOffset(slot));
        const bytes = record.bytes;
        const valueOffset = record.valueOffset;
        const valueLength = record.valueLength;
        writer.element(keyKind, bytes, record.keyOffset, record.keyLength);
        if (list) writer.raw(bytes, valueOffset, valueLength);
        else writer.element(valueKind, bytes, valueOffset, valueLength);
        written++;
      }
      assert(written === count, `segment entry count ${count} disagrees with its slots (${written})`);
      records += written;
      blocks++;
      // The segment's bytes are in our buffer or on disk: the main thread may write to it now.
      Atomics.store(part.status, index, kSegmentStatusDone);
    }
    if (writer === null) return null;
    writer.packed({ end: true, blocks, records });
  } catch (error) {
    writer?.abandon();
    throw error;
  }
  const { sizeBytes, crc32: checksum } = writer.finish();
  return { path: part.relativePath, sizeBytes, records, crc32: crc32Hex(checksum), segments: blocks };
}

export function encodeTask(task: EncodeTask): EncodeResult {
  const seam = new FsSeam(task.faults);
  const files: Array<ManifestFile & { segments: number }> = [];
  try {
    for (const part of task.parts) {
      const file = encodePart(seam, task.dir, part);
      if (file !== null) files.push(file);
    }
    return { ok: true, files };
  } catch (error) {
    if (error instanceof FsFailure) return { ok: false, failure: error.info };
    throw error;
  }
}
