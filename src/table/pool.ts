/**
 * A pool of segment buffers, reused for splits, compaction and copy-on-write.
 *
 * Why: on these machines the first write to a fresh 4 KiB page costs about 13 microseconds,
 * so a brand-new 128 KiB heap costs about 0.4 ms to fill, while a reused one runs at memory
 * speed. Guarantees: a meta buffer handed out has every slot zero (empty); a heap buffer's
 * contents are unspecified (segments never read past their own used bytes). The pool holds at
 * most `maxPooledBytes`; buffers beyond that are dropped for the garbage collector.
 *
 * Reserve: with a refiller attached (a worker task that allocates buffers and touches every
 * page), the pool keeps a reserve of ready buffers and tops it up in the background whenever it
 * falls below half, so splits and copy-on-write on the main thread find warm memory instead of
 * paying for fresh pages. A take that finds the pool empty (the reserve was too small for a
 * burst) doubles the reserve target, up to kReserveMetasMax / kReserveHeapsMax.
 */

import { kHeapBytes, kMetaBytes, kMetaWords } from './layout.js';

export class MetaBuffer {
  readonly sab: SharedArrayBuffer;
  readonly words: Uint32Array;
  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.words = new Uint32Array(sab);
  }
}

export class HeapBuffer {
  readonly sab: SharedArrayBuffer;
  readonly bytes: Uint8Array;
  readonly words: Uint32Array;
  /** A Node Buffer over the same memory, for native UTF-8 decoding and copies. */
  readonly buffer: Buffer;
  /** Segment objects (live or frozen) that reference this heap. */
  refs = 0;
  /** Live segment objects that reference this heap (0 or 1). */
  liveRefs = 0;
  /** Whether the owning table counts this heap as copy-on-write memory (frozen-only). */
  countedAsCow = false;
  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.bytes = new Uint8Array(sab);
    this.words = new Uint32Array(sab);
    this.buffer = Buffer.from(sab);
  }
}

export const kDefaultPoolMaxBytes = 64 * 1024 * 1024;
/** Reserve targets: start small, double on every burst that empties the pool, up to the max. */
export const kReserveMetasInitial = 128;
export const kReserveMetasMax = 2048;
export const kReserveHeapsInitial = 16;
export const kReserveHeapsMax = 128;

/** Allocates pre-touched buffers off the main thread (see workers: 'allocate'). */
export type Refill = (metas: number, heaps: number) => Promise<{ metas: SharedArrayBuffer[]; heaps: SharedArrayBuffer[] }>;

export interface PoolStats {
  pooledBytes: number;
  /** Buffers the background refiller supplied (allocated and touched off the main thread). */
  refilledMetaCount: number;
  refilledHeapCount: number;
  reserveMetas: number;
  reserveHeaps: number;
  freshMetaCount: number;
  freshHeapCount: number;
  reusedMetaCount: number;
  reusedHeapCount: number;
}

export class BufferPool {
  readonly maxPooledBytes: number;
  private readonly metas: MetaBuffer[] = [];
  private readonly heaps: HeapBuffer[] = [];
  private pooledBytes = 0;
  private freshMetaCount = 0;
  private freshHeapCount = 0;
  private reusedMetaCount = 0;
  private reusedHeapCount = 0;
  private refill: Refill | null = null;
  private refilling = false;
  private pendingRefill: Promise<void> = Promise.resolve();
  private reserveMetas = kReserveMetasInitial;
  private reserveHeaps = kReserveHeapsInitial;
  private refilledMetaCount = 0;
  private refilledHeapCount = 0;

  constructor(maxPooledBytes = kDefaultPoolMaxBytes) {
    this.maxPooledBytes = maxPooledBytes;
  }

  /** Keep a warm reserve from now on, allocated by `refill` (off the main thread). */
  attachRefill(refill: Refill): Promise<void> {
    this.refill = refill;
    return this.topUp();
  }

  /** Stop refilling; resolves once a refill in flight has landed (before its workers go away). */
  detachRefill(): Promise<void> {
    this.refill = null;
    return this.pendingRefill;
  }

  private topUp(): Promise<void> {
    if (this.refill === null || this.refilling) return Promise.resolve();
    const metas = Math.max(0, this.reserveMetas - this.metas.length);
    const heaps = Math.max(0, this.reserveHeaps - this.heaps.length);
    if (metas === 0 && heaps === 0) return Promise.resolve();
    this.refilling = true;
    this.pendingRefill = this.refill(metas, heaps)
      .then((made) => {
        for (const sab of made.metas) {
          if (this.pooledBytes + kMetaBytes > this.maxPooledBytes) break;
          this.pooledBytes += kMetaBytes;
          this.metas.push(new MetaBuffer(sab));
          this.refilledMetaCount++;
        }
        for (const sab of made.heaps) {
          if (this.pooledBytes + kHeapBytes > this.maxPooledBytes) break;
          this.pooledBytes += kHeapBytes;
          this.heaps.push(new HeapBuffer(sab));
          this.refilledHeapCount++;
        }
      })
      .catch(() => {
        // A failed refill (the pool is shutting down) only means takes allocate in place.
      })
      .finally(() => {
        this.refilling = false;
      });
    return this.pendingRefill;
  }

  private afterTake(metaShortage: boolean, heapShortage: boolean): void {
    if (this.refill === null) return;
    if (metaShortage) this.reserveMetas = Math.min(kReserveMetasMax, this.reserveMetas * 2);
    if (heapShortage) this.reserveHeaps = Math.min(kReserveHeapsMax, this.reserveHeaps * 2);
    if (this.metas.length < this.reserveMetas / 2 || this.heaps.length < this.reserveHeaps / 2) void this.topUp();
  }

  takeMeta(): MetaBuffer {
    const reused = this.metas.pop();
    if (reused !== undefined) {
      this.pooledBytes -= kMetaBytes;
      this.reusedMetaCount++;
      reused.words.fill(0, 0, kMetaWords);
      if (this.refill !== null && this.metas.length < this.reserveMetas / 2) this.afterTake(false, false);
      return reused;
    }
    this.freshMetaCount++;
    this.afterTake(true, false);
    return new MetaBuffer(new SharedArrayBuffer(kMetaBytes));
  }

  giveMeta(meta: MetaBuffer): void {
    if (this.pooledBytes + kMetaBytes > this.maxPooledBytes) return;
    this.pooledBytes += kMetaBytes;
    this.metas.push(meta);
  }

  takeHeap(): HeapBuffer {
    const reused = this.heaps.pop();
    if (reused !== undefined) {
      this.pooledBytes -= kHeapBytes;
      this.reusedHeapCount++;
      reused.refs = 0;
      reused.liveRefs = 0;
      reused.countedAsCow = false;
      if (this.refill !== null && this.heaps.length < this.reserveHeaps / 2) this.afterTake(false, false);
      return reused;
    }
    this.freshHeapCount++;
    this.afterTake(false, true);
    return new HeapBuffer(new SharedArrayBuffer(kHeapBytes));
  }

  giveHeap(heap: HeapBuffer): void {
    if (this.pooledBytes + kHeapBytes > this.maxPooledBytes) return;
    this.pooledBytes += kHeapBytes;
    this.heaps.push(heap);
  }

  /** Adopt buffers built elsewhere (a loading worker) without counting them as fresh here. */
  adoptHeap(sab: SharedArrayBuffer): HeapBuffer {
    return new HeapBuffer(sab);
  }

  adoptMeta(sab: SharedArrayBuffer): MetaBuffer {
    return new MetaBuffer(sab);
  }

  stats(): PoolStats {
    return {
      pooledBytes: this.pooledBytes,
      refilledMetaCount: this.refilledMetaCount,
      refilledHeapCount: this.refilledHeapCount,
      reserveMetas: this.reserveMetas,
      reserveHeaps: this.reserveHeaps,
      freshMetaCount: this.freshMetaCount,
      freshHeapCount: this.freshHeapCount,
      reusedMetaCount: this.reusedMetaCount,
      reusedHeapCount: this.reusedHeapCount,
    };
  }
}
