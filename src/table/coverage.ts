/**
 * Hash-space coverage. A table's segments tile the 32-bit hash space: a segment of local depth
 * `d` and prefix `p` holds the keys whose hash starts with the `d` bits of `p`, the range
 * [p * 2^(32-d), (p + 1) * 2^(32-d)). A frozen generation's segment list, and the blocks of a
 * save (one block per segment at the cut), must cover [0, 2^32) exactly once: a missing
 * segment leaves a gap, a segment taken twice an overlap.
 *
 * Guarantees: `tilingProblem` is exact for every depth 0..32 and costs O(n log n) for n
 * blocks; it allocates one Float64Array of n entries. Nothing here allocates shared memory.
 */

export const kHashSpaceSize = 2 ** 32;
export const kBlockDepthMax = 32;

/** Flattened blocks: [depth0, prefix0, depth1, prefix1, ...] (small to send between threads). */
export type BlockList = number[];

/** Why `blocks` do not tile the hash space exactly once, or null when they do. */
export function tilingProblem(blocks: BlockList): string | null {
  const count = blocks.length >>> 1;
  if (count === 0) return 'no blocks: the hash space is not covered at all';
  // Sort keys: start * 64 + depth is exact in a double (start < 2^32, depth <= 32 < 64).
  const keys = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const depth = blocks[2 * i] as number;
    const prefix = blocks[2 * i + 1] as number;
    if (!Number.isInteger(depth) || depth < 0 || depth > kBlockDepthMax || !Number.isInteger(prefix) || prefix < 0 || prefix >= 2 ** depth) {
      return `block ${i} has an impossible depth ${depth} / prefix ${prefix}`;
    }
    keys[i] = prefix * 2 ** (kBlockDepthMax - depth) * 64 + depth;
  }
  keys.sort();
  let expected = 0;
  for (let i = 0; i < count; i++) {
    const key = keys[i] as number;
    const depth = key % 64;
    const start = (key - depth) / 64;
    if (start > expected) return `hash range ${hex(expected)}..${hex(start - 1)} is in no block (a segment is missing)`;
    if (start < expected) return `hash ${hex(start)} is in two blocks (a segment appears twice)`;
    expected = start + 2 ** (kBlockDepthMax - depth);
  }
  if (expected !== kHashSpaceSize) return `hash range ${hex(expected)}..ffffffff is in no block (a segment is missing)`;
  return null;
}

function hex(value: number): string {
  return value.toString(16).padStart(8, '0');
}

/** Whether a record's hash lies in the block (depth, prefix). */
export function hashInBlock(hash: number, depth: number, prefix: number): boolean {
  // `>>> 32` is `>>> 0` in JavaScript, so depth 0 (the whole space) is its own case.
  return depth === 0 || hash >>> (kBlockDepthMax - depth) === prefix;
}
