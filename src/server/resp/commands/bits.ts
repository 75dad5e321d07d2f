/**
 * RESP bitmap commands on string values (Redis 7.0 semantics): SETBIT GETBIT BITCOUNT BITPOS
 * BITOP. Bit 0 is the most significant bit of byte 0, as in Redis.
 *
 * Guarantees:
 * - Arguments are checked in Redis's order with its texts; a bit offset at or past Redis's
 *   512 MB string limit is "bit offset is not an integer or out of range", and a string that
 *   SETBIT would grow past the table's value limit is the table's own limit error.
 * - SETBIT keeps the key's expiry and writes nothing when the bit already had the value; BITOP
 *   replaces the destination (any type, expiry dropped) or deletes it when every source is
 *   empty or missing.
 * - Ranges (BITCOUNT, BITPOS) are inclusive, negative from the end, in bytes unless BIT.
 */

import type { ArgView } from '../../../protocol/args.js';
import { kKeepExpiry, kNoExpiry, valueView, ValueType } from '../../../engine/value.js';
import { RespText, fail, intArg, parseInt64, type RespCommand } from './context.js';
import { checkGrownLength, copyView, readString } from './string-values.js';
import { keyAt, type CommandDefinition } from './table.js';

/** Redis's proto-max-bulk-len default: bit offsets address at most this many bytes. */
const kRedisStringMaxBytes = 512n * 1024n * 1024n;
const kBitOffsetError = 'ERR bit offset is not an integer or out of range';
const kBitValueError = 'ERR bit is not an integer or out of range';

/** Set bits of each byte value. */
const kPopcount = new Uint8Array(256);
for (let i = 1; i < 256; i++) kPopcount[i] = (i & 1) + (kPopcount[i >> 1] as number);

function bitOffsetArg(q: ArgView, i: number): number {
  const offset = parseInt64(q.argString(i, 'latin1'));
  if (offset === null || offset < 0n || offset >> 3n >= kRedisStringMaxBytes) throw fail(kBitOffsetError);
  return Number(offset);
}

function bitAt(bytes: Uint8Array, offset: number, length: number, bit: number): number {
  const byte = bit >>> 3;
  if (byte >= length) return 0;
  return ((bytes[offset + byte] as number) >> (7 - (bit & 7))) & 1;
}

const setbit: RespCommand = (ctx, q) => {
  const bit = bitOffsetArg(q, 2);
  const on = intArg(q, 3, kBitValueError);
  if (on !== 0n && on !== 1n) throw fail(kBitValueError);
  const t = ctx.table();
  t.checkWritable();
  const byte = Math.floor(bit / 8);
  const found = t.getRange(q.buffer, q.offset(1), q.length(1));
  const oldLength = found ? valueView.length : 0;
  const old = found ? bitAt(valueView.bytes, valueView.offset, valueView.length, bit) : 0;
  const grows = !found || byte >= oldLength;
  if (grows) checkGrownLength(ctx, BigInt(byte + 1));
  if (grows || old !== Number(on)) {
    const next = Buffer.alloc(Math.max(oldLength, byte + 1));
    if (found) next.set(valueView.bytes.subarray(valueView.offset, valueView.offset + oldLength), 0);
    const mask = 1 << (7 - (bit & 7));
    next[byte] = on === 1n ? (next[byte] as number) | mask : (next[byte] as number) & ~mask;
    t.writeRange('upsert', q.buffer, q.offset(1), q.length(1), next, 0, next.length, kKeepExpiry);
  }
  ctx.w.integer(old);
};

const getbit: RespCommand = (ctx, q) => {
  const bit = bitOffsetArg(q, 2);
  if (!readString(ctx, q, 1)) return ctx.w.integer(0);
  ctx.w.integer(bitAt(valueView.bytes, valueView.offset, valueView.length, bit));
};

/** BYTE (false) or BIT (true) at argument `i`, else a syntax error. */
function bitUnitArg(q: ArgView, i: number): boolean {
  if (q.argIs(i, 'BIT')) return true;
  if (q.argIs(i, 'BYTE')) return false;
  throw fail(RespText.syntax);
}

/** An inclusive range of `total` units made absolute and clamped as Redis does; empty when first > last. */
function clampRange(start: bigint, end: bigint, total: bigint): [bigint, bigint] {
  if (start < 0n) start += total;
  if (end < 0n) end += total;
  if (start < 0n) start = 0n;
  if (end < 0n) end = 0n;
  if (end >= total) end = total - 1n;
  return [start, end];
}

/** Set bits in bits [first, last] of the found value. */
function countBits(first: number, last: number): number {
  const { bytes, offset } = valueView;
  let count = 0;
  let bit = first;
  while (bit <= last && (bit & 7) !== 0) count += bitAt(bytes, offset, valueView.length, bit++);
  for (; bit + 7 <= last; bit += 8) count += kPopcount[bytes[offset + (bit >>> 3)] as number] as number;
  while (bit <= last) count += bitAt(bytes, offset, valueView.length, bit++);
  return count;
}

/** BITCOUNT key [start end [BYTE|BIT]]: a missing key is 0 whatever the arguments. */
const bitcount: RespCommand = (ctx, q) => {
  if (!readString(ctx, q, 1)) return ctx.w.integer(0);
  const length = BigInt(valueView.length);
  if (q.count === 2) return ctx.w.integer(countBits(0, valueView.length * 8 - 1));
  if (q.count !== 4 && q.count !== 5) throw fail(RespText.syntax);
  const start = intArg(q, 2);
  const end = intArg(q, 3);
  if (start < 0n && end < 0n && start > end) return ctx.w.integer(0);
  const inBits = q.count === 5 && bitUnitArg(q, 4);
  const [first, last] = clampRange(start, end, inBits ? length * 8n : length);
  if (first > last) return ctx.w.integer(0);
  ctx.w.integer(inBits ? countBits(Number(first), Number(last)) : countBits(Number(first) * 8, Number(last) * 8 + 7));
};

/** The first bit equal to `wanted` in bits [first, last] of the found value, or -1. */
function findBit(wanted: number, first: number, last: number): number {
  const { bytes, offset } = valueView;
  const skip = wanted === 1 ? 0x00 : 0xff;
  let bit = first;
  while (bit <= last) {
    if ((bit & 7) === 0 && bit + 7 <= last && bytes[offset + (bit >>> 3)] === skip) {
      bit += 8;
      continue;
    }
    if (bitAt(bytes, offset, valueView.length, bit) === wanted) return bit;
    bit++;
  }
  return -1;
}

/** BITPOS key bit [start [end [BYTE|BIT]]]: without an end, a clear bit is found past the string. */
const bitpos: RespCommand = (ctx, q) => {
  const wanted = intArg(q, 2);
  if (wanted !== 0n && wanted !== 1n) throw fail('ERR The bit argument must be 1 or 0.');
  if (!readString(ctx, q, 1)) return ctx.w.integer(wanted === 1n ? -1 : 0);
  if (q.count > 6) throw fail(RespText.syntax);
  const length = BigInt(valueView.length);
  const start = q.count >= 4 ? intArg(q, 3) : 0n;
  const inBits = q.count === 6 && bitUnitArg(q, 5);
  const endGiven = q.count >= 5;
  const end = endGiven ? intArg(q, 4) : -1n;
  const [first, last] = clampRange(start, end, inBits ? length * 8n : length);
  if (first > last) return ctx.w.integer(-1);
  const firstBit = inBits ? Number(first) : Number(first) * 8;
  const lastBit = inBits ? Number(last) : Number(last) * 8 + 7;
  const found = findBit(Number(wanted), firstBit, lastBit);
  if (found >= 0 || wanted === 1n || endGiven) return ctx.w.integer(found);
  ctx.w.integer(lastBit + 1);
};

type BitOp = 'and' | 'or' | 'xor' | 'not';

function bitOpArg(q: ArgView): BitOp {
  for (const op of ['and', 'or', 'xor', 'not'] as const) if (q.argIs(1, op)) return op;
  throw fail(RespText.syntax);
}

function combine(op: BitOp, sources: readonly Buffer[], length: number): Buffer {
  const out = Buffer.alloc(length);
  const firstSource = sources[0] as Buffer;
  firstSource.copy(out, 0);
  if (op === 'not') {
    for (let j = 0; j < length; j++) out[j] = ~(out[j] as number) & 0xff;
    return out;
  }
  for (const source of sources.slice(1)) {
    for (let j = 0; j < length; j++) {
      const byte = j < source.length ? (source[j] as number) : 0;
      const cur = out[j] as number;
      out[j] = op === 'and' ? cur & byte : op === 'or' ? cur | byte : cur ^ byte;
    }
  }
  return out;
}

/** BITOP op destkey key [key ...]: the destination's new length. */
const bitop: RespCommand = (ctx, q) => {
  const op = bitOpArg(q);
  if (op === 'not' && q.count !== 4) throw fail('ERR BITOP NOT must be called with a single source key.');
  const t = ctx.table();
  t.checkWritable();
  const sources: Buffer[] = [];
  let length = 0;
  for (let i = 3; i < q.count; i++) {
    const source = t.findRange(q.buffer, q.offset(i), q.length(i)) ? sourceOf() : Buffer.alloc(0);
    sources.push(source);
    length = Math.max(length, source.length);
  }
  if (length === 0) t.deleteRange(q.buffer, q.offset(2), q.length(2));
  else {
    const result = combine(op, sources, length);
    t.writeRange('upsert', q.buffer, q.offset(2), q.length(2), result, 0, length, kNoExpiry);
  }
  ctx.w.integer(length);
};

/** The found value as a BITOP source: a string, else WRONGTYPE. */
function sourceOf(): Buffer {
  if (valueView.type !== ValueType.string) throw fail(RespText.wrongType);
  return copyView();
}

const kBitmapAcl = ['bitmap'] as const;

function bitCommand(name: string, arity: number, flags: CommandDefinition['flags'], keys: CommandDefinition['keys'], run: RespCommand): CommandDefinition {
  return { name, arity, flags, group: 'bitmap', acl: kBitmapAcl, keys, run };
}

export const kBitCommands: readonly CommandDefinition[] = [
  bitCommand('setbit', 4, ['write', 'denyoom'], keyAt(1, ['RW', 'access', 'update']), setbit),
  bitCommand('getbit', 3, ['readonly', 'fast'], keyAt(1, ['RO', 'access']), getbit),
  bitCommand('bitcount', -2, ['readonly'], keyAt(1, ['RO', 'access']), bitcount),
  bitCommand('bitpos', -3, ['readonly'], keyAt(1, ['RO', 'access']), bitpos),
  // Redis's two key specs: the destination (OW), then every source (RO); legacy keys 2..-1.
  {
    ...bitCommand('bitop', -4, ['write', 'denyoom'], keyAt(2, ['OW', 'update'], -1), bitop),
    keySpecs: [keyAt(2, ['OW', 'update']), keyAt(3, ['RO', 'access'], -1)],
  },
];
