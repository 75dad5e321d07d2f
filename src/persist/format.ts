/**
 * The on-disk format of a save folder (docs/format.md is the reader's guide): the folder
 * layout's constants, the format versions this build writes and reads, and the manifest codec.
 * The layout inside a data file is src/persist/schema.ts.
 *
 *   <save>/MANIFEST                         written last; JSON, then a `#crc32:xxxxxxxx` line
 *   <save>/<keyspace>/<table>/part-NNNNN.fkv  MessagePack streams, one per encode task
 *
 * Guarantees:
 * - `serializeManifest` and `parseManifest` round-trip, and `parseManifest` refuses any
 *   manifest whose checksum, format name, version or shape is wrong, with a FormatError that
 *   names the check that failed.
 * - A version outside `kReadableFormatVersions` is refused by `checkReadableVersion`, for
 *   manifests and data files alike, with an error naming the file and the versions read.
 * - Relative paths in a manifest never escape the save folder (checked on parse).
 */

import { crc32 } from 'node:zlib';
import { ErrorCode, FrostError } from '../util/errors.js';
import type { TableModel } from '../engine/model.js';

export const kManifestFileName = 'MANIFEST';
export const kManifestFormat = 'frostkv-save';
/**
 * Bump rule: bump when a reader of the previous version would misread a save of the new one
 * (a changed framing, a changed meaning of a field). Adding manifest fields that old readers
 * may ignore, or new optional header keys, does not bump it. Readers refuse versions they do
 * not know.
 */
export const kFormatVersion = 3;
/**
 * Every version this build reads. Readers dispatch on the version a manifest or data file
 * declares (src/persist/decode.ts keeps one decoder per entry; its type makes a missing one a
 * compile error); a new version is added here, never swapped for the old one.
 */
export const kReadableFormatVersions = [1, 2, 3] as const;
export type ReadableFormatVersion = (typeof kReadableFormatVersions)[number];
export const kDataFileExtension = '.fkv';
export const kManifestChecksumPrefix = '#crc32:';

/** Temp, old and deleted folder prefixes (never valid container or snapshot names). */
export const kTempPrefix = '.tmp-';
export const kOldLivePrefix = '.old-ks-';
export const kDeletingPrefix = '.del-';

export const kLiveDirName = 'ks';
export const kSnapsDirName = 'snaps';
export const kRsnapDirName = 'rsnap';
export const kBackupsDirName = 'backups';
export const kLockFileName = 'frostkv.lock';

/** Local snapshot names: UTC time of the cut, `YYYYMMDD-HHMMSS`. */
export const kSnapshotNamePattern = /^\d{8}-\d{6}$/;

export const FormatErrorCode = ErrorCode.corruptSave;

export class FormatError extends FrostError {
  readonly file: string;
  readonly check: string;
  constructor(file: string, check: string, detail: string) {
    super(FormatErrorCode, `${file}: ${check} failed: ${detail}`);
    this.name = 'FormatError';
    this.file = file;
    this.check = check;
  }
}

export function isReadableVersion(version: unknown): version is ReadableFormatVersion {
  return (kReadableFormatVersions as readonly unknown[]).includes(version);
}

/** Refuse a version this build cannot read; `what` is "manifest" or "data file". */
export function checkReadableVersion(version: unknown, file: string, what: string): ReadableFormatVersion {
  if (isReadableVersion(version)) return version;
  const known = kReadableFormatVersions.join(', ');
  throw new FormatError(file, 'format version', `the ${what} is format version ${String(version)}; this build reads format versions ${known} (a newer frostkv wrote it, or it is damaged)`);
}

export interface ManifestFile {
  /** Relative to the save folder, `/`-separated. */
  path: string;
  sizeBytes: number;
  records: number;
  /** crc32 (zlib polynomial) of the whole file, 8 lowercase hex digits. */
  crc32: string;
}

export interface ManifestTable {
  name: string;
  model: TableModel;
  /** Hash seed of the table, so a loader rebuilds the same segment layout. */
  hashSeed: number;
  records: number;
  files: ManifestFile[];
  /**
   * Only for a collection table (format 2): the table whose hash record names it, and its id.
   * Its name is then `<parent>#<id>` and its model binstr -> binstr.
   */
  collection?: { parent: string; id: number };
}

export interface ManifestKeyspace {
  name: string;
  tables: ManifestTable[];
}

export interface Manifest {
  format: typeof kManifestFormat;
  formatVersion: number;
  generation: number;
  /** UTC time of the cut, ISO 8601 with milliseconds. */
  cutTime: string;
  cutTimeMs: number;
  createdBy: string;
  keyspaces: ManifestKeyspace[];
  totals: { records: number; sizeBytes: number; files: number };
}

export function crc32Hex(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

export function serializeManifest(manifest: Manifest): Buffer {
  const body = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
  const trailer = Buffer.from(`${kManifestChecksumPrefix}${crc32Hex(crc32(body))}\n`, 'ascii');
  return Buffer.concat([body, trailer]);
}

/** Parse and check a manifest; `file` names it in errors. */
export function parseManifest(bytes: Buffer, file: string): Manifest {
  const text = bytes.toString('latin1');
  const at = text.lastIndexOf(`\n${kManifestChecksumPrefix}`);
  if (at < 0) throw new FormatError(file, 'manifest checksum line', 'missing (truncated manifest?)');
  const bodyEnd = at + 1;
  const trailer = text.slice(bodyEnd + kManifestChecksumPrefix.length).trimEnd();
  if (!/^[0-9a-f]{8}$/.test(trailer)) throw new FormatError(file, 'manifest checksum line', `malformed ${JSON.stringify(trailer)}`);
  const actual = crc32Hex(crc32(bytes.subarray(0, bodyEnd)));
  if (actual !== trailer) throw new FormatError(file, 'manifest checksum', `expected ${trailer}, computed ${actual}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.subarray(0, bodyEnd).toString('utf8'));
  } catch (error) {
    throw new FormatError(file, 'manifest JSON', (error as Error).message);
  }
  return checkManifestShape(parsed, file);
}

/** Hash seeds are 32-bit (docs/format.md, "The key hash"). */
const kHashSeedMax = 0xffffffff;

function fail(file: string, detail: string): never {
  throw new FormatError(file, 'manifest shape', detail);
}

function isInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** A relative path inside the save folder: no absolute paths, no `..`, no empty segments. */
export function isSafeRelativePath(path: string): boolean {
  if (path.length === 0 || path.startsWith('/') || path.includes('\\') || path.includes('\0')) return false;
  return path.split('/').every((segment) => segment.length > 0 && segment !== '.' && segment !== '..');
}

function checkManifestShape(value: unknown, file: string): Manifest {
  if (value === null || typeof value !== 'object') fail(file, 'not an object');
  const manifest = value as Partial<Manifest>;
  if (manifest.format !== kManifestFormat) fail(file, `format is ${JSON.stringify(manifest.format)}, expected ${kManifestFormat}`);
  checkReadableVersion(manifest.formatVersion, file, 'manifest');
  if (!isInt(manifest.generation) || !isInt(manifest.cutTimeMs) || typeof manifest.cutTime !== 'string') fail(file, 'bad generation or cut time');
  if (!Array.isArray(manifest.keyspaces)) fail(file, 'keyspaces missing');
  for (const space of manifest.keyspaces) {
    if (typeof space?.name !== 'string' || !Array.isArray(space.tables)) fail(file, 'bad keyspace entry');
    for (const table of space.tables) {
      if (typeof table?.name !== 'string' || typeof table.model !== 'object' || table.model === null) fail(file, `bad table entry in ${space.name}`);
      if (!isInt(table.hashSeed) || table.hashSeed > kHashSeedMax || !isInt(table.records) || !Array.isArray(table.files)) fail(file, `bad table ${space.name}:${table.name}`);
      if (table.collection !== undefined) {
        const owner = table.collection as Partial<{ parent: unknown; id: unknown }>;
        if (typeof owner.parent !== 'string' || !isInt(owner.id) || owner.id > kHashSeedMax || table.name !== `${owner.parent}#${owner.id}`) fail(file, `bad collection table ${space.name}:${table.name}`);
      }
      for (const entry of table.files) {
        if (typeof entry?.path !== 'string' || !isSafeRelativePath(entry.path)) fail(file, `unsafe file path ${JSON.stringify(entry?.path)}`);
        if (!isInt(entry.sizeBytes) || !isInt(entry.records) || typeof entry.crc32 !== 'string' || !/^[0-9a-f]{8}$/.test(entry.crc32)) {
          fail(file, `bad file entry ${entry.path}`);
        }
      }
    }
  }
  if (manifest.totals === undefined || !isInt(manifest.totals.records)) fail(file, 'totals missing');
  return manifest as Manifest;
}

/** `YYYYMMDD-HHMMSS` in UTC. */
export function snapshotNameFor(timeMs: number): string {
  const d = new Date(timeMs);
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}

// ---- named snapshot names (docs/persistence.md, MKSNAP) ----

export const kSnapshotSegmentMaxBytes = 128;
export const kSnapshotNameMaxBytes = 255;
const kSnapshotSegmentPattern = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Whether `name` is a safe named-snapshot name: `/`-separated segments, each
 * `[A-Za-z0-9][A-Za-z0-9._-]*` and at most 128 bytes, 255 bytes in all. Everything else
 * (empty, absolute, `.`, `..`, leading dot, backslash, NUL, control characters) is refused.
 */
export function isSafeSnapshotName(name: string): boolean {
  if (name.length === 0 || Buffer.byteLength(name, 'utf8') > kSnapshotNameMaxBytes) return false;
  return name.split('/').every((segment) => segment.length <= kSnapshotSegmentMaxBytes && kSnapshotSegmentPattern.test(segment));
}
