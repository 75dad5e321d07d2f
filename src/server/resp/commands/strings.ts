/**
 * RESP string commands with Redis 7.0 semantics, served from the selected database's table:
 * SET (NX XX GET EX PX EXAT PXAT KEEPTTL) SETNX SETEX PSETEX GET GETEX GETDEL GETSET MGET MSET
 * MSETNX APPEND STRLEN GETRANGE SUBSTR SETRANGE INCR DECR INCRBY DECRBY INCRBYFLOAT, plus the
 * bit commands (bits.ts, bitfield.ts) and LCS (lcs.ts) in the same family list.
 *
 * Guarantees:
 * - Each command writes exactly one reply with Redis's shape and texts; arguments are checked
 *   in Redis's order, and a refused command changes nothing.
 * - Expiry as Redis: SET, SETEX, PSETEX, GETSET, MSET and MSETNX replace it (SET keeps it with
 *   KEEPTTL); APPEND, SETRANGE, INCR* (and SETBIT) keep it; GETEX sets or removes it.
 * - A multi-key write (MSET, MSETNX) checks every key and value before it writes any.
 * - A grown value (APPEND, SETRANGE) is refused with the table's value-limit error before
 *   anything is allocated for it; INCR-family results stay in the int64 range.
 */

import type { ArgView } from '../../../protocol/args.js';
import { kExpiryMaxMs, kKeepExpiry, kNoExpiry, valueView, ValueType } from '../../../engine/value.js';
import { ErrorCode, FrostError } from '../../../util/errors.js';
import { kBitfieldCommands } from './bitfield.js';
import { kBitCommands } from './bits.js';
import { RespText, arityError, fail, intArg, kInt64Max, kInt64Min, parseInt64, type RespCommand, type RespContext } from './context.js';
import { addFloatText, formatFloatText, kFloatTextMaxBytes, parseFloatText, type FloatValue } from './float-text.js';
import { kLcsCommands } from './lcs.js';
import { checkGrownLength, copyView, readString } from './string-values.js';
import { keyAt, type CommandDefinition } from './table.js';

const kMsPerSecond = 1000n;
/** "-9223372036854775808" */
const kInt64TextMaxBytes = 20;

function replyView(ctx: RespContext): void {
  ctx.w.bulk(valueView.bytes, valueView.offset, valueView.length);
}

// ------------------------------------------------------------ expiry options

type ExpiryUnit = 'EX' | 'PX' | 'EXAT' | 'PXAT';

interface StringOptions {
  nx: boolean;
  xx: boolean;
  get: boolean;
  keepTtl: boolean;
  persist: boolean;
  expiry: { unit: ExpiryUnit; arg: number } | null;
}

function expiryUnitAt(q: ArgView, i: number): ExpiryUnit | null {
  if (q.argIs(i, 'EX')) return 'EX';
  if (q.argIs(i, 'PX')) return 'PX';
  if (q.argIs(i, 'EXAT')) return 'EXAT';
  if (q.argIs(i, 'PXAT')) return 'PXAT';
  return null;
}

/**
 * SET's options from argument 3, GETEX's from argument 2 (Redis's one parser: a repeated
 * option is allowed, a conflicting one or an option of the other command is a syntax error).
 */
function parseStringOptions(q: ArgView, forSet: boolean): StringOptions {
  const o: StringOptions = { nx: false, xx: false, get: false, keepTtl: false, persist: false, expiry: null };
  for (let i = forSet ? 3 : 2; i < q.count; i++) {
    const unit = expiryUnitAt(q, i);
    if (forSet && q.argIs(i, 'NX') && !o.xx) o.nx = true;
    else if (forSet && q.argIs(i, 'XX') && !o.nx) o.xx = true;
    else if (forSet && q.argIs(i, 'GET')) o.get = true;
    else if (forSet && q.argIs(i, 'KEEPTTL') && !o.persist && o.expiry === null) o.keepTtl = true;
    else if (!forSet && q.argIs(i, 'PERSIST') && o.expiry === null && !o.keepTtl) o.persist = true;
    else if (unit !== null && !o.keepTtl && !o.persist && (o.expiry === null || o.expiry.unit === unit) && i + 1 < q.count) {
      o.expiry = { unit, arg: ++i };
    } else throw fail(RespText.syntax);
  }
  return o;
}

function invalidExpireTime(command: string): never {
  throw fail(`ERR invalid expire time in '${command}' command`);
}

/**
 * The absolute expiry time (ms) an option asks for, with Redis's checks: an integer, above 0,
 * and (relative ones added to now) still inside the int64 range; clamped to the table's limit.
 */
function expiryTimeMs(ctx: RespContext, q: ArgView, unit: ExpiryUnit, arg: number, command: string): number {
  const given = intArg(q, arg);
  const seconds = unit === 'EX' || unit === 'EXAT';
  if (given <= 0n || (seconds && given > kInt64Max / kMsPerSecond)) invalidExpireTime(command);
  let at = seconds ? given * kMsPerSecond : given;
  if (unit === 'EX' || unit === 'PX') at += BigInt(ctx.db.engine.nowMs());
  if (at > kInt64Max) invalidExpireTime(command);
  return at > BigInt(kExpiryMaxMs) ? kExpiryMaxMs : Number(at);
}

// ------------------------------------------------------------ SET family

const get: RespCommand = (ctx, q) => {
  if (readString(ctx, q, 1)) replyView(ctx);
  else ctx.w.nullBulk();
};

/** SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT t|KEEPTTL]. */
const set: RespCommand = (ctx, q) => {
  const o = parseStringOptions(q, true);
  const expiresAtMs = o.expiry === null ? (o.keepTtl ? kKeepExpiry : kNoExpiry) : expiryTimeMs(ctx, q, o.expiry.unit, o.expiry.arg, 'set');
  const t = ctx.table();
  let old: Buffer | null = null;
  if (o.get) {
    t.checkWritable();
    if (readString(ctx, q, 1)) old = copyView();
  }
  const mode = o.nx ? 'insert' : o.xx ? 'update' : 'upsert';
  const written = t.writeRange(mode, q.buffer, q.offset(1), q.length(1), q.buffer, q.offset(2), q.length(2), expiresAtMs);
  if (o.get) {
    if (old === null) ctx.w.nullBulk();
    else ctx.w.bulk(old);
  } else if (written) ctx.w.ok();
  else ctx.w.nullBulk();
};

const setnx: RespCommand = (ctx, q) => {
  ctx.w.integer(ctx.table().writeRange('insert', q.buffer, q.offset(1), q.length(1), q.buffer, q.offset(2), q.length(2)) ? 1 : 0);
};

/** SETEX key seconds value / PSETEX key ms value. */
function setWithExpiry(unit: 'EX' | 'PX', command: string): RespCommand {
  return (ctx, q) => {
    const expiresAtMs = expiryTimeMs(ctx, q, unit, 2, command);
    ctx.table().writeRange('upsert', q.buffer, q.offset(1), q.length(1), q.buffer, q.offset(3), q.length(3), expiresAtMs);
    ctx.w.ok();
  };
}

/** GETEX key [EX|PX|EXAT|PXAT t|PERSIST]: the value, then its expiry changed (a past time deletes it). */
const getex: RespCommand = (ctx, q) => {
  const o = parseStringOptions(q, false);
  const t = ctx.table();
  if (!readString(ctx, q, 1)) return ctx.w.nullBulk();
  const expiresAtMs = o.expiry === null ? null : expiryTimeMs(ctx, q, o.expiry.unit, o.expiry.arg, 'getex');
  if (expiresAtMs === null && !o.persist) return replyView(ctx);
  const value = copyView();
  if (expiresAtMs !== null) t.expireRange(q.buffer, q.offset(1), q.length(1), expiresAtMs);
  else if (valueView.expiresAtMs !== kNoExpiry) t.expireRange(q.buffer, q.offset(1), q.length(1), kNoExpiry);
  ctx.w.bulk(value);
};

const getset: RespCommand = (ctx, q) => {
  const t = ctx.table();
  t.checkWritable();
  const old = readString(ctx, q, 1) ? copyView() : null;
  t.writeRange('upsert', q.buffer, q.offset(1), q.length(1), q.buffer, q.offset(2), q.length(2), kNoExpiry);
  if (old === null) ctx.w.nullBulk();
  else ctx.w.bulk(old);
};

const getdel: RespCommand = (ctx, q) => {
  const t = ctx.table();
  t.checkWritable();
  if (!readString(ctx, q, 1)) return ctx.w.nullBulk();
  replyView(ctx);
  t.deleteRange(q.buffer, q.offset(1), q.length(1));
};

/** MGET: a missing key or one of another type answers nil. */
const mget: RespCommand = (ctx, q) => {
  const t = ctx.table();
  ctx.w.array(q.count - 1);
  for (let i = 1; i < q.count; i++) {
    const found = t.findRange(q.buffer, q.offset(i), q.length(i)) && valueView.type === ValueType.string;
    if (found) {
      ctx.view.stats.keyspaceHits++;
      replyView(ctx);
    } else {
      ctx.view.stats.keyspaceMisses++;
      ctx.w.nullBulk();
    }
  }
};

function checkPairs(ctx: RespContext, q: ArgView, name: string): void {
  if ((q.count - 1) % 2 !== 0) throw arityError(name);
  const t = ctx.table();
  const keyLimit = ctx.db.engine.keyMaxBytes;
  for (let i = 1; i < q.count; i += 2) {
    if (q.length(i) > keyLimit) throw new FrostError(ErrorCode.keyTooLarge, `key of ${q.length(i)} bytes exceeds the limit of ${keyLimit} bytes`);
    t.checkKeyRange(q.buffer, q.offset(i), q.length(i));
    t.checkValueRange(q.buffer, q.offset(i + 1), q.length(i + 1));
    checkGrownLength(ctx, BigInt(q.length(i + 1)));
  }
  t.checkWritable();
}

function writePairs(ctx: RespContext, q: ArgView): void {
  const t = ctx.table();
  for (let i = 1; i < q.count; i += 2) t.writeRange('upsert', q.buffer, q.offset(i), q.length(i), q.buffer, q.offset(i + 1), q.length(i + 1), kNoExpiry);
}

const mset: RespCommand = (ctx, q) => {
  checkPairs(ctx, q, 'mset');
  writePairs(ctx, q);
  ctx.w.ok();
};

/** MSETNX: 0 (nothing written) when any key exists, of any type. */
const msetnx: RespCommand = (ctx, q) => {
  checkPairs(ctx, q, 'msetnx');
  const t = ctx.table();
  for (let i = 1; i < q.count; i += 2) if (t.hasRange(q.buffer, q.offset(i), q.length(i))) return ctx.w.integer(0);
  writePairs(ctx, q);
  ctx.w.integer(1);
};

// ------------------------------------------------------------ length and ranges

const append: RespCommand = (ctx, q) => {
  const t = ctx.table();
  t.checkWritable();
  if (!t.getRange(q.buffer, q.offset(1), q.length(1))) {
    t.writeRange('insert', q.buffer, q.offset(1), q.length(1), q.buffer, q.offset(2), q.length(2));
    return ctx.w.integer(q.length(2));
  }
  const total = valueView.length + q.length(2);
  checkGrownLength(ctx, BigInt(total));
  const next = Buffer.allocUnsafe(total);
  next.set(valueView.bytes.subarray(valueView.offset, valueView.offset + valueView.length), 0);
  q.buffer.copy(next, valueView.length, q.offset(2), q.offset(2) + q.length(2));
  t.writeRange('upsert', q.buffer, q.offset(1), q.length(1), next, 0, total, kKeepExpiry);
  ctx.w.integer(total);
};

const strlen: RespCommand = (ctx, q) => {
  ctx.w.integer(readString(ctx, q, 1) ? valueView.length : 0);
};

/** GETRANGE / SUBSTR key start end: inclusive, negative from the end, clamped; "" when empty. */
const getrange: RespCommand = (ctx, q) => {
  let start = intArg(q, 2);
  let end = intArg(q, 3);
  if (!readString(ctx, q, 1)) return ctx.w.bulk('');
  const length = BigInt(valueView.length);
  if (start < 0n && end < 0n && start > end) return ctx.w.bulk('');
  if (start < 0n) start += length;
  if (end < 0n) end += length;
  if (start < 0n) start = 0n;
  if (end < 0n) end = 0n;
  if (end >= length) end = length - 1n;
  if (start > end || length === 0n) return ctx.w.bulk('');
  ctx.w.bulk(valueView.bytes, valueView.offset + Number(start), Number(end - start) + 1);
};

/** SETRANGE key offset value: zero-pads as needed; the new length (an empty value writes nothing). */
const setrange: RespCommand = (ctx, q) => {
  const offset = intArg(q, 2);
  if (offset < 0n) throw fail('ERR offset is out of range');
  const t = ctx.table();
  t.checkWritable();
  const added = q.length(3);
  const found = t.getRange(q.buffer, q.offset(1), q.length(1));
  const oldLength = found ? valueView.length : 0;
  if (added === 0) return ctx.w.integer(oldLength);
  checkGrownLength(ctx, offset + BigInt(added));
  const at = Number(offset);
  const total = Math.max(oldLength, at + added);
  const next = Buffer.alloc(total);
  if (found) next.set(valueView.bytes.subarray(valueView.offset, valueView.offset + oldLength), 0);
  q.buffer.copy(next, at, q.offset(3), q.offset(3) + added);
  t.writeRange('upsert', q.buffer, q.offset(1), q.length(1), next, 0, total, kKeepExpiry);
  ctx.w.integer(total);
};

// ------------------------------------------------------------ counters

/** Decimal texts of up to 15 digits are exact doubles: counters that small skip BigInt. */
const kSmallIntDigitsMax = 15;
/** A delta this small added to a 15-digit value stays exact (below 2^53). */
const kSmallDeltaMax = 2 ** 52;
/** Where INCR writes the new value's digits: reused, never held past the table write. */
const incrScratch = Buffer.alloc(24);

/**
 * The value of `length` bytes at `offset` as Redis's string2ll reads it, when it has at most
 * kSmallIntDigitsMax digits; NaN for anything else (a longer number, or not a number: the
 * caller's exact path judges those).
 */
function smallIntAt(bytes: Uint8Array, offset: number, length: number): number {
  const end = offset + length;
  let i = offset;
  const negative = bytes[i] === 0x2d;
  if (negative) i++;
  const digits = end - i;
  if (digits === 0 || digits > kSmallIntDigitsMax) return Number.NaN;
  // No leading zero, no "-0": only "0" itself starts with one.
  if (bytes[i] === 0x30) return digits === 1 && !negative ? 0 : Number.NaN;
  let value = 0;
  for (; i < end; i++) {
    const digit = (bytes[i] as number) - 0x30;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

/**
 * Write the decimal digits of an integer below 2^53 in magnitude into incrScratch; returns
 * their count. The same text as String(value), without a string and a call into C++ to copy it.
 */
function writeSmallInt(value: number): number {
  let rest = Math.abs(value);
  let digits = 1;
  for (let power = 10; power <= rest; power *= 10) digits++;
  const sign = value < 0 ? 1 : 0;
  const length = sign + digits;
  if (sign === 1) incrScratch[0] = 0x2d;
  for (let i = length - 1; i >= sign; i--) {
    const next = Math.floor(rest / 10);
    incrScratch[i] = 0x30 + (rest - next * 10);
    rest = next;
  }
  return length;
}

function incrementBy(ctx: RespContext, q: ArgView, delta: bigint): void {
  const t = ctx.table();
  t.checkWritable();
  const found = t.getRange(q.buffer, q.offset(1), q.length(1));
  const small = found ? smallIntAt(valueView.bytes, valueView.offset, valueView.length) : 0;
  if (!Number.isNaN(small) && delta >= -kSmallDeltaMax && delta <= kSmallDeltaMax) {
    // The common case, exact in doubles: no BigInt, no string, no copy of the old value.
    const next = small + Number(delta);
    const length = writeSmallInt(next);
    t.writeRange('upsert', q.buffer, q.offset(1), q.length(1), incrScratch, 0, length, kKeepExpiry);
    ctx.w.integer(next);
    return;
  }
  let current = 0n;
  if (found) {
    // An int64 has at most 20 characters: a longer value is refused without copying it.
    const parsed = valueView.length > kInt64TextMaxBytes ? null : parseInt64(copyView().toString('latin1'));
    if (parsed === null) throw fail(RespText.notInteger);
    current = parsed;
  }
  const next = current + delta;
  if (next < kInt64Min || next > kInt64Max) throw fail(RespText.overflow);
  const text = Buffer.from(next.toString(), 'latin1');
  t.writeRange('upsert', q.buffer, q.offset(1), q.length(1), text, 0, text.length, kKeepExpiry);
  ctx.w.integer(next);
}

/** DECRBY: Redis refuses a decrement of -2^63 up front (its negation does not fit an int64). */
const decrby: RespCommand = (ctx, q) => {
  const delta = intArg(q, 2);
  if (delta === kInt64Min) throw fail('ERR decrement would overflow');
  incrementBy(ctx, q, -delta);
};

const kNotFloat = 'ERR value is not a valid float';

function floatOrFail(text: string): FloatValue {
  const parsed = parseFloatText(text);
  if (parsed === null) throw fail(kNotFloat);
  return parsed;
}

/** INCRBYFLOAT key increment: the stored value, then the increment, must be valid floats. */
const incrbyfloat: RespCommand = (ctx, q) => {
  const t = ctx.table();
  t.checkWritable();
  let current: FloatValue = { finite: { negative: false, mantissa: 0n, exponent: 0 } };
  if (t.getRange(q.buffer, q.offset(1), q.length(1))) {
    // Redis refuses float text of kFloatTextMaxBytes or more: refused here without copying it.
    current = valueView.length >= kFloatTextMaxBytes ? floatOrFail('') : floatOrFail(copyView().toString('latin1'));
  }
  const sum = addFloatText(current, floatOrFail(q.argString(2, 'latin1')));
  if (sum === null) throw fail('ERR increment would produce NaN or Infinity');
  const text = Buffer.from(formatFloatText(sum), 'latin1');
  t.writeRange('upsert', q.buffer, q.offset(1), q.length(1), text, 0, text.length, kKeepExpiry);
  ctx.w.bulk(text);
};

const kStringAcl = ['string'] as const;

function stringCommand(
  name: string,
  arity: number,
  flags: CommandDefinition['flags'],
  keys: CommandDefinition['keys'],
  run: RespCommand,
  tips?: readonly string[],
): CommandDefinition {
  return { name, arity, flags, group: 'string', acl: kStringAcl, keys, run, ...(tips === undefined ? {} : { tips }) };
}

const kRwAccessUpdate = keyAt(1, ['RW', 'access', 'update']);
const kWriteFast = ['write', 'denyoom', 'fast'] as const;

export const kStringCommands: readonly CommandDefinition[] = [
  stringCommand('get', 2, ['readonly', 'fast'], keyAt(1, ['RO', 'access']), get),
  stringCommand('set', -3, ['write', 'denyoom'], keyAt(1, ['RW', 'access', 'update', 'variable_flags']), set),
  stringCommand('setnx', 3, kWriteFast, keyAt(1, ['OW', 'insert']), setnx),
  stringCommand('setex', 4, ['write', 'denyoom'], keyAt(1, ['OW', 'update']), setWithExpiry('EX', 'setex')),
  stringCommand('psetex', 4, ['write', 'denyoom'], keyAt(1, ['OW', 'update']), setWithExpiry('PX', 'psetex')),
  stringCommand('getex', -2, ['write', 'fast'], kRwAccessUpdate, getex),
  stringCommand('getset', 3, kWriteFast, kRwAccessUpdate, getset),
  stringCommand('getdel', 2, ['write', 'fast'], keyAt(1, ['RW', 'access', 'delete']), getdel),
  stringCommand('mget', -2, ['readonly', 'fast'], keyAt(1, ['RO', 'access'], -1), mget, ['request_policy:multi_shard']),
  stringCommand('mset', -3, ['write', 'denyoom'], keyAt(1, ['OW', 'update'], -1, 2), mset, ['request_policy:multi_shard', 'response_policy:all_succeeded']),
  stringCommand('msetnx', -3, ['write', 'denyoom'], keyAt(1, ['OW', 'insert'], -1, 2), msetnx, ['request_policy:multi_shard', 'response_policy:agg_min']),
  stringCommand('append', 3, kWriteFast, keyAt(1, ['RW', 'insert']), append),
  stringCommand('strlen', 2, ['readonly', 'fast'], keyAt(1, ['RO']), strlen),
  stringCommand('getrange', 4, ['readonly'], keyAt(1, ['RO', 'access']), getrange),
  stringCommand('substr', 4, ['readonly'], keyAt(1, ['RO', 'access']), getrange),
  stringCommand('setrange', 4, ['write', 'denyoom'], keyAt(1, ['RW', 'update']), setrange),
  stringCommand('incr', 2, kWriteFast, kRwAccessUpdate, (ctx, q) => incrementBy(ctx, q, 1n)),
  stringCommand('decr', 2, kWriteFast, kRwAccessUpdate, (ctx, q) => incrementBy(ctx, q, -1n)),
  stringCommand('incrby', 3, kWriteFast, kRwAccessUpdate, (ctx, q) => incrementBy(ctx, q, intArg(q, 2))),
  stringCommand('decrby', 3, kWriteFast, kRwAccessUpdate, decrby),
  stringCommand('incrbyfloat', 3, kWriteFast, kRwAccessUpdate, incrbyfloat),
  ...kLcsCommands,
  ...kBitCommands,
  ...kBitfieldCommands,
];
