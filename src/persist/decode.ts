/**
 * Reading data files back (runs in worker threads): verify a file against its manifest entry,
 * and optionally build table segments straight from it into new SharedArrayBuffers that the
 * main thread adopts without copying.
 *
 * Guarantees:
 * - Nothing is built from a file whose size or crc32 disagrees with the manifest; every
 *   structural problem (bad header, a record in the wrong block, a duplicate key, counts that
 *   disagree, trailing bytes) is a FormatError naming the file and the check, whether building
 *   or only verifying. Every result lists the file's blocks, so callers can check that a
 *   table's files cover the hash space (src/persist/checks.ts).
 * - Reads never run past the file's bytes, whatever they contain.
 * - Format 3's frames are checked as they are read: a frame's header against what is left of
 *   its block and file, an lz4 frame's decompressed size against its header (never more than
 *   kFrameRawMaxBytes is asked of the codec), and its records against its end; every record
 *   then passes the same checks as in formats 1 and 2. Only one decompressed frame is alive at
 *   a time (segments copy what they keep).
 * - A file is decoded by the decoder of the version its header declares (one per entry of
 *   kReadableFormatVersions); any other version is refused naming the file and the versions
 *   this build reads. What a header, block or record is comes from src/persist/schema.ts.
 */

import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { Unpackr } from 'msgpackr';
import { hashBytes } from '../table/hash.js';
import { kHeapBytes, kMetaBytes, entryHeapBytes } from '../table/layout.js';
import {
  appendRecord,
  findSlot,
  hasRoom,
  initSegment,
  insertSlot,
  rebuildInto,
  type SegmentView,
} from '../table/segment.js';
import { readArrayHeader, readElementHeader } from '../engine/list.js';
import type { TableModel } from '../engine/model.js';
import { FsFailure, FsSeam, type FaultPlan, type FsFailureInfo } from './fs-seam.js';
import { FormatError, checkReadableVersion, crc32Hex, type ManifestFile, type ReadableFormatVersion } from './format.js';
import {
  checkFileHeaderV1,
  dataFileVersion,
  kMsgpackUint64,
  kRecordExpiryBytes,
  kRecordTagExpiryFlag,
  kRecordTagReservedMask,
  kRecordTagTypeMask,
  parseBlockOrTrailerV1,
  parseFrameHeaderV3,
  recordLayout,
  type BlockHeader,
  type RecordLayout,
} from './schema.js';
import { hashInBlock, type BlockList } from './checks.js';
import { decompressFrame, kCodecNone } from './compress.js';

export interface BuiltSegment {
  meta: SharedArrayBuffer;
  heap: SharedArrayBuffer;
  blobs: Array<[number, Uint8Array]> | null;
}

export interface DecodeTask {
  kind: 'decode';
  /** Absolute path of the save folder. */
  dir: string;
  keyspace: string;
  table: string;
  model: TableModel;
  hashSeed: number;
  file: ManifestFile;
  /** false: verify only (offline verify, restore pre-check). */
  build: boolean;
  /** Building: records whose expiry time is at or before this (ms since the epoch) are dropped. */
  nowMs?: number;
  faults: FaultPlan | null;
}

export type DecodeResult = ({ ok: true } & DecodedFile) | { ok: false; failure: FsFailureInfo };

const unpackr = new Unpackr({ mapsAsObjects: true });
/** Record type codes (src/engine/value.ts names them). */
const kTypeString = 0;
const kTypeList = 1;
const kTypeMax = 2;
/** One read buffer per worker, reused for every file (segments copy what they keep). */
const readScratch = { buffer: Buffer.alloc(0) };

/**
 * Header maps are tens of bytes: unpack them from a small window, because msgpackr scans the
 * buffer it is given ahead for strings (measured: 43 ms of a 1M-key load per worker when
 * handed the rest of the file at every block).
 */
const kHeaderWindowBytes = 4096;

function readObject(bytes: Buffer, offset: number, file: string, what: string): { value: unknown; end: number } {
  let result: { value: unknown; end: number } | null = null;
  const attempt = (window: Buffer): void => {
    unpackr.unpackMultiple(window, (value, _start, end) => {
      result = { value, end: offset + (end ?? 0) };
      return false;
    });
  };
  try {
    try {
      attempt(bytes.subarray(offset, Math.min(bytes.length, offset + kHeaderWindowBytes)));
    } catch {
      // A header larger than the window (or a truncated one): read with everything left.
      attempt(bytes.subarray(offset));
    }
  } catch (error) {
    throw new FormatError(file, what, (error as Error).message);
  }
  if (result === null) throw new FormatError(file, what, 'missing');
  return result;
}

interface Building extends SegmentView {
  metaSab: SharedArrayBuffer;
  heapSab: SharedArrayBuffer;
  depth: number;
  prefix: number;
}

function newBuilding(depth: number, prefix: number): Building {
  const metaSab = new SharedArrayBuffer(kMetaBytes);
  const heapSab = new SharedArrayBuffer(kHeapBytes);
  const view: Building = {
    meta: new Uint32Array(metaSab),
    heap8: new Uint8Array(heapSab),
    heap32: new Uint32Array(heapSab),
    heapBuffer: Buffer.from(heapSab),
    blobs: null,
    metaSab,
    heapSab,
    depth,
    prefix,
  };
  initSegment(view, depth, prefix);
  return view;
}

function covers(segment: Building, hash: number): boolean {
  return segment.depth === 0 || hash >>> (32 - segment.depth) === segment.prefix;
}

/**
 * Builds the segments of one block. A block was one segment when saved, so it normally fits one
 * segment again; if this build's segments are smaller it splits on the next hash bits.
 */
class BlockBuilder {
  readonly done: Building[] = [];
  private open: Building[];
  constructor(depth: number, prefix: number) {
    this.open = [newBuilding(depth, prefix)];
  }

  add(file: string, hash: number, bytes: Uint8Array, keyOffset: number, keyLength: number, valueOffset: number, valueLength: number, type: number, expiresAtMs: number): void {
    for (;;) {
      const target = this.open.find((segment) => covers(segment, hash));
      if (target === undefined) throw new FormatError(file, 'block layout', 'a record hashes outside its block');
      if (findSlot(target, hash, bytes, keyOffset, keyLength) >= 0) throw new FormatError(file, 'unique keys', 'a key appears twice');
      const need = entryHeapBytes(keyLength, valueLength, expiresAtMs !== 0);
      if (hasRoom(target, need)) {
        const offset = appendRecord(target, hash, bytes, keyOffset, keyLength, bytes, valueOffset, valueLength, type, expiresAtMs);
        insertSlot(target, hash, offset);
        return;
      }
      if (target.depth >= 32) throw new FormatError(file, 'block layout', 'a block cannot be split further');
      const low = newBuilding(target.depth + 1, target.prefix * 2);
      const high = newBuilding(target.depth + 1, target.prefix * 2 + 1);
      rebuildInto(target, low, high, 31 - target.depth);
      this.open = this.open.filter((segment) => segment !== target).concat([low, high]);
    }
  }

  finish(): Building[] {
    return this.open;
  }
}

/** What decoding one data file yields. */
export interface DecodedFile {
  records: number;
  sizeBytes: number;
  segments: BuiltSegment[];
  blocks: BlockList;
}

/** Decodes the rest of a data file once its header map (read at `headerEnd`) named its version. */
type FileDecoder = (task: DecodeTask, bytes: Buffer, header: Record<string, unknown>, headerEnd: number) => Omit<DecodedFile, 'sizeBytes'>;

/**
 * One decoder per readable format version. The mapped type makes a version listed in
 * kReadableFormatVersions without a decoder (or a decoder for a version not listed) a compile
 * error; a version outside the list never reaches this table (checkReadableVersion refuses it).
 */
const kDecoders: { readonly [V in ReadableFormatVersion]: FileDecoder } = {
  1: (task, bytes, header, headerEnd) => decodeBlocks(task, bytes, header, headerEnd, readRecordV1, readBodyV1),
  2: (task, bytes, header, headerEnd) => decodeBlocks(task, bytes, header, headerEnd, readRecordV2, readBodyV1),
  3: (task, bytes, header, headerEnd) => decodeBlocks(task, bytes, header, headerEnd, readRecordV2, readBodyV3),
};

function decodeFile(task: DecodeTask, seam: FsSeam): DecodedFile {
  const file = task.file.path;
  const bytes = seam.readInto(join(task.dir, ...file.split('/')), readScratch);
  return decodeBytes(task, bytes);
}

/** Decode (and with `task.build`, build segments from) the bytes of one data file. */
export function decodeBytes(task: DecodeTask, bytes: Buffer): DecodedFile {
  const file = task.file.path;
  if (bytes.length !== task.file.sizeBytes) {
    throw new FormatError(file, 'size', `expected ${task.file.sizeBytes} bytes, found ${bytes.length}`);
  }
  const actual = crc32Hex(crc32(bytes));
  if (actual !== task.file.crc32) throw new FormatError(file, 'checksum', `expected ${task.file.crc32}, computed ${actual}`);
  const header = readObject(bytes, 0, file, 'file header');
  const version = checkReadableVersion(dataFileVersion(header.value, file), file, 'data file');
  const decoded = kDecoders[version](task, bytes, header.value as Record<string, unknown>, header.end);
  if (decoded.records !== task.file.records) throw new FormatError(file, 'record count', `manifest says ${task.file.records}, file has ${decoded.records}`);
  return { ...decoded, sizeBytes: bytes.length };
}

/** Where a record reader found a record's parts (one per thread; read before the next record). */
const framed = { keyOffset: 0, keyLength: 0, valueOffset: 0, valueLength: 0, type: 0, expiresAtMs: 0, end: 0 };
type RecordReader = (bytes: Buffer, at: number, end: number, layout: RecordLayout, file: string) => void;

/** Format 1: key, then value (a list table's value is its MessagePack array); no type, no expiry. */
function readRecordV1(bytes: Buffer, at: number, end: number, layout: RecordLayout, file: string): void {
  const [keyOffset, keyLength] = readElementOrFail(bytes, at, end, file, 'key');
  framed.keyOffset = keyOffset;
  framed.keyLength = keyLength;
  at = keyOffset + keyLength;
  if (layout.list) {
    framed.valueOffset = at;
    framed.end = skipList(bytes, at, end, file);
    framed.valueLength = framed.end - at;
  } else {
    [framed.valueOffset, framed.valueLength] = readElementOrFail(bytes, at, end, file, 'value');
    framed.end = framed.valueOffset + framed.valueLength;
  }
  framed.type = layout.list ? kTypeList : kTypeString;
  framed.expiresAtMs = 0;
}

/** Format 2: tag, key, value framed by its type, then the expiry time if the tag says so. */
function readRecordV2(bytes: Buffer, at: number, end: number, layout: RecordLayout, file: string): void {
  const tag = bytes[at] as number;
  if ((tag & kRecordTagReservedMask) !== 0 || (tag & kRecordTagTypeMask) > kTypeMax) throw new FormatError(file, 'record tag', `bad tag 0x${tag.toString(16)}`);
  const type = tag & kRecordTagTypeMask;
  const [keyOffset, keyLength] = readElementOrFail(bytes, at + 1, end, file, 'key');
  framed.keyOffset = keyOffset;
  framed.keyLength = keyLength;
  at = keyOffset + keyLength;
  if (type === kTypeList) {
    framed.valueOffset = at;
    at = skipList(bytes, at, end, file);
    framed.valueLength = at - framed.valueOffset;
  } else {
    [framed.valueOffset, framed.valueLength] = readElementOrFail(bytes, at, end, file, 'value');
    at = framed.valueOffset + framed.valueLength;
  }
  framed.type = type;
  framed.expiresAtMs = 0;
  if ((tag & kRecordTagExpiryFlag) !== 0) {
    if (at + kRecordExpiryBytes > end || bytes[at] !== kMsgpackUint64) throw new FormatError(file, 'record expiry', 'missing or not a uint 64');
    const expiresAtMs = bytes.readUInt32BE(at + 1) * 0x1_0000_0000 + bytes.readUInt32BE(at + 5);
    if (expiresAtMs === 0 || expiresAtMs > Number.MAX_SAFE_INTEGER) throw new FormatError(file, 'record expiry', `out of range`);
    framed.expiresAtMs = expiresAtMs;
    at += kRecordExpiryBytes;
  }
  framed.end = at;
}

/** Blocks of records after the header, then the trailer, then nothing (every format). */
function decodeBlocks(task: DecodeTask, bytes: Buffer, header: Record<string, unknown>, headerEnd: number, readRecord: RecordReader, readBody: BodyReader): Omit<DecodedFile, 'sizeBytes'> {
  const file = task.file.path;
  checkFileHeaderV1(header, file, task);
  const layout = recordLayout(task.model);
  let at = headerEnd;
  let records = 0;
  let blocks = 0;
  const blockList: BlockList = [];
  const built: BuiltSegment[] = [];
  for (;;) {
    const next = readObject(bytes, at, file, 'block header');
    at = next.end;
    const parsed = parseBlockOrTrailerV1(next.value, file);
    if ('trailer' in parsed) {
      if (parsed.trailer.blocks !== blocks || parsed.trailer.records !== records) {
        throw new FormatError(file, 'trailer', `says ${parsed.trailer.blocks} blocks / ${parsed.trailer.records} records, file has ${blocks} / ${records}`);
      }
      break;
    }
    const block = parsed.block;
    blockList.push(block.depth, block.prefix);
    at = decodeBlock(task, bytes, at, block, { layout, built, readRecord, readBody });
    records += block.records;
    blocks++;
  }
  if (at !== bytes.length) throw new FormatError(file, 'trailer', `${bytes.length - at} bytes after the trailer`);
  return { records, segments: built, blocks: blockList };
}

/** How the blocks of one file are read: its record framing and its block bodies. */
interface BlockReading {
  layout: RecordLayout;
  built: BuiltSegment[];
  readRecord: RecordReader;
  readBody: BodyReader;
}

/**
 * Reads the records of one block body from `at` (formats 1-2: the records; format 3: frames
 * of records) into `sink`; returns where the body ends.
 */
type BodyReader = (task: DecodeTask, bytes: Buffer, at: number, block: BlockHeader, sink: RecordSink) => number;
/** Reads `count` records from bytes [at, end) and returns where the last one ends. */
type RecordSink = (bytes: Buffer, at: number, end: number, count: number, recordsBefore: number) => number;

/** Read one block's records from `at` (building segments into `built`); returns the end. */
function decodeBlock(task: DecodeTask, bytes: Buffer, at: number, block: BlockHeader, reading: BlockReading): number {
  const builder = task.build ? new BlockBuilder(block.depth, block.prefix) : null;
  const sink: RecordSink = (source, from, end, count, before) => decodeRecords(task, source, from, end, count, before, block, builder, reading);
  at = reading.readBody(task, bytes, at, block, sink);
  if (builder !== null) {
    for (const segment of builder.finish()) {
      reading.built.push({
        meta: segment.metaSab,
        heap: segment.heapSab,
        blobs: segment.blobs === null || segment.blobs.size === 0 ? null : [...segment.blobs],
      });
    }
  }
  return at;
}

/** Formats 1 and 2: the block's records follow its header directly. */
function readBodyV1(_task: DecodeTask, bytes: Buffer, at: number, block: BlockHeader, sink: RecordSink): number {
  return sink(bytes, at, bytes.length, block.records, 0);
}

/**
 * Format 3: frames until the block's records are read. Each frame's records are read from the
 * file's bytes (codec `none`) or from the frame decompressed (`lz4`), and must end exactly at
 * the frame's end: a frame holds whole records, exactly `records` of them.
 */
function readBodyV3(task: DecodeTask, bytes: Buffer, at: number, block: BlockHeader, sink: RecordSink): number {
  const file = task.file.path;
  let read = 0;
  while (read < block.records) {
    if (at >= bytes.length) throw new FormatError(file, 'block records', `block ${block.depth}/${block.prefix} says ${block.records} records, the file ends after ${read}`);
    const next = readObject(bytes, at, file, 'frame header');
    const frame = parseFrameHeaderV3(next.value, file, block.records - read, bytes.length - next.end);
    at = next.end;
    const stored = bytes.subarray(at, at + frame.storedBytes);
    const raw = frame.codec === kCodecNone ? stored : decompressFrame(stored, frame.rawBytes, file);
    const end = sink(raw, 0, raw.length, frame.records, read);
    if (end !== raw.length) throw new FormatError(file, 'frame records', `a frame of block ${block.depth}/${block.prefix} holds ${raw.length - end} bytes after its ${frame.records} records`);
    read += frame.records;
    at += frame.storedBytes;
  }
  return at;
}

/** Decode `count` records from bytes [at, end) of one block (`before` records already read). */
function decodeRecords(task: DecodeTask, bytes: Buffer, at: number, end: number, count: number, before: number, block: BlockHeader, builder: BlockBuilder | null, reading: BlockReading): number {
  const file = task.file.path;
  const { depth, prefix } = block;
  const nowMs = task.nowMs ?? 0;
  for (let r = 0; r < count; r++) {
    if (at >= end) throw new FormatError(file, 'block records', `block ${depth}/${prefix} says ${block.records} records, its bytes end after ${before + r}`);
    reading.readRecord(bytes, at, end, reading.layout, file);
    at = framed.end;
    // Verifying checks every record's block too (a record outside its block loads wrongly).
    const hash = hashBytes(task.hashSeed, bytes, framed.keyOffset, framed.keyLength);
    if (builder === null || (framed.expiresAtMs !== 0 && framed.expiresAtMs <= nowMs)) {
      // Not built (verifying, or its time passed while the save sat on disk): still checked.
      if (!hashInBlock(hash, depth, prefix)) throw new FormatError(file, 'block layout', 'a record hashes outside its block');
      continue;
    }
    builder.add(file, hash, bytes, framed.keyOffset, framed.keyLength, framed.valueOffset, framed.valueLength, framed.type, framed.expiresAtMs);
  }
  return at;
}

function readElementOrFail(bytes: Uint8Array, at: number, end: number, file: string, what: string): [number, number] {
  try {
    return readElementHeader(bytes, at, end);
  } catch (error) {
    throw new FormatError(file, `${what} framing`, (error as Error).message);
  }
}

function skipList(bytes: Uint8Array, at: number, end: number, file: string): number {
  try {
    const [count, first] = readArrayHeader(bytes, at, end);
    let offset = first;
    for (let i = 0; i < count; i++) {
      const [start, length] = readElementHeader(bytes, offset, end);
      offset = start + length;
    }
    return offset;
  } catch (error) {
    throw new FormatError(file, 'list value framing', (error as Error).message);
  }
}

export function formatFailure(error: FormatError): FsFailureInfo {
  return { step: 'verify', path: error.file, code: error.code, message: error.message, injected: false };
}

export function decodeTask(task: DecodeTask): DecodeResult {
  const seam = new FsSeam(task.faults);
  try {
    return { ok: true, ...decodeFile(task, seam) };
  } catch (error) {
    if (error instanceof FsFailure) return { ok: false, failure: error.info };
    if (error instanceof FormatError) return { ok: false, failure: formatFailure(error) };
    throw error;
  }
}
