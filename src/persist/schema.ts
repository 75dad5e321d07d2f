/**
 * The schema of a data file (`.fkv`): the one place that says what a file header, a block
 * header, a record and the trailer are, per format version. The writer (encode.ts) builds them
 * here and the reader (decode.ts) checks them here; docs/format.md describes the same layout.
 *
 *   file header map   {format, version, keyspace, table, part, key, value}
 *   per block:        block header map {depth, prefix, records}, then `records` records, each
 *                     the key (str or bin) then the value (str or bin; for list tables a
 *                     MessagePack array of str or bin elements)
 *   trailer map       {end: true, blocks, records}
 *
 * Format 2 has the same maps (header `version: 2`) and frames each record as a tag, then the
 * key, the value and, when the tag says so, the expiry time:
 *   tag               positive fixint: bits 0-2 the record's type (0 string, 1 list, 2 hash),
 *                     bit 3 set when an expiry time follows; bits 4-6 zero
 *   key               str or bin, as the table's key type says
 *   value             string records: str or bin as the table's value type says; list records:
 *                     the MessagePack array itself; every other type: bin (the stored bytes)
 *   expiry            uint 64 (0xcf + 8 bytes big-endian): ms since the epoch
 *
 * Format 3 has format 2's maps and records (header `version: 3`), but a block's records are
 * stored in frames: after the block header come frame header maps {codec, records, rawBytes,
 * storedBytes}, each followed by `storedBytes` bytes that hold (raw, or compressed by `codec`,
 * src/persist/compress.ts) `rawBytes` bytes of exactly `records` format-2 records; the frames of
 * a block hold its `records` records in all, and no frame is empty.
 *
 * Guarantees:
 * - The builders return maps with format 1's keys in format 1's order, so msgpackr packs them
 *   to the bytes format-1 writers always wrote (test/persist/golden.test.ts holds a save made
 *   before this module existed).
 * - The parsers accept any MessagePack encoding of those maps and refuse every malformed one
 *   with a FormatError naming the file and the check; none of them throws anything else.
 * - `dataFileVersion` reads only what every version shares (`format` and `version`), so the
 *   reader can pick its decoder before it knows the rest of the header.
 */

import type { ElementKind } from '../engine/list.js';
import { isListModel, type TableModel } from '../engine/model.js';
import { kBlockDepthMax } from '../table/coverage.js';
import { FormatError } from './format.js';
import { kCodecNone, kFrameCodecs, type FrameCodec } from './compress.js';

/** The `format` of every data file's header, whatever its version. */
export const kDataFileFormat = 'frostkv-data';

export interface FileHeaderFields {
  keyspace: string;
  table: string;
  part: number;
  model: TableModel;
}

export interface BlockHeader {
  /** Local depth: the block holds the keys whose hash starts with the `depth` bits of `prefix`. */
  depth: number;
  prefix: number;
  records: number;
}

export interface Trailer {
  blocks: number;
  records: number;
}

/** How a table's records are framed: the key's and value's MessagePack kinds. */
export interface RecordLayout {
  key: ElementKind;
  /** The value's kind, or for list tables the kind of each element of its array. */
  value: ElementKind;
  /** List values are MessagePack arrays (stored in the table exactly as they are framed). */
  list: boolean;
}

export function recordLayout(model: TableModel): RecordLayout {
  const list = isListModel(model);
  return { key: model.key, value: model.value === 'str' || model.value === 'list<str>' ? 'str' : 'binstr', list };
}

// ---- format 1: building (the writer) ----

/** The file header map; key order is part of format 1's bytes. */
export function fileHeaderV1(fields: FileHeaderFields): Record<string, unknown> {
  return {
    format: kDataFileFormat,
    version: 1,
    keyspace: fields.keyspace,
    table: fields.table,
    part: fields.part,
    key: fields.model.key,
    value: fields.model.value,
  };
}

export function blockHeaderV1(block: BlockHeader): Record<string, unknown> {
  return { depth: block.depth, prefix: block.prefix, records: block.records };
}

export function trailerV1(trailer: Trailer): Record<string, unknown> {
  return { end: true, blocks: trailer.blocks, records: trailer.records };
}

/** What the writer needs from a version's schema. */
export interface WriterSchema<V extends number = number> {
  version: V;
  fileHeader(fields: FileHeaderFields): Record<string, unknown>;
  blockHeader(block: BlockHeader): Record<string, unknown>;
  trailer(trailer: Trailer): Record<string, unknown>;
}

export const kWriterSchemaV1: WriterSchema<1> = { version: 1, fileHeader: fileHeaderV1, blockHeader: blockHeaderV1, trailer: trailerV1 };

// ---- format 2: records carry a type and an optional expiry time ----

export const kRecordTagTypeMask = 0x07;
export const kRecordTagExpiryFlag = 0x08;
/** Bits of a format-2 tag that must be zero (a positive fixint has bit 7 clear). */
export const kRecordTagReservedMask = 0xf0;
/** MessagePack's uint 64 marker, which frames a format-2 expiry time. */
export const kMsgpackUint64 = 0xcf;
export const kRecordExpiryBytes = 9;

export function recordTag(type: number, expiresAtMs: number): number {
  return (type & kRecordTagTypeMask) | (expiresAtMs !== 0 ? kRecordTagExpiryFlag : 0);
}

export function fileHeaderV2(fields: FileHeaderFields): Record<string, unknown> {
  return { ...fileHeaderV1(fields), version: 2 };
}

export const kWriterSchemaV2: WriterSchema<2> = { version: 2, fileHeader: fileHeaderV2, blockHeader: blockHeaderV1, trailer: trailerV1 };

// ---- format 3: a block's records are stored in frames, each raw or compressed ----

export interface FrameHeader {
  codec: FrameCodec;
  /** Records in the frame (at least 1). */
  records: number;
  /** Bytes of the frame's records once decompressed. */
  rawBytes: number;
  /** Bytes that follow the frame header (equal to rawBytes for codec `none`). */
  storedBytes: number;
}

export function fileHeaderV3(fields: FileHeaderFields): Record<string, unknown> {
  return { ...fileHeaderV1(fields), version: 3 };
}

export function frameHeaderV3(frame: FrameHeader): Record<string, unknown> {
  return { codec: frame.codec, records: frame.records, rawBytes: frame.rawBytes, storedBytes: frame.storedBytes };
}

export const kWriterSchemaV3: WriterSchema<3> = { version: 3, fileHeader: fileHeaderV3, blockHeader: blockHeaderV1, trailer: trailerV1 };

// ---- reading ----

export function isMap(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** The version a data file's header declares (checked for being a frostkv data file only). */
export function dataFileVersion(header: unknown, file: string): number {
  if (!isMap(header) || header.format !== kDataFileFormat) throw new FormatError(file, 'file header', 'not a frostkv data file');
  const version = header.version;
  if (typeof version !== 'number' || !Number.isSafeInteger(version)) throw new FormatError(file, 'file header', `bad version ${String(version)}`);
  return version;
}

/** Check a format-1 or format-2 file header against the table the manifest says the file belongs to. */
export function checkFileHeaderV1(header: Record<string, unknown>, file: string, expected: Omit<FileHeaderFields, 'part'>): void {
  if (header.keyspace !== expected.keyspace || header.table !== expected.table) {
    throw new FormatError(file, 'file header', `belongs to ${String(header.keyspace)}:${String(header.table)}, not ${expected.keyspace}:${expected.table}`);
  }
  if (header.key !== expected.model.key || header.value !== expected.model.value) throw new FormatError(file, 'file header', 'model differs from the manifest');
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** A format-1 map after the file header: a block header, or the trailer (`end: true`). */
export function parseBlockOrTrailerV1(value: unknown, file: string): { block: BlockHeader } | { trailer: Trailer } {
  if (!isMap(value)) throw new FormatError(file, 'block header', 'not a map');
  if (value.end === true) {
    if (!isCount(value.blocks) || !isCount(value.records)) throw new FormatError(file, 'trailer', 'bad block or record count');
    return { trailer: { blocks: value.blocks, records: value.records } };
  }
  const { depth, prefix, records } = value;
  if (
    !isCount(depth) || depth > kBlockDepthMax ||
    !isCount(prefix) || prefix >= 2 ** depth ||
    !isCount(records)
  ) {
    throw new FormatError(file, 'block header', 'bad depth, prefix or record count');
  }
  return { block: { depth, prefix, records } };
}

/**
 * A format-3 frame header, checked against what is left of its block (`recordsLeft`) and of
 * the file (`bytesLeft`): a frame never holds more records than its block has left, nor more
 * bytes than the file.
 */
export function parseFrameHeaderV3(value: unknown, file: string, recordsLeft: number, bytesLeft: number): FrameHeader {
  if (!isMap(value)) throw new FormatError(file, 'frame header', 'not a map');
  const { codec, records, rawBytes, storedBytes } = value;
  if (typeof codec !== 'string' || !(kFrameCodecs as readonly string[]).includes(codec)) throw new FormatError(file, 'frame header', `unknown codec ${JSON.stringify(codec)}`);
  if (!isCount(records) || records === 0 || records > recordsLeft) throw new FormatError(file, 'frame header', `bad record count ${String(records)} (${recordsLeft} left in the block)`);
  if (!isCount(rawBytes) || !isCount(storedBytes) || storedBytes > bytesLeft) throw new FormatError(file, 'frame header', 'bad sizes, or more bytes than the file holds');
  if (codec === kCodecNone && storedBytes !== rawBytes) throw new FormatError(file, 'frame header', `a raw frame stores ${storedBytes} bytes but says ${rawBytes}`);
  return { codec: codec as FrameCodec, records, rawBytes, storedBytes };
}
