/**
 * A byte-keyed hash table whose data lives in SharedArrayBuffers, with frozen generations.
 *
 * Structure: extendible hashing. A directory (Int32Array of 2^globalDepth entries, indexed by
 * the top bits of the key hash) maps to segment indexes; each segment holds the keys whose
 * hash starts with its prefix. A full segment splits in two (or compacts, if it is mostly
 * garbage); the directory doubles as an array of ints at most. No operation ever rehashes the
 * whole table, so no single write's cost grows with the data.
 *
 * Generations: `freeze()` returns a FrozenTable holding the current segment list (a pointer
 * copy) and bumps the generation. A write to a segment that an unfinished frozen generation
 * still holds first copies the segment's meta (slot array + header) from the pool and writes
 * to the copy; the heap is shared because it is append-only while held. Outside a save the
 * check is one integer compare (`segment.cowGen <= this.heldGen`).
 *
 * Guarantees:
 * - A FrozenTable's segments read exactly as they were at the cut until it is released.
 * - Buffers return to the pool only when no live segment and no held frozen generation
 *   references them.
 * - Keys and values are bytes; string arguments are UTF-8 encoded (ASCII without a copy into
 *   JS strings), and a string key equals the Buffer of its UTF-8 bytes.
 */

import { FrostError, ErrorCode } from '../util/errors.js';
import { assert } from '../util/assert.js';
import { finishHash, hashBytes, kFnvOffsetBasis, kFnvPrime, randomSeed } from './hash.js';
import {
  kBlobHeaderBytes,
  kDepthMax,
  kEntryTypeMask,
  kEntryTypeShift,
  kHeapBytes,
  kMetaBytes,
  kMetaGarbageBytes,
  kMetaHeaderWords,
  kMetaHeapUsedBytes,
  kMetaLocalDepth,
  kMetaMagic,
  kMetaMagicValue,
  kMetaExpiringCount,
  kMetaPrefix,
  kSlotCount,
  kSlotsUsedMax,
  kSegmentStatusDone,
  entryHeapBytes,
} from './layout.js';
import { BufferPool, type HeapBuffer } from './pool.js';
import {
  appendRecord,
  deleteSlot,
  entryCount,
  findSlot,
  hasHeapRoom,
  hasRoom,
  initSegment,
  insertSlotAt,
  liveHeapBytes,
  probe,
  overwriteValueInPlace,
  readRecord,
  rebuildInto,
  record,
  repointSlot,
  restampEntry,
  restampedEntryBytes,
  setExpiryInPlace,
  entryExpiry,
  slotOffset,
  type SegmentView,
  type ValueSource,
} from './segment.js';
import { FrozenTable, Segment, type FrozenOwner } from './generation.js';
import { tilingProblem, type BlockList } from './coverage.js';

/** Keys up to 1 MiB and values up to 64 MiB by default; keys of 64 KiB and values of 64 MiB must always work (Skytable's own bench sends a 65,536-byte key). */
export const kDefaultKeyMaxBytes = 1024 * 1024;
export const kDefaultValueMaxBytes = 64 * 1024 * 1024;
/** SharedArrayBuffers past 2 GiB are not dependable across platforms. */
export const kRecordHardMaxBytes = 2 * 1024 * 1024 * 1024 - 64;
/** A directory of 2^24 entries is 64 MiB and addresses ~25 billion keys; deeper means a hash flood. */
export const kDirectoryDepthMax = 24;
/** Compact (rather than split) only when the survivors fill at most this share of a heap. */
const kCompactLiveShareMax = 0.75;
/** Segments released per step when a cleared table is reclaimed in the background. */
const kReclaimSegmentsPerStep = 512;


const kWriteUpsert = 0;
const kWriteInsert = 1;
const kWriteUpdate = 2;

/** `expiresAtMs` meaning "no expiry" (a stored time is always positive). */
export const kNoExpiry = 0;
/** `expiresAtMs` meaning "keep the key's current expiry" (SET KEEPTTL). */
export const kKeepExpiry = -1;
/** The latest expiry time a record can carry (ms since the epoch; 2^53 - 1 keeps integers exact). */
export const kExpiryMaxMs = Number.MAX_SAFE_INTEGER;

export interface TableOptions {
  pool?: BufferPool;
  seed?: number;
  keyMaxBytes?: number;
  valueMaxBytes?: number;
  /** The clock expiry is judged by (ms since the epoch); the simulation drives its own. */
  clock?: () => number;
}

/**
 * Told before a record whose type owns storage elsewhere (type code >= kOwningTypeMin: a
 * hash, whose value may name a collection table) is deleted, expired or replaced, with its
 * value bytes (valid during the call only).
 */
export type DroppedRecordListener = (type: number, bytes: Uint8Array, valueOffset: number, valueLength: number) => void;
/** Strings (0) and lists (1) keep their whole value in the record. */
export const kOwningTypeMin = 2;

/** Told about every key the table removes because its time passed (lazily or by the sweep). */
export type ExpiredKeyListener = (bytes: Uint8Array, offset: number, length: number) => void;

/** What one slice of the active expiry sweep did. */
export interface SweepResult {
  /** Records with an expiry time looked at. */
  sampled: number;
  expired: number;
  /** Whether the sweep wrapped around the table (every segment visited since the last wrap). */
  wrapped: boolean;
}

export interface TableStats {
  entryCount: number;
  segmentCount: number;
  directoryDepth: number;
  /** Bytes held by live segments (meta + heap) and out-of-line records. */
  dataBytes: number;
  blobBytes: number;
  /** Bytes held only because a frozen generation still needs them (copy-on-write memory). */
  cowBytesNow: number;
  cowBytesPeak: number;
  cowCopyCount: number;
  activeFrozenCount: number;
  generation: number;
}

export type Bytes = Uint8Array;
export type KeyInput = string | Uint8Array;
export type ValueInput = string | Uint8Array;

interface GraveyardBatch {
  segments: Segment[];
  diedGen: number;
  next: number;
}

export class Table implements FrozenOwner {
  readonly pool: BufferPool;
  readonly seed: number;
  readonly keyMaxBytes: number;
  readonly valueMaxBytes: number;
  readonly clock: () => number;
  /** Set by the engine: told after an expired key is removed. */
  onExpired: ExpiredKeyListener | null = null;
  /** Set by the engine: told before a record of an owning type leaves (see DroppedRecordListener). */
  onDropped: DroppedRecordListener | null = null;
  /** While set, `onDropped` is not called (a rename moves the record's storage with it). */
  keepDropped = false;

  private directory: Int32Array = new Int32Array(1);
  private globalDepth = 0;
  private segments: Segment[] = [];
  private count = 0;
  /** Keys removed because their time passed (INFO's expired_keys). */
  expiredCount = 0;
  /** Where the active expiry sweep resumes: a segment index and a slot. */
  private sweepSegment = 0;
  private sweepSlot = 0;
  /** Generation that live writes belong to. */
  private gen = 1;
  /** Newest generation still held by an unreleased FrozenTable, or -1. */
  private heldGen = -1;
  private readonly active: FrozenTable[] = [];
  private readonly statusPool: Int32Array[] = [];
  private readonly graveyard: GraveyardBatch[] = [];
  private reclaimScheduled = false;

  private cowBytes = 0;
  private cowBytesPeak = 0;
  private cowCopyCount = 0;

  // The prepared key of the current operation (set by prepareKey; avoids tuple allocation).
  private keyBytes: Uint8Array = new Uint8Array(0);
  private keyOffset = 0;
  private keyLength = 0;
  private keyHash = 0;
  private keyScratch = new Uint8Array(256);
  /** The segment the last successful `lookup` found its record in. */
  private foundSegment: Segment | null = null;

  constructor(options: TableOptions = {}) {
    this.pool = options.pool ?? new BufferPool();
    this.seed = (options.seed ?? randomSeed()) >>> 0;
    this.keyMaxBytes = options.keyMaxBytes ?? kDefaultKeyMaxBytes;
    this.valueMaxBytes = options.valueMaxBytes ?? kDefaultValueMaxBytes;
    this.clock = options.clock ?? Date.now;
    if (this.keyMaxBytes > kRecordHardMaxBytes || this.valueMaxBytes > kRecordHardMaxBytes) {
      throw new FrostError(ErrorCode.badOption, `key and value limits must be at most ${kRecordHardMaxBytes} bytes`);
    }
    this.segments.push(this.newSegment(0, 0));
  }

  get size(): number {
    return this.count;
  }

  // ---------------------------------------------------------------- keys and values

  private prepareKey(key: KeyInput): void {
    if (typeof key === 'string') {
      this.prepareStringKey(key);
    } else {
      if (key.length > this.keyMaxBytes) this.keyTooLarge(key.length);
      this.keyBytes = key;
      this.keyOffset = 0;
      this.keyLength = key.length;
      this.keyHash = hashBytes(this.seed, key, 0, key.length);
    }
  }

  /** Prepare a key given as a byte range (no view allocated: the server's hot path). */
  private prepareKeyRange(bytes: Uint8Array, offset: number, length: number): void {
    if (length > this.keyMaxBytes) this.keyTooLarge(length);
    this.keyBytes = bytes;
    this.keyOffset = offset;
    this.keyLength = length;
    this.keyHash = hashBytes(this.seed, bytes, offset, length);
  }

  private prepareStringKey(key: string): void {
    const length = key.length;
    if (length > this.keyScratch.length) this.growKeyScratch(length);
    const scratch = this.keyScratch;
    let h = (this.seed ^ kFnvOffsetBasis) | 0;
    for (let i = 0; i < length; i++) {
      const c = key.charCodeAt(i);
      if (c > 0x7f) {
        this.prepareUtf8Key(key);
        return;
      }
      scratch[i] = c;
      h = Math.imul(h ^ c, kFnvPrime);
    }
    if (length > this.keyMaxBytes) this.keyTooLarge(length);
    this.keyBytes = scratch;
    this.keyOffset = 0;
    this.keyLength = length;
    this.keyHash = finishHash(h, length);
  }

  private prepareUtf8Key(key: string): void {
    const length = Buffer.byteLength(key, 'utf8');
    if (length > this.keyMaxBytes) this.keyTooLarge(length);
    if (length > this.keyScratch.length) this.growKeyScratch(length);
    const written = Buffer.from(this.keyScratch.buffer, this.keyScratch.byteOffset, this.keyScratch.length).write(key, 0, 'utf8');
    assert(written === length, 'utf8 key length mismatch');
    this.keyBytes = this.keyScratch;
    this.keyOffset = 0;
    this.keyLength = length;
    this.keyHash = hashBytes(this.seed, this.keyScratch, 0, length);
  }

  private growKeyScratch(length: number): void {
    let size = this.keyScratch.length;
    while (size < length) size *= 2;
    this.keyScratch = new Uint8Array(Math.min(size, Math.max(length, this.keyMaxBytes)));
  }

  private keyTooLarge(length: number): never {
    throw new FrostError(ErrorCode.keyTooLarge, `key of ${length} bytes exceeds the limit of ${this.keyMaxBytes} bytes`);
  }

  private valueTooLarge(length: number): never {
    throw new FrostError(ErrorCode.valueTooLarge, `value of ${length} bytes exceeds the limit of ${this.valueMaxBytes} bytes`);
  }

  // ---------------------------------------------------------------- directory

  private segmentFor(hash: number): Segment {
    const index = this.globalDepth === 0 ? 0 : hash >>> (32 - this.globalDepth);
    return this.segments[this.directory[index] as number] as Segment;
  }

  private newSegment(depth: number, prefix: number): Segment {
    const heap = this.pool.takeHeap();
    heap.refs = 1;
    heap.liveRefs = 1;
    const segment = new Segment(this.pool.takeMeta(), heap, this.gen);
    initSegment(segment, depth, prefix);
    return segment;
  }

  // ---------------------------------------------------------------- reads

  /**
   * Find `key`; on success the record cursor of segment.ts (`record.bytes`, `valueOffset`,
   * `valueLength`) points at the value until the next table operation.
   */
  lookup(key: KeyInput): boolean {
    this.prepareKey(key);
    return this.lookupPrepared();
  }

  /** `lookup` for a key given as a byte range. */
  lookupRange(bytes: Uint8Array, offset: number, length: number): boolean {
    this.prepareKeyRange(bytes, offset, length);
    return this.lookupPrepared();
  }

  /**
   * Find the prepared key. A key whose expiry time has passed is removed here (Redis's lazy
   * expiry: no read ever returns it) and reported missing.
   */
  private lookupPrepared(): boolean {
    const segment = this.segmentFor(this.keyHash);
    const slot = findSlot(segment, this.keyHash, this.keyBytes, this.keyOffset, this.keyLength);
    if (slot < 0) return false;
    readRecord(segment, slotOffset(segment.meta[kMetaHeaderWords + slot] as number));
    if (record.expiresAtMs !== 0 && record.expiresAtMs <= this.clock()) {
      this.expireSlot(segment, slot);
      return false;
    }
    this.foundSegment = segment;
    return true;
  }

  /** Tell `onDropped` about the record in `slot` of `segment` if its type owns storage. */
  private dropping(segment: Segment, slot: number): void {
    if (this.onDropped === null || this.keepDropped) return;
    const offset = slotOffset(segment.meta[kMetaHeaderWords + slot] as number);
    const type = (segment.heap32[(offset >>> 2) + 1] as number) >>> kEntryTypeShift & kEntryTypeMask;
    if (type < kOwningTypeMin) return;
    readRecord(segment, offset);
    this.onDropped(record.type, record.bytes, record.valueOffset, record.valueLength);
  }

  /** Remove the expired record in `slot` of `segment` (a write like any other) and report it. */
  private expireSlot(segment: Segment, slot: number): void {
    this.dropping(segment, slot);
    const target = this.writable(segment);
    readRecord(target, slotOffset(target.meta[kMetaHeaderWords + slot] as number));
    // The key bytes stay readable after the delete: deletes never touch the heap.
    const bytes = record.bytes;
    const keyOffset = record.keyOffset;
    const keyLength = record.keyLength;
    deleteSlot(target, slot);
    this.count--;
    this.expiredCount++;
    if (this.onExpired !== null) this.onExpired(bytes, keyOffset, keyLength);
  }

  has(key: KeyInput): boolean {
    return this.lookup(key);
  }

  /** A copy of the value, or undefined. */
  get(key: KeyInput): Buffer | undefined {
    if (!this.lookup(key)) return undefined;
    return copyOut(record.bytes, record.valueOffset, record.valueLength);
  }

  /** The value decoded as UTF-8, or undefined. */
  getString(key: KeyInput): string | undefined {
    if (!this.lookup(key)) return undefined;
    if (!record.outOfLine) {
      return utf8Slice.call((this.foundSegment as Segment).heapBuffer, record.valueOffset, record.valueOffset + record.valueLength);
    }
    const bytes = record.bytes;
    return Buffer.from(bytes.buffer, bytes.byteOffset + record.valueOffset, record.valueLength).toString('utf8');
  }

  /** Length in bytes of the value, or -1. */
  valueLength(key: KeyInput): number {
    return this.lookup(key) ? record.valueLength : -1;
  }

  // ---------------------------------------------------------------- writes

  /** Insert or replace (a plain string without expiry unless told otherwise). */
  set(key: KeyInput, value: ValueInput, expiresAtMs = kNoExpiry, type = 0): void {
    this.prepareKey(key);
    this.writeValue(kWriteUpsert, value, expiresAtMs, type);
  }

  /** Insert only if absent; returns whether it was inserted. */
  insert(key: KeyInput, value: ValueInput, expiresAtMs = kNoExpiry, type = 0): boolean {
    this.prepareKey(key);
    return this.writeValue(kWriteInsert, value, expiresAtMs, type);
  }

  /** Replace only if present; returns whether it was replaced. */
  update(key: KeyInput, value: ValueInput, expiresAtMs = kNoExpiry, type = 0): boolean {
    this.prepareKey(key);
    return this.writeValue(kWriteUpdate, value, expiresAtMs, type);
  }

  private writeValue(mode: number, value: ValueInput, expiresAtMs: number, type: number): boolean {
    // Strings are written straight into the heap once their UTF-8 length is known.
    const length = typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : value.length;
    return this.write(mode, value, 0, length, expiresAtMs, type);
  }

  /**
   * Write with key and value given as byte ranges (the server's hot path). Neither range may
   * view this table's own memory. `expiresAtMs` is an absolute time, kNoExpiry or kKeepExpiry.
   */
  writeRange(
    mode: 'upsert' | 'insert' | 'update',
    key: Uint8Array,
    keyOffset: number,
    keyLength: number,
    value: Uint8Array,
    valueOffset: number,
    valueLength: number,
    expiresAtMs = kNoExpiry,
    type = 0,
  ): boolean {
    this.prepareKeyRange(key, keyOffset, keyLength);
    const code = mode === 'upsert' ? kWriteUpsert : mode === 'insert' ? kWriteInsert : kWriteUpdate;
    return this.write(code, value, valueOffset, valueLength, expiresAtMs, type);
  }

  /** `delete` for a key given as a byte range. */
  deleteRange(bytes: Uint8Array, offset: number, length: number): boolean {
    this.prepareKeyRange(bytes, offset, length);
    return this.deletePrepared();
  }

  /** Find the prepared key's slot in `segment`; an expired record there is removed first (-1). */
  private findLive(segment: Segment): number {
    const slot = findSlot(segment, this.keyHash, this.keyBytes, this.keyOffset, this.keyLength);
    if (slot < 0) return slot;
    const expiresAtMs = entryExpiry(segment, slotOffset(segment.meta[kMetaHeaderWords + slot] as number));
    if (expiresAtMs === 0 || expiresAtMs > this.clock()) return slot;
    this.expireSlot(segment, slot);
    return -2;
  }

  private write(mode: number, value: ValueSource, valueOffset: number, valueLength: number, expiresAtMs: number, type: number): boolean {
    if (valueLength > this.valueMaxBytes) this.valueTooLarge(valueLength);
    const hash = this.keyHash;
    // A room-making rebuild retries the loop: the replaced record is reported once.
    let reported = false;
    for (;;) {
      const segment = this.segmentFor(hash);
      const slot = this.findLive(segment);
      if (slot === -2) continue; // it had expired: now a miss, probed again for its empty slot
      if (slot >= 0) {
        if (mode === kWriteInsert) return false;
        if (!reported) this.dropping(segment, slot);
        reported = true;
        const target = this.writable(segment);
        const entryOffset = slotOffset(target.meta[kMetaHeaderWords + slot] as number);
        const expiry = expiresAtMs === kKeepExpiry ? entryExpiry(target, entryOffset) : expiresAtMs;
        // In place only where no frozen segment can read: the heap is this segment's alone, or
        // the entry was appended after every frozen copy's cut (at or past sharedHeapFloor).
        if (target.heap.refs === 1 || entryOffset >= target.sharedHeapFloor) {
          if (overwriteValueInPlace(target, slot, value, valueOffset, valueLength, type, expiry)) return true;
        }
        const needBytes = entryHeapBytes(this.keyLength, valueLength, expiry !== kNoExpiry);
        if (!hasHeapRoom(target, needBytes)) {
          this.makeRoom(target, needBytes);
          continue;
        }
        const offset = appendRecord(target, hash, this.keyBytes, this.keyOffset, this.keyLength, value, valueOffset, valueLength, type, expiry);
        repointSlot(target, slot, offset);
        return true;
      }
      if (mode === kWriteUpdate) return false;
      const expiry = expiresAtMs === kKeepExpiry ? kNoExpiry : expiresAtMs;
      const needBytes = entryHeapBytes(this.keyLength, valueLength, expiry !== kNoExpiry);
      if (!hasRoom(segment, needBytes)) {
        this.makeRoom(segment, needBytes);
        continue;
      }
      // The miss left the empty slot in probe.emptySlot; a copy-on-write copy has the same slots.
      const emptySlot = probe.emptySlot;
      const target = this.writable(segment);
      const offset = appendRecord(target, hash, this.keyBytes, this.keyOffset, this.keyLength, value, valueOffset, valueLength, type, expiry);
      insertSlotAt(target, hash, offset, emptySlot);
      this.count++;
      return true;
    }
  }

  /**
   * Set (or with kNoExpiry remove) the expiry time of a live key given as a byte range; false
   * when the key is missing. The value is never copied: an entry that already has an expiry
   * field is changed in place where no frozen reader can see it, else it is re-appended (a big
   * value keeps its blob and gets a new stub).
   */
  setExpiryRange(bytes: Uint8Array, offset: number, length: number, expiresAtMs: number): boolean {
    this.prepareKeyRange(bytes, offset, length);
    return this.setExpiryPrepared(expiresAtMs);
  }

  setExpiry(key: KeyInput, expiresAtMs: number): boolean {
    this.prepareKey(key);
    return this.setExpiryPrepared(expiresAtMs);
  }

  private setExpiryPrepared(expiresAtMs: number): boolean {
    assert(expiresAtMs >= 0 && expiresAtMs <= kExpiryMaxMs, 'expiry time out of range');
    for (;;) {
      const segment = this.segmentFor(this.keyHash);
      const slot = this.findLive(segment);
      if (slot < 0) return false;
      const current = entryExpiry(segment, slotOffset(segment.meta[kMetaHeaderWords + slot] as number));
      if (current === expiresAtMs) return true;
      const target = this.writable(segment);
      const entryOffset = slotOffset(target.meta[kMetaHeaderWords + slot] as number);
      if (target.heap.refs === 1 || entryOffset >= target.sharedHeapFloor) {
        if (setExpiryInPlace(target, slot, expiresAtMs)) return true;
      }
      const needBytes = restampedEntryBytes(target, slot, expiresAtMs);
      if (!hasHeapRoom(target, needBytes)) {
        this.makeRoom(target, needBytes);
        continue;
      }
      restampEntry(target, slot, expiresAtMs);
      return true;
    }
  }

  delete(key: KeyInput): boolean {
    this.prepareKey(key);
    return this.deletePrepared();
  }

  private deletePrepared(): boolean {
    const segment = this.segmentFor(this.keyHash);
    const slot = this.findLive(segment);
    if (slot < 0) return false;
    this.dropping(segment, slot);
    deleteSlot(this.writable(segment), slot);
    this.count--;
    return true;
  }

  /** Remove every entry in O(1); old segments are reclaimed in the background. */
  clear(): void {
    if (this.count === 0 && this.segments.length === 1) return;
    this.graveyard.push({ segments: this.segments, diedGen: this.gen, next: 0 });
    this.segments = [this.newSegment(0, 0)];
    this.directory = new Int32Array(1);
    this.globalDepth = 0;
    this.count = 0;
    this.scheduleReclaim();
  }

  /**
   * One slice of the active expiry sweep: walk on from where the last slice stopped, looking
   * only at records that carry an expiry time (segments with none are skipped by their
   * counter), removing those due by `nowMs`, until `sampleMax` were looked at or the walk
   * wrapped. Deletes are ordinary writes (copy-on-write while a save holds the segment).
   */
  sweepExpired(nowMs: number, sampleMax: number): SweepResult {
    const result: SweepResult = { sampled: 0, expired: 0, wrapped: false };
    let visitedSegments = 0;
    while (result.sampled < sampleMax && visitedSegments <= this.segments.length) {
      if (this.sweepSegment >= this.segments.length) {
        this.sweepSegment = 0;
        this.sweepSlot = 0;
        result.wrapped = true;
        if (visitedSegments > 0) break;
      }
      let segment = this.segments[this.sweepSegment] as Segment;
      if ((segment.meta[kMetaExpiringCount] as number) === 0) {
        this.sweepSegment++;
        this.sweepSlot = 0;
        visitedSegments++;
        continue;
      }
      while (this.sweepSlot < kSlotCount && result.sampled < sampleMax) {
        const slot = segment.meta[kMetaHeaderWords + this.sweepSlot] as number;
        if (slot === 0) {
          this.sweepSlot++;
          continue;
        }
        const expiresAtMs = entryExpiry(segment, slotOffset(slot));
        if (expiresAtMs === 0) {
          this.sweepSlot++;
          continue;
        }
        result.sampled++;
        if (expiresAtMs > nowMs) {
          this.sweepSlot++;
          continue;
        }
        // Backward-shift deletion may move a later record into this slot: look at it again.
        this.expireSlot(segment, this.sweepSlot);
        result.expired++;
        segment = this.segments[this.sweepSegment] as Segment;
      }
      if (this.sweepSlot >= kSlotCount) {
        this.sweepSegment++;
        this.sweepSlot = 0;
        visitedSegments++;
      }
    }
    return result;
  }

  /** Visit every live record's type and value bytes (valid during the call; no writes). */
  forEachLive(visit: (type: number, bytes: Uint8Array, valueOffset: number, valueLength: number) => void): void {
    const nowMs = this.clock();
    for (const segment of this.segments) forEachRecord(segment, () => visit(record.type, record.bytes, record.valueOffset, record.valueLength), Number.POSITIVE_INFINITY, nowMs);
  }

  /**
   * Bytes the record of a key takes (its heap entry, plus its blob when out of line), or -1
   * when missing. The record cursor points at it afterwards.
   */
  recordBytes(bytes: Uint8Array, offset: number, length: number): number {
    if (!this.lookupRange(bytes, offset, length)) return -1;
    return record.entryBytes + (record.outOfLine ? kBlobHeaderBytes + record.keyLength + record.valueLength : 0);
  }

  /** Keys that carry an expiry time (INFO keyspace's `expires`). */
  expiringKeys(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.meta[kMetaExpiringCount] as number;
    return total;
  }

  // ---------------------------------------------------------------- rebuilds

  private makeRoom(segment: Segment, needBytes: number): void {
    const live = liveHeapBytes(segment);
    const garbage = segment.meta[kMetaGarbageBytes] as number;
    if (entryCount(segment) < kSlotsUsedMax && garbage >= needBytes && live + needBytes <= kHeapBytes * kCompactLiveShareMax) {
      this.compact(segment);
    } else {
      this.split(segment);
    }
  }

  private compact(segment: Segment): void {
    const fresh = this.newSegment(segment.meta[kMetaLocalDepth] as number, segment.meta[kMetaPrefix] as number);
    rebuildInto(segment, fresh, null, 0);
    fresh.idx = segment.idx;
    this.segments[segment.idx] = fresh;
    this.retire(segment, this.gen);
  }

  private split(segment: Segment): void {
    const depth = segment.meta[kMetaLocalDepth] as number;
    const prefix = segment.meta[kMetaPrefix] as number;
    if (depth >= kDirectoryDepthMax || depth >= kDepthMax) {
      throw new FrostError(
        ErrorCode.tableFull,
        `a segment reached directory depth ${depth}: too many keys share one hash prefix (a hash flood?)`,
      );
    }
    if (depth === this.globalDepth) this.growDirectory();
    const low = this.newSegment(depth + 1, prefix * 2);
    const high = this.newSegment(depth + 1, prefix * 2 + 1);
    rebuildInto(segment, low, high, 31 - depth);
    low.idx = segment.idx;
    high.idx = this.segments.length;
    this.segments[segment.idx] = low;
    this.segments.push(high);
    const shift = this.globalDepth - depth;
    const start = prefix * 2 ** shift;
    const half = 2 ** (shift - 1);
    this.directory.fill(high.idx, start + half, start + 2 * half);
    this.retire(segment, this.gen);
  }

  private growDirectory(): void {
    const old = this.directory;
    const grown = new Int32Array(old.length * 2);
    for (let i = 0; i < old.length; i++) {
      const index = old[i] as number;
      grown[2 * i] = index;
      grown[2 * i + 1] = index;
    }
    this.directory = grown;
    this.globalDepth++;
  }

  // ---------------------------------------------------------------- generations

  /**
   * Cut: hand out the current segment list and start a new generation. O(segments) pointer
   * copy, no data copy, no allocation of shared memory.
   */
  /**
   * The cut. `cutMs` is the time the cut is judged at for expiry (the engine reads its clock
   * once for a cut of every table): a record expiring at or before it is not part of it.
   */
  freeze(cutMs = this.clock()): FrozenTable {
    const frozen = new FrozenTable(this, this.gen, this.segments.slice(), cutMs);
    this.active.push(frozen);
    this.heldGen = this.gen;
    this.gen++;
    return frozen;
  }

  /** The segment itself if writes may go to it in place, else its copy-on-write replacement. */
  private writable(segment: Segment): Segment {
    if (segment.cowGen > this.heldGen) return segment;
    return this.copyIfHeld(segment);
  }

  private copyIfHeld(segment: Segment): Segment {
    if (!this.heldByActive(segment)) {
      segment.cowGen = this.gen;
      return segment;
    }
    this.noteHot(segment);
    const heap = segment.heap;
    const copy = new Segment(this.pool.takeMeta(), heap, this.gen);
    copy.meta.set(segment.meta);
    // Everything below the source's used bytes is shared with the frozen source from now on.
    copy.sharedHeapFloor = segment.meta[kMetaHeapUsedBytes] as number;
    copy.blobs = segment.blobs === null ? null : new Map(segment.blobs);
    copy.idx = segment.idx;
    heap.refs++;
    heap.liveRefs++;
    this.segments[segment.idx] = copy;
    this.cowCopyCount++;
    this.retire(segment, this.gen);
    return copy;
  }

  /** Tell every save still needing `segment` that keeping it costs memory now (encode it next). */
  private noteHot(segment: Segment): void {
    for (let i = 0; i < this.active.length; i++) {
      const frozen = this.active[i] as FrozenTable;
      if (frozen.onHot === null) continue;
      if (segment.bornGen <= frozen.gen && frozen.gen < segment.diedGen && !frozen.isDone(segment.idx)) frozen.onHot(segment.idx);
    }
  }

  /** Whether some unreleased frozen generation contains `segment` and has not finished it. */
  private heldByActive(segment: Segment): boolean {
    for (let i = 0; i < this.active.length; i++) {
      const frozen = this.active[i] as FrozenTable;
      if (segment.bornGen <= frozen.gen && frozen.gen < segment.diedGen && !frozen.isDone(segment.idx)) return true;
    }
    return false;
  }

  /** A segment leaves the live table at generation `diedGen`. */
  private retire(segment: Segment, diedGen: number): void {
    segment.diedGen = diedGen;
    const heap = segment.heap;
    heap.liveRefs--;
    if (this.heldByActive(segment)) {
      segment.deferred = true;
      this.addCowBytes(kMetaBytes);
      this.heapAccounting(heap);
      this.noteHot(segment);
    } else {
      this.freeSegment(segment);
    }
  }

  private freeSegment(segment: Segment): void {
    assert(!segment.freed, 'segment freed twice');
    segment.freed = true;
    if (segment.deferred) this.addCowBytes(-kMetaBytes);
    this.pool.giveMeta(segment.metaBuffer);
    const heap = segment.heap;
    heap.refs--;
    this.heapAccounting(heap);
    if (heap.refs === 0) this.pool.giveHeap(heap);
    segment.blobs = null;
  }

  /** A heap referenced only by frozen segments is copy-on-write memory. */
  private heapAccounting(heap: HeapBuffer): void {
    const frozenOnly = heap.refs > 0 && heap.liveRefs === 0;
    if (frozenOnly !== heap.countedAsCow) {
      heap.countedAsCow = frozenOnly;
      this.addCowBytes(frozenOnly ? kHeapBytes : -kHeapBytes);
    }
  }

  private addCowBytes(delta: number): void {
    this.cowBytes += delta;
    if (this.cowBytes > this.cowBytesPeak) this.cowBytesPeak = this.cowBytes;
  }

  /** Forget the peak (called at the start of each save, so each save reports its own). */
  resetCowPeak(): void {
    this.cowBytesPeak = this.cowBytes;
  }

  takeStatus(length: number): Int32Array {
    for (let i = 0; i < this.statusPool.length; i++) {
      const candidate = this.statusPool[i] as Int32Array;
      if (candidate.length >= length) {
        this.statusPool.splice(i, 1);
        const view = candidate.length === length ? candidate : new Int32Array(candidate.buffer, 0, length);
        view.fill(0);
        return view;
      }
    }
    return new Int32Array(new SharedArrayBuffer(Math.max(length, 64) * 4), 0, length);
  }

  reclaimFrozenRange(frozen: FrozenTable, from: number, to: number): void {
    for (let i = from; i < to; i++) {
      const segment = frozen.segments[i] as Segment;
      if (segment.deferred && !segment.freed && !this.heldByActive(segment)) this.freeSegment(segment);
    }
  }

  releaseFrozen(frozen: FrozenTable): void {
    const at = this.active.indexOf(frozen);
    assert(at >= 0, 'released a frozen generation this table does not hold');
    this.active.splice(at, 1);
    let newest = -1;
    for (const other of this.active) if (other.gen > newest) newest = other.gen;
    this.heldGen = newest;
    for (const segment of frozen.segments) {
      if (segment.deferred && !segment.freed && !this.heldByActive(segment)) this.freeSegment(segment);
    }
    const status = frozen.peekStatus();
    if (status !== null) this.statusPool.push(new Int32Array(status.buffer));
  }

  private scheduleReclaim(): void {
    if (this.reclaimScheduled) return;
    this.reclaimScheduled = true;
    setImmediate(() => {
      this.reclaimScheduled = false;
      if (this.reclaimStep(kReclaimSegmentsPerStep)) this.scheduleReclaim();
    });
  }

  /** Retire up to `budget` cleared segments; returns whether more remain. */
  reclaimStep(budget: number): boolean {
    while (budget > 0 && this.graveyard.length > 0) {
      const batch = this.graveyard[0] as GraveyardBatch;
      while (budget > 0 && batch.next < batch.segments.length) {
        this.retire(batch.segments[batch.next] as Segment, batch.diedGen);
        batch.next++;
        budget--;
      }
      if (batch.next === batch.segments.length) this.graveyard.shift();
    }
    return this.graveyard.length > 0;
  }

  // ---------------------------------------------------------------- iteration

  /**
   * Entries as they were when iteration started (a frozen generation underneath), so writes
   * during iteration neither show up nor break it. Break out of the loop to release it early.
   */
  *entries(): IterableIterator<[Buffer, Buffer]> {
    const frozen = this.freeze();
    try {
      for (let i = 0; i < frozen.segments.length; i++) {
        const segment = frozen.segments[i] as Segment;
        const pairs: Array<[Buffer, Buffer]> = [];
        forEachRecord(
          segment,
          () => {
            pairs.push([
              copyOut(record.bytes, record.keyOffset, record.keyLength),
              copyOut(record.bytes, record.valueOffset, record.valueLength),
            ]);
          },
          Number.POSITIVE_INFINITY,
          frozen.cutMs,
        );
        frozen.markDone(i);
        frozen.reclaimDone(i, i + 1);
        yield* pairs;
      }
    } finally {
      frozen.release();
    }
  }

  *keys(): IterableIterator<Buffer> {
    const cursor = this.keyCursor();
    try {
      for (;;) {
        const batch = cursor.next(1024);
        if (batch.length === 0) return;
        yield* batch;
      }
    } finally {
      cursor.close();
    }
  }

  /**
   * Keys as of now, read in batches over a frozen generation (LSKEYS with a large count reads
   * a batch per event-loop turn, and writes in between neither show up nor break it).
   * `close()` must be called (early or at the end) to release the generation.
   */
  keyCursor(): KeyCursor {
    return new KeyCursor(this.freeze());
  }

  [Symbol.iterator](): IterableIterator<[Buffer, Buffer]> {
    return this.entries();
  }

  /**
   * Visit up to `limit` live keys synchronously (no generation, no copy): the callback gets the
   * bytes in place and must not write to the table.
   */
  scanKeys(limit: number, visit: (bytes: Uint8Array, offset: number, length: number) => void): number {
    let seen = 0;
    const nowMs = this.clock();
    for (const segment of this.segments) {
      if (seen >= limit) break;
      seen += forEachRecord(segment, () => visit(record.bytes, record.keyOffset, record.keyLength), limit - seen, nowMs);
    }
    return seen;
  }

  /**
   * Cursor scan in hash order (RESP SCAN): visit every key of the segment covering hash
   * `cursor`, and return the cursor of the next hash range, or 0 after the last one. A key
   * present from the first call to the last is visited exactly once even if segments split
   * in between (halves cover the same hash range); keys written meanwhile may or may not be.
   */
  scanFrom(cursor: number, visit: (bytes: Uint8Array, offset: number, length: number, type: number) => void): number {
    const hash = cursor >>> 0;
    const segment = this.segmentFor(hash);
    const depth = segment.meta[kMetaLocalDepth] as number;
    forEachRecord(segment, () => visit(record.bytes, record.keyOffset, record.keyLength, record.type), Number.POSITIVE_INFINITY, this.clock());
    if (depth === 0) return 0;
    const span = 2 ** (32 - depth);
    const next = (Math.floor(hash / span) + 1) * span;
    return next >= 2 ** 32 ? 0 : next;
  }

  /**
   * A key chosen at random (RANDOMKEY): a random segment, then the first live record from a
   * random slot on, wrapping; segments are tried in turn if one is empty. The record cursor
   * points at it on success. Not uniform across keys (segments hold different counts), as
   * Redis's is not uniform across buckets either.
   */
  randomRecord(random: () => number = Math.random): boolean {
    if (this.count === 0) return false;
    const nowMs = this.clock();
    const segments = this.segments;
    const first = Math.floor(random() * segments.length);
    for (let s = 0; s < segments.length; s++) {
      const segment = segments[(first + s) % segments.length] as Segment;
      if (entryCount(segment) === 0) continue;
      const start = Math.floor(random() * kSlotCount);
      for (let i = 0; i < kSlotCount; i++) {
        const slot = segment.meta[kMetaHeaderWords + ((start + i) % kSlotCount)] as number;
        if (slot === 0) continue;
        readRecord(segment, slotOffset(slot));
        if (record.expiresAtMs !== 0 && record.expiresAtMs <= nowMs) continue;
        return true;
      }
    }
    return false;
  }

  // ---------------------------------------------------------------- loading

  /**
   * Replace the (empty) table's contents with segments built elsewhere (a loading worker).
   * Every (depth, prefix) pair must tile the hash space exactly once.
   */
  adoptSegments(parts: Array<{ meta: SharedArrayBuffer; heap: SharedArrayBuffer; blobs: Array<[number, Uint8Array]> | null }>): void {
    assert(this.count === 0, 'segments can only be adopted into an empty table');
    let depthMax = 0;
    const built: Segment[] = [];
    let total = 0;
    for (const part of parts) {
      const heap = this.pool.adoptHeap(part.heap);
      heap.refs = 1;
      heap.liveRefs = 1;
      const segment = new Segment(this.pool.adoptMeta(part.meta), heap, this.gen);
      if (part.blobs !== null) segment.blobs = new Map(part.blobs);
      const depth = segment.meta[kMetaLocalDepth] as number;
      if (depth > depthMax) depthMax = depth;
      total += entryCount(segment);
      built.push(segment);
    }
    if (built.length === 0) return;
    if (depthMax > kDirectoryDepthMax) {
      throw new FrostError(ErrorCode.tableFull, `loaded segment depth ${depthMax} exceeds the directory limit`);
    }
    const directory = new Int32Array(2 ** depthMax).fill(-1);
    built.forEach((segment, index) => {
      segment.idx = index;
      const depth = segment.meta[kMetaLocalDepth] as number;
      const prefix = segment.meta[kMetaPrefix] as number;
      const span = 2 ** (depthMax - depth);
      const start = prefix * span;
      for (let i = start; i < start + span; i++) {
        if (directory[i] !== -1) throw new FrostError(ErrorCode.loadLayout, `segments overlap at directory slot ${i}`);
        directory[i] = index;
      }
    });
    for (let i = 0; i < directory.length; i++) {
      if (directory[i] === -1) throw new FrostError(ErrorCode.loadLayout, `no segment covers directory slot ${i}`);
    }
    for (const segment of this.segments) this.retire(segment, this.gen);
    this.segments = built;
    this.directory = directory;
    this.globalDepth = depthMax;
    this.count = total;
  }

  // ---------------------------------------------------------------- stats

  stats(): TableStats {
    let blobBytes = 0;
    for (const segment of this.segments) {
      if (segment.blobs !== null) for (const blob of segment.blobs.values()) blobBytes += blob.byteLength;
    }
    return {
      entryCount: this.count,
      segmentCount: this.segments.length,
      directoryDepth: this.globalDepth,
      dataBytes: this.segments.length * (kMetaBytes + kHeapBytes) + blobBytes,
      blobBytes,
      cowBytesNow: this.cowBytes,
      cowBytesPeak: this.cowBytesPeak,
      cowCopyCount: this.cowCopyCount,
      activeFrozenCount: this.active.length,
      generation: this.gen,
    };
  }

  /** Internal consistency check for tests: directory, counts and slot placement agree. */
  checkInvariants(): void {
    let total = 0;
    for (let i = 0; i < this.directory.length; i++) {
      const segment = this.segments[this.directory[i] as number];
      assert(segment !== undefined, `directory slot ${i} points nowhere`);
      const depth = segment.meta[kMetaLocalDepth] as number;
      const prefix = segment.meta[kMetaPrefix] as number;
      assert(depth <= this.globalDepth, 'local depth above global depth');
      const expected = depth === 0 ? 0 : Math.floor(i / 2 ** (this.globalDepth - depth));
      assert(expected === prefix, `directory slot ${i} maps to a segment with the wrong prefix`);
    }
    for (const segment of this.segments) {
      assert(!segment.freed && segment.diedGen === Number.POSITIVE_INFINITY, 'a live segment is retired');
      const n = forEachRecord(segment, () => undefined);
      assert(n === entryCount(segment), 'entry count disagrees with the slot array');
      total += n;
    }
    assert(total === this.count, `table count ${this.count} disagrees with segments ${total}`);
    assert(kSlotCount > kSlotsUsedMax, 'slot limit');
    for (const frozen of this.active) this.checkFrozen(frozen);
    if (this.active.length === 0 && this.graveyard.length === 0) {
      assert(this.cowBytes === 0, `${this.cowBytes} copy-on-write bytes counted with no frozen generation held`);
    }
  }

  /**
   * Invariants of a held frozen generation (O(segments); tests and the save simulation run it
   * at every cut and between steps). Every segment it has not finished is still intact: not
   * freed (so its buffers cannot have gone back to the pool), at its own index, alive at the
   * generation's cut. While none is finished, their (depth, prefix) pairs tile the hash space.
   */
  checkFrozen(frozen: FrozenTable): void {
    assert(!frozen.isReleased && this.active.includes(frozen), 'checked a frozen generation this table does not hold');
    const blocks: BlockList = [];
    let finished = 0;
    for (let i = 0; i < frozen.segments.length; i++) {
      const segment = frozen.segments[i] as Segment;
      if (frozen.isDone(i)) {
        finished++;
        continue;
      }
      assert(!segment.freed, `frozen generation ${frozen.gen}: unfinished segment ${i} was freed`);
      assert(segment.idx === i, `frozen generation ${frozen.gen}: segment ${i} thinks it is at ${segment.idx}`);
      assert(segment.bornGen <= frozen.gen && frozen.gen < segment.diedGen, `frozen generation ${frozen.gen}: segment ${i} was not alive at the cut`);
      assert(segment.meta[kMetaMagic] === kMetaMagicValue, `frozen generation ${frozen.gen}: segment ${i} has lost its magic`);
      blocks.push(segment.meta[kMetaLocalDepth] as number, segment.meta[kMetaPrefix] as number);
    }
    if (finished === 0) {
      const problem = tilingProblem(blocks);
      assert(problem === null, `frozen generation ${frozen.gen}: ${problem ?? ''}`);
    }
  }

  /** Frozen generations not yet released (for tests and status). */
  get activeFrozenCount(): number {
    return this.active.length;
  }
}

/**
 * Buffer#utf8Slice: what Buffer#toString('utf8', start, end) calls after checking its
 * arguments; called directly on the hot read path (41 ns against 48 ns for 64 bytes).
 */
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice: (this: Buffer, start: number, end: number) => string }).utf8Slice;

export function copyOut(bytes: Uint8Array, offset: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  if (length <= 48) {
    for (let i = 0; i < length; i++) out[i] = bytes[offset + i] as number;
  } else {
    out.set(bytes.subarray(offset, offset + length));
  }
  return out;
}

export class KeyCursor {
  private readonly frozen: FrozenTable;
  private segment = 0;
  private slot = 0;
  private closed = false;
  /** Keys in the frozen generation (what the cursor yields in all). */
  readonly total: number;

  constructor(frozen: FrozenTable) {
    this.frozen = frozen;
    this.total = frozen.liveEntryCount();
  }

  /** Up to `max` more keys (copies); empty when done. */
  next(max: number): Buffer[] {
    const out: Buffer[] = [];
    const segments = this.frozen.segments;
    while (!this.closed && out.length < max && this.segment < segments.length) {
      const segment = segments[this.segment] as Segment;
      const meta = segment.meta;
      while (this.slot < kSlotCount && out.length < max) {
        const slot = meta[kMetaHeaderWords + this.slot] as number;
        this.slot++;
        if (slot === 0) continue;
        readRecord(segment, slotOffset(slot));
        if (record.expiresAtMs !== 0 && record.expiresAtMs <= this.frozen.cutMs) continue;
        out.push(copyOut(record.bytes, record.keyOffset, record.keyLength));
      }
      if (this.slot === kSlotCount) {
        this.frozen.markDone(this.segment);
        this.frozen.reclaimDone(this.segment, this.segment + 1);
        this.segment++;
        this.slot = 0;
      }
    }
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.frozen.release();
  }
}

/**
 * Visit every record of a segment (up to `limit`); the record cursor is valid in `visit`.
 * With `nowMs`, records whose expiry time is at or before it are skipped (not counted).
 */
export function forEachRecord(segment: SegmentView, visit: () => void, limit = Number.POSITIVE_INFINITY, nowMs = Number.NEGATIVE_INFINITY): number {
  let seen = 0;
  const meta = segment.meta;
  for (let i = 0; i < kSlotCount && seen < limit; i++) {
    const slot = meta[kMetaHeaderWords + i] as number;
    if (slot === 0) continue;
    readRecord(segment, slotOffset(slot));
    if (record.expiresAtMs !== 0 && record.expiresAtMs <= nowMs) continue;
    visit();
    seen++;
  }
  return seen;
}

export { kSegmentStatusDone };
