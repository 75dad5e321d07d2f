/**
 * Rebuilding segment views from shared buffers on the receiving side of a worker message.
 *
 * Guarantees: the views alias the sender's SharedArrayBuffers (zero copy); nothing here
 * writes to them.
 */

import type { FrozenSegmentWire } from './generation.js';
import type { SegmentView } from './segment.js';

export function viewFromWire(wire: FrozenSegmentWire): SegmentView {
  return {
    meta: new Uint32Array(wire.meta),
    heap8: new Uint8Array(wire.heap),
    heap32: new Uint32Array(wire.heap),
    heapBuffer: Buffer.from(wire.heap),
    blobs: wire.blobs === null ? null : new Map(wire.blobs),
  };
}
