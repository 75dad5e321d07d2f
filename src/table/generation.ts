/**
 * A frozen generation of one table: the exact segment list at the instant of the cut.
 *
 * Guarantees: while a FrozenTable is held (not released), none of its segments' meta or heap
 * bytes below their cut are written by anyone; the Table copies a segment's slot array before
 * writing to a segment this generation has not finished with. A worker (or a main-thread
 * reader) finishes a segment by storing kSegmentStatusDone into the shared status array with
 * Atomics.store; from then on the main thread may write to that segment in place. `release()`
 * must be called exactly once; it returns buffers nobody else holds to the pool.
 */

import { kMetaBytes, kSegmentStatusDone, kSegmentStatusPending } from './layout.js';
import type { HeapBuffer, MetaBuffer } from './pool.js';
import { entryExpiry, slotOffset, type SegmentView } from './segment.js';
import { kMetaEntryCount, kMetaExpiringCount, kMetaHeaderWords, kMetaHeapUsedBytes, kSlotCount } from './layout.js';
import { assert } from '../util/assert.js';

/** A segment as the main thread tracks it. Fields other than the views are bookkeeping. */
export class Segment implements SegmentView {
  meta: Uint32Array;
  heap8: Uint8Array;
  heap32: Uint32Array;
  heapBuffer: Buffer;
  blobs: Map<number, Uint8Array> | null = null;
  readonly metaBuffer: MetaBuffer;
  readonly heap: HeapBuffer;
  /** Position in the table's live segment array; also its index in every frozen list holding it. */
  idx = 0;
  /** Table generation in which this object became live. */
  readonly bornGen: number;
  /** Generation in which it stopped being live; Infinity while live. */
  diedGen = Number.POSITIVE_INFINITY;
  /**
   * Writes need the copy-on-write check while `cowGen <= table.heldGen`. Raised to the current
   * generation once every frozen generation holding this segment has finished it.
   */
  cowGen: number;
  /**
   * Heap bytes below this offset may be read by a frozen segment sharing the heap (this object
   * was copied on write from it); entries at or past it were appended since and are private.
   * The floor only rises: each copy starts at its source's used bytes.
   */
  sharedHeapFloor = 0;
  /** Retired while held, so its meta (and maybe heap) are counted as copy-on-write bytes. */
  deferred = false;
  freed = false;

  constructor(meta: MetaBuffer, heap: HeapBuffer, gen: number) {
    this.metaBuffer = meta;
    this.heap = heap;
    this.meta = meta.words;
    this.heap8 = heap.bytes;
    this.heap32 = heap.words;
    this.heapBuffer = heap.buffer;
    this.bornGen = gen;
    this.cowGen = gen;
  }
}

/** What a worker needs to read one frozen segment: shared buffers only, zero copy. */
export interface FrozenSegmentWire {
  meta: SharedArrayBuffer;
  heap: SharedArrayBuffer;
  blobs: Array<[number, Uint8Array]> | null;
}

export interface FrozenOwner {
  releaseFrozen(frozen: FrozenTable): void;
  reclaimFrozenRange(frozen: FrozenTable, from: number, to: number): void;
  takeStatus(length: number): Int32Array;
}

export class FrozenTable {
  readonly gen: number;
  readonly segments: readonly Segment[];
  private statusArray: Int32Array | null = null;
  private released = false;
  private readonly owner: FrozenOwner;
  /**
   * Called (by the table) when a write copies a segment this generation has not finished: the
   * save may encode that segment next, so its copy-on-write memory is held briefly.
   */
  onHot: ((index: number) => void) | null = null;

  /** The time the cut is judged at for expiry: records expiring at or before it are not in it. */
  readonly cutMs: number;

  constructor(owner: FrozenOwner, gen: number, segments: readonly Segment[], cutMs: number) {
    this.owner = owner;
    this.gen = gen;
    this.segments = segments;
    this.cutMs = cutMs;
  }

  get isReleased(): boolean {
    return this.released;
  }

  /** The shared status array (allocated on first use, so the cut itself allocates nothing). */
  get status(): Int32Array {
    if (this.statusArray === null) this.statusArray = this.owner.takeStatus(this.segments.length);
    return this.statusArray;
  }

  /** Status array if one exists yet; null means no segment has been finished. */
  peekStatus(): Int32Array | null {
    return this.statusArray;
  }

  isDone(index: number): boolean {
    const status = this.statusArray;
    return status !== null && Atomics.load(status, index) === kSegmentStatusDone;
  }

  /** Main-thread readers finish segments through this (workers store into `status` directly). */
  markDone(index: number): void {
    Atomics.store(this.status, index, kSegmentStatusDone);
  }

  markPending(index: number): void {
    Atomics.store(this.status, index, kSegmentStatusPending);
  }

  /** Entries across all frozen segments: O(segments), read from the frozen meta words. */
  entryCount(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.meta[kMetaEntryCount] as number;
    return total;
  }

  /**
   * Records that are part of the cut: entries minus those whose expiry time is at or before
   * `cutMs`. Reads only segments that hold expiring records. Call it before any segment is
   * done (a done segment may be written in place again).
   */
  liveEntryCount(): number {
    let total = 0;
    for (const segment of this.segments) {
      const meta = segment.meta;
      total += meta[kMetaEntryCount] as number;
      if ((meta[kMetaExpiringCount] as number) === 0) continue;
      for (let i = 0; i < kSlotCount; i++) {
        const slot = meta[kMetaHeaderWords + i] as number;
        if (slot === 0) continue;
        const expiresAtMs = entryExpiry(segment, slotOffset(slot));
        if (expiresAtMs !== 0 && expiresAtMs <= this.cutMs) total--;
      }
    }
    return total;
  }

  /** Bytes a full encode will walk (heap bytes used plus meta), for progress estimates. */
  approximateBytes(): number {
    let total = 0;
    for (const segment of this.segments) total += (segment.meta[kMetaHeapUsedBytes] as number) + kMetaBytes;
    return total;
  }

  wire(index: number): FrozenSegmentWire {
    const segment = this.segments[index];
    assert(segment !== undefined, `frozen segment ${index} out of range`);
    return {
      meta: segment.metaBuffer.sab,
      heap: segment.heap.sab,
      blobs: segment.blobs === null || segment.blobs.size === 0 ? null : [...segment.blobs],
    };
  }

  /**
   * After workers report segments [from, to) done: return the buffers of those that were
   * already replaced in the live table, so copy-on-write memory drops during the save.
   */
  reclaimDone(from: number, to: number): void {
    if (this.released) return;
    this.owner.reclaimFrozenRange(this, from, to);
  }

  release(): void {
    assert(!this.released, 'frozen generation released twice');
    this.released = true;
    this.owner.releaseFrozen(this);
  }
}
