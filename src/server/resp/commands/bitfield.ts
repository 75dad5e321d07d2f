/**
 * BITFIELD key [GET type offset] [SET type offset value] [INCRBY type offset incr]
 * [OVERFLOW WRAP|SAT|FAIL] ... and BITFIELD_RO key [GET type offset] ... (Redis 7.0): signed
 * (i1..i64) and unsigned (u1..u63) integers at any bit offset of a string value.
 *
 * Guarantees:
 * - Every operation is parsed and checked (Redis's texts, in its order) before any runs; a
 *   refused command changes nothing.
 * - Operations run in order on one copy of the value; the value is written once at the end,
 *   keeping its expiry, when it grew (a write op pads or creates it, as Redis does) or changed.
 * - OVERFLOW applies to the SET/INCRBY operations after it: WRAP (two's complement), SAT
 *   (clamped), FAIL (that operation answers nil and changes nothing); arithmetic is exact.
 */

import type { ArgView } from '../../../protocol/args.js';
import { kKeepExpiry, valueView } from '../../../engine/value.js';
import { RespText, fail, intArg, parseInt64, type RespCommand, type RespContext } from './context.js';
import { checkGrownLength } from './string-values.js';
import { keyAt, type CommandDefinition } from './table.js';

/** Redis's proto-max-bulk-len default: offsets address at most this many bytes. */
const kRedisStringMaxBytes = 512n * 1024n * 1024n;
const kTypeError = 'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.';
const kSignedMaxBits = 64n;
const kUnsignedMaxBits = 63n;

type Overflow = 'wrap' | 'sat' | 'fail';

interface FieldOp {
  readonly kind: 'get' | 'set' | 'incrby';
  readonly signed: boolean;
  readonly bits: number;
  readonly offset: number;
  readonly value: bigint;
  readonly overflow: Overflow;
}

function fieldType(q: ArgView, i: number): { signed: boolean; bits: number } {
  const text = q.argString(i, 'latin1');
  const signed = text.startsWith('i');
  if (!signed && !text.startsWith('u')) throw fail(kTypeError);
  const bits = parseInt64(text.slice(1));
  if (bits === null || bits < 1n || bits > (signed ? kSignedMaxBits : kUnsignedMaxBits)) throw fail(kTypeError);
  return { signed, bits: Number(bits) };
}

/** A bit offset, or `#n` for the n-th field of this width. */
function fieldOffset(q: ArgView, i: number, bits: number): number {
  const text = q.argString(i, 'latin1');
  const indexed = text.startsWith('#');
  const parsed = parseInt64(indexed ? text.slice(1) : text);
  const offset = parsed === null ? null : indexed ? parsed * BigInt(bits) : parsed;
  if (offset === null || offset < 0n || offset >> 3n >= kRedisStringMaxBytes) throw fail('ERR bit offset is not an integer or out of range');
  return Number(offset);
}

function overflowArg(q: ArgView, i: number): Overflow {
  for (const mode of ['wrap', 'sat', 'fail'] as const) if (q.argIs(i, mode)) return mode;
  throw fail('ERR Invalid OVERFLOW type specified');
}

function parseOps(q: ArgView): FieldOp[] {
  const ops: FieldOp[] = [];
  let overflow: Overflow = 'wrap';
  for (let j = 2; j < q.count; j++) {
    const remaining = q.count - j - 1;
    let kind: FieldOp['kind'];
    if (q.argIs(j, 'GET') && remaining >= 2) kind = 'get';
    else if (q.argIs(j, 'SET') && remaining >= 3) kind = 'set';
    else if (q.argIs(j, 'INCRBY') && remaining >= 3) kind = 'incrby';
    else if (q.argIs(j, 'OVERFLOW') && remaining >= 1) {
      overflow = overflowArg(q, ++j);
      continue;
    } else throw fail(RespText.syntax);
    const { signed, bits } = fieldType(q, j + 1);
    const offset = fieldOffset(q, j + 2, bits);
    const value = kind === 'get' ? 0n : intArg(q, j + 3);
    ops.push({ kind, signed, bits, offset, value, overflow });
    j += kind === 'get' ? 2 : 3;
  }
  return ops;
}

function readField(bytes: Uint8Array, op: FieldOp): bigint {
  let value = 0n;
  for (let i = 0; i < op.bits; i++) {
    const bit = op.offset + i;
    const byte = bit >>> 3;
    const set = byte < bytes.length && (((bytes[byte] as number) >> (7 - (bit & 7))) & 1) === 1;
    value = (value << 1n) | (set ? 1n : 0n);
  }
  return op.signed ? BigInt.asIntN(op.bits, value) : value;
}

function writeField(bytes: Uint8Array, op: FieldOp, value: bigint): void {
  const raw = BigInt.asUintN(op.bits, value);
  for (let i = 0; i < op.bits; i++) {
    const bit = op.offset + i;
    const mask = 1 << (7 - (bit & 7));
    const on = ((raw >> BigInt(op.bits - 1 - i)) & 1n) === 1n;
    bytes[bit >>> 3] = on ? (bytes[bit >>> 3] as number) | mask : (bytes[bit >>> 3] as number) & ~mask;
  }
}

/** The value a SET/INCRBY stores under its OVERFLOW mode, or null when it fails. */
function settle(op: FieldOp, wanted: bigint): bigint | null {
  const min = op.signed ? -(1n << BigInt(op.bits - 1)) : 0n;
  const max = op.signed ? (1n << BigInt(op.bits - 1)) - 1n : (1n << BigInt(op.bits)) - 1n;
  if (wanted >= min && wanted <= max) return wanted;
  if (op.overflow === 'fail') return null;
  if (op.overflow === 'sat') return wanted > max ? max : min;
  return op.signed ? BigInt.asIntN(op.bits, wanted) : BigInt.asUintN(op.bits, wanted);
}

/** Run one SET/INCRBY on `bytes`; the reply value (null: failed) and whether the field changed. */
function apply(bytes: Uint8Array, op: FieldOp): { reply: bigint | null; changed: boolean } {
  const old = readField(bytes, op);
  // SET of an unsigned field takes the value as C's uint64 (SET u8 0 -1 is 2^64-1, then wrapped).
  const wanted = op.kind === 'incrby' ? old + op.value : op.signed ? op.value : BigInt.asUintN(64, op.value);
  const next = settle(op, wanted);
  if (next === null) return { reply: null, changed: false };
  writeField(bytes, op, next);
  return { reply: op.kind === 'incrby' ? next : old, changed: next !== old };
}

function writeReplies(ctx: RespContext, replies: ReadonlyArray<bigint | null>): void {
  ctx.w.array(replies.length);
  for (const reply of replies) {
    if (reply === null) ctx.w.nullBulk();
    else ctx.w.integer(reply);
  }
}

function bitfieldCommand(readOnly: boolean): RespCommand {
  return (ctx, q) => {
    const ops = parseOps(q);
    const t = ctx.table();
    const writes = ops.filter((op) => op.kind !== 'get');
    if (writes.length === 0) {
      const found = t.getRange(q.buffer, q.offset(1), q.length(1));
      const bytes = found ? valueView.bytes.subarray(valueView.offset, valueView.offset + valueView.length) : new Uint8Array(0);
      return writeReplies(ctx, ops.map((op) => readField(bytes, op)));
    }
    if (readOnly) throw fail('ERR BITFIELD_RO only supports the GET subcommand');
    t.checkWritable();
    const lastBit = Math.max(...writes.map((op) => op.offset + op.bits - 1));
    const found = t.getRange(q.buffer, q.offset(1), q.length(1));
    const oldLength = found ? valueView.length : 0;
    const length = Math.max(oldLength, (lastBit >>> 3) + 1);
    if (length > oldLength) checkGrownLength(ctx, BigInt(length));
    const bytes = Buffer.alloc(length);
    if (found) bytes.set(valueView.bytes.subarray(valueView.offset, valueView.offset + oldLength), 0);
    let changed = length > oldLength;
    const replies = ops.map((op) => {
      if (op.kind === 'get') return readField(bytes, op);
      const result = apply(bytes, op);
      changed ||= result.changed;
      return result.reply;
    });
    if (changed) t.writeRange('upsert', q.buffer, q.offset(1), q.length(1), bytes, 0, length, kKeepExpiry);
    writeReplies(ctx, replies);
  };
}

export const kBitfieldCommands: readonly CommandDefinition[] = [
  {
    name: 'bitfield', arity: -2, flags: ['write', 'denyoom'], group: 'bitmap', acl: ['bitmap'],
    keys: keyAt(1, ['RW', 'access', 'update', 'variable_flags']), run: bitfieldCommand(false),
  },
  {
    name: 'bitfield_ro', arity: -2, flags: ['readonly', 'fast'], group: 'bitmap', acl: ['bitmap'],
    keys: keyAt(1, ['RO', 'access']), run: bitfieldCommand(true),
  },
];
