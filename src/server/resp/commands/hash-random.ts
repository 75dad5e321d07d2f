/**
 * HRANDFIELD key [count [WITHVALUES]] with Redis 7.0's checks, texts and reply shapes: no
 * count answers one field (nil for a missing key); with a count an array (empty for a missing
 * key or a count of 0), WITHVALUES flat in RESP2 and [field, value] pairs in RESP3.
 *
 * Guarantees:
 * - A positive count answers min(count, size) distinct fields. A negative count answers
 *   |count| fields, repeats allowed, each drawn independently.
 * - A count on a large hash never copies the whole hash unless the answer is most of it
 *   anyway: when count * kSubtractStrategyFactor > size the hash is copied and shuffled (as
 *   Redis's "copy and remove" case, O(n)); otherwise fields are drawn one at a time with
 *   hashRandomField and kept once each, and if kDrawsPerField draws per field wanted did not
 *   find enough distinct ones (the engine's draw is not exactly uniform) the rest are taken in
 *   hash order from a random position, skipping fields already chosen. Either way it ends and
 *   the fields are distinct.
 * - A negative count past kRepeatedFieldsMax is refused (frostkv's bound; Redis has none and
 *   would build the whole reply in memory).
 */

import type { TableHandle } from '../../../engine/handle.js';
import { RespText, fail, intArg, type RespCommand, type RespContext } from './context.js';
import { readHash } from './hash-lookup.js';
import { keyAt, type CommandDefinition } from './table.js';

/** C's LONG_MAX: Redis takes the count as a long in [-LONG_MAX, LONG_MAX]. */
const kLongMax = 2n ** 63n - 1n;
/** With WITHVALUES the reply has two items per field, so Redis refuses |count| past LONG_MAX / 2. */
const kWithValuesCountMax = kLongMax / 2n;
/** frostkv answers at most this many fields for a negative count (a bound on the reply's memory). */
export const kRepeatedFieldsMax = 1_000_000;
/** Redis's HRANDFIELD_SUB_STRATEGY_MUL: past size / 3 fields wanted, copy the hash and shuffle it. */
const kSubtractStrategyFactor = 3;
/** Random draws allowed per distinct field wanted before the rest come from a hash-order walk. */
const kDrawsPerField = 8;
/** A random starting point in the 32-bit hash space of field cursors. */
const kCursorSpace = 2 ** 32;

type Pair = [Buffer, Buffer];

function writeField(ctx: RespContext, withValues: boolean, [field, value]: Pair): void {
  if (withValues && ctx.w.protocol === 3) ctx.w.array(2);
  ctx.w.bulk(field);
  if (withValues) ctx.w.bulk(value);
}

function writeHeader(ctx: RespContext, withValues: boolean, fields: number): void {
  ctx.w.array(withValues && ctx.w.protocol === 2 ? fields * 2 : fields);
}

/** The first `count` entries of `pairs` after a partial Fisher-Yates shuffle (in place). */
function shuffledPrefix(pairs: Pair[], count: number): Pair[] {
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(Math.random() * (pairs.length - i));
    const swap = pairs[i] as Pair;
    pairs[i] = pairs[j] as Pair;
    pairs[j] = swap;
  }
  return pairs.slice(0, count);
}

/** `count` distinct fields of a large hash holding far more, without copying it (header). */
function sampleDistinct(t: TableHandle, key: Buffer, count: number): Pair[] {
  const chosen = new Map<string, Pair>();
  const take = (pair: Pair): void => {
    const name = pair[0].toString('latin1');
    if (chosen.size < count && !chosen.has(name)) chosen.set(name, pair);
  };
  for (let draw = 0; draw < count * kDrawsPerField && chosen.size < count; draw++) {
    const pick = t.hashRandomField(key);
    if (pick === undefined) break;
    take(pick);
  }
  // From a random position to the end of the hash space, then from its start: one full pass at most.
  let cursor = Math.floor(Math.random() * kCursorSpace);
  for (let pass = 0; pass < 2 && chosen.size < count; pass++) {
    do cursor = t.hashScan(key, cursor, (field, value) => take([field, value]));
    while (cursor !== 0 && chosen.size < count);
  }
  return [...chosen.values()];
}

/** |count| fields drawn independently (a negative count). */
function writeRepeated(ctx: RespContext, t: TableHandle, key: Buffer, count: number, withValues: boolean): void {
  if (count > kRepeatedFieldsMax) throw fail(`ERR value is out of range, frostkv answers at most ${kRepeatedFieldsMax} fields for a negative count`);
  writeHeader(ctx, withValues, count);
  if (t.hashIsLarge(key)) {
    for (let i = 0; i < count; i++) writeField(ctx, withValues, t.hashRandomField(key) as Pair);
    return;
  }
  const pairs = t.hashGetAll(key);
  for (let i = 0; i < count; i++) writeField(ctx, withValues, pairs[Math.floor(Math.random() * pairs.length)] as Pair);
}

/** min(count, size) distinct fields (a positive count). */
function writeDistinct(ctx: RespContext, t: TableHandle, key: Buffer, count: number, withValues: boolean): void {
  const size = t.hashLength(key);
  let picked: Pair[];
  if (count >= size) picked = t.hashGetAll(key);
  else if (count * kSubtractStrategyFactor > size || !t.hashIsLarge(key)) picked = shuffledPrefix(t.hashGetAll(key), count);
  else picked = sampleDistinct(t, key, count);
  writeHeader(ctx, withValues, picked.length);
  for (const pair of picked) writeField(ctx, withValues, pair);
}

const hrandfield: RespCommand = (ctx, q) => {
  const t = ctx.table();
  const key = q.arg(1);
  if (q.count === 2) {
    const pick = readHash(ctx, t, q, 1) ? t.hashRandomField(key) : undefined;
    if (pick === undefined) ctx.w.nullBulk();
    else ctx.w.bulk(pick[0]);
    return;
  }
  const n = intArg(q, 2);
  if (n < -kLongMax) throw fail(`ERR value is out of range, value must between ${-kLongMax} and ${kLongMax}`);
  if (q.count > 4 || (q.count === 4 && !q.argIs(3, 'WITHVALUES'))) throw fail(RespText.syntax);
  const withValues = q.count === 4;
  if (withValues && (n < -kWithValuesCountMax || n > kWithValuesCountMax)) throw fail('ERR value is out of range');
  if (!readHash(ctx, t, q, 1) || n === 0n) return ctx.w.array(0);
  // A positive count past any hash's size answers the whole hash: clamping it loses nothing.
  if (n > 0n) return writeDistinct(ctx, t, key, n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n), withValues);
  writeRepeated(ctx, t, key, -n > BigInt(kRepeatedFieldsMax) ? kRepeatedFieldsMax + 1 : Number(-n), withValues);
};

export const kHashRandomCommands: readonly CommandDefinition[] = [
  { name: 'hrandfield', arity: -2, flags: ['readonly'], group: 'hash', acl: ['hash'], keys: keyAt(1, ['RO', 'access']), tips: ['nondeterministic_output'], run: hrandfield },
];
