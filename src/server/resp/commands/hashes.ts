/**
 * RESP hash commands with Redis 7.0 semantics (its "hash" group): HSET HSETNX HMSET HGET HMGET
 * HGETALL HKEYS HVALS HDEL HEXISTS HLEN HSTRLEN HINCRBY HINCRBYFLOAT, plus HSCAN
 * (hash-scan.ts) and HRANDFIELD (hash-random.ts) in the same family list. The engine side is
 * TableHandle's hash methods (src/engine/hashes.ts).
 *
 * Guarantees:
 * - Each command writes exactly one reply with Redis 7.0's shape in RESP2 and RESP3 (HGETALL
 *   is a map) and its texts; arguments are checked in Redis's order (HINCRBY's increment
 *   before the key's type), and a refused command changes nothing: every field and value of
 *   a write is checked against the table's limits before any is written.
 * - A key of another type answers WRONGTYPE; a missing key reads as an empty hash.
 * - Writes keep the key's expiry time; the key is deleted with its last field (engine rules).
 * - Reads count INFO's keyspace hits and misses as Redis's read lookups do (hash-lookup.ts).
 * - HGETALL / HKEYS / HVALS copy the hash (O(n), as Redis's are); every other command costs
 *   what it touches.
 */

import type { TableHandle } from '../../../engine/handle.js';
import type { ArgView } from '../../../protocol/args.js';
import { ErrorCode, FrostError } from '../../../util/errors.js';
import { arityError, fail, intArg, kInt64Max, kInt64Min, parseInt64, type RespCommand, type RespContext } from './context.js';
import { addFloatText, formatFloatText, kFloatTextMaxBytes, parseFloatText, type FloatValue } from './float-text.js';
import { checkHashForWrite, readHash } from './hash-lookup.js';
import { kHashRandomCommands } from './hash-random.js';
import { kHashScanCommands } from './hash-scan.js';
import { keyAt, type CommandDefinition } from './table.js';

/** "-9223372036854775808": a longer stored value cannot be an int64. */
const kInt64TextMaxBytes = 20;

const kHashNotInteger = 'ERR hash value is not an integer';
const kHashNotFloat = 'ERR hash value is not a float';
const kOverflow = 'ERR increment or decrement would overflow';
const kNotFloat = 'ERR value is not a valid float';
const kIncrementNotFinite = 'ERR value is NaN or Infinity';
const kResultNotFinite = 'ERR increment would produce NaN or Infinity';

function pairsFrom(q: ArgView, from: number): Array<readonly [Buffer, Buffer]> {
  const pairs: Array<readonly [Buffer, Buffer]> = [];
  for (let i = from; i + 1 < q.count; i += 2) pairs.push([q.arg(i), q.arg(i + 1)]);
  return pairs;
}

/** HSET / HMSET key field value [field value ...]: HSET answers how many fields were new, HMSET OK. */
function hsetCommand(name: 'hset' | 'hmset'): RespCommand {
  return (ctx, q) => {
    if (q.count % 2 === 1) throw arityError(name);
    const t = ctx.table();
    // A large hash is written from the request's bytes with one lookup; otherwise (missing key,
    // small hash) the general path re-encodes the hash's record.
    let added = t.hashSetRanges(q, 1, 2);
    if (added < 0) {
      t.checkPairRanges(q, 2);
      added = t.hashSet(q.arg(1), pairsFrom(q, 2));
    }
    if (name === 'hset') ctx.w.integer(added);
    else ctx.w.ok();
  };
}

const hsetnx: RespCommand = (ctx, q) => {
  const t = ctx.table();
  checkHashForWrite(t, q, 1);
  t.checkPairRanges(q, 2);
  ctx.w.integer(t.hashSetIfAbsent(q.arg(1), q.arg(2), q.arg(3)) ? 1 : 0);
};

const hget: RespCommand = (ctx, q) => {
  const t = ctx.table();
  const value = readHash(ctx, t, q, 1) ? t.hashGet(q.arg(1), q.arg(2)) : undefined;
  if (value === undefined) ctx.w.nullBulk();
  else ctx.w.bulk(value);
};

/** HMGET: a missing key answers a nil per field. */
const hmget: RespCommand = (ctx, q) => {
  const t = ctx.table();
  const found = readHash(ctx, t, q, 1);
  const key = q.arg(1);
  ctx.w.array(q.count - 2);
  for (let i = 2; i < q.count; i++) {
    const value = found ? t.hashGet(key, q.arg(i)) : undefined;
    if (value === undefined) ctx.w.nullBulk();
    else ctx.w.bulk(value);
  }
};

type Projection = 'pairs' | 'keys' | 'values';

/** HGETALL (a map; empty: an empty map) / HKEYS / HVALS (arrays). */
function hgetallCommand(what: Projection): RespCommand {
  return (ctx, q) => {
    const t = ctx.table();
    const pairs = readHash(ctx, t, q, 1) ? t.hashGetAll(q.arg(1)) : [];
    if (what === 'pairs') ctx.w.map(pairs.length);
    else ctx.w.array(pairs.length);
    for (const [field, value] of pairs) {
      if (what !== 'values') ctx.w.bulk(field);
      if (what !== 'keys') ctx.w.bulk(value);
    }
  };
}

const hdel: RespCommand = (ctx, q) => {
  const t = ctx.table();
  checkHashForWrite(t, q, 1);
  const fields: Buffer[] = [];
  for (let i = 2; i < q.count; i++) fields.push(q.arg(i));
  ctx.w.integer(t.hashDelete(q.arg(1), fields));
};

const hlen: RespCommand = (ctx, q) => {
  const t = ctx.table();
  ctx.w.integer(readHash(ctx, t, q, 1) ? t.hashLength(q.arg(1)) : 0);
};

const hexists: RespCommand = (ctx, q) => {
  const t = ctx.table();
  ctx.w.integer(readHash(ctx, t, q, 1) && t.hashHas(q.arg(1), q.arg(2)) ? 1 : 0);
};

const hstrlen: RespCommand = (ctx, q) => {
  const t = ctx.table();
  ctx.w.integer(readHash(ctx, t, q, 1) ? (t.hashGet(q.arg(1), q.arg(2))?.length ?? 0) : 0);
};

/** Store `text` as the field's new value (the key keeps its expiry, engine rule). */
function storeField(t: TableHandle, q: ArgView, text: string): Buffer {
  const value = Buffer.from(text, 'latin1');
  t.hashSet(q.arg(1), [[q.arg(2), value]]);
  return value;
}

/** HINCRBY key field increment: the increment first, then the key's type, then the stored value. */
const hincrby: RespCommand = (ctx, q) => {
  const delta = intArg(q, 3);
  const t = ctx.table();
  checkHashForWrite(t, q, 1);
  t.checkWritable();
  const stored = t.hashGet(q.arg(1), q.arg(2));
  let current = 0n;
  if (stored !== undefined) {
    const parsed = stored.length > kInt64TextMaxBytes ? null : parseInt64(stored.toString('latin1'));
    if (parsed === null) throw fail(kHashNotInteger);
    current = parsed;
  }
  const next = current + delta;
  if (next < kInt64Min || next > kInt64Max) throw fail(kOverflow);
  storeField(t, q, next.toString());
  ctx.w.integer(next);
};

/** HINCRBYFLOAT key field increment: Redis's long double sum and its "human" formatting. */
const hincrbyfloat: RespCommand = (ctx, q) => {
  const increment = parseFloatText(q.argString(3, 'latin1'));
  if (increment === null) throw fail(kNotFloat);
  if (!('finite' in increment)) throw fail(kIncrementNotFinite);
  const t = ctx.table();
  checkHashForWrite(t, q, 1);
  t.checkWritable();
  const stored = t.hashGet(q.arg(1), q.arg(2));
  let current: FloatValue = { finite: { negative: false, mantissa: 0n, exponent: 0 } };
  if (stored !== undefined) {
    // Redis refuses float text of kFloatTextMaxBytes or more before parsing it.
    const parsed = stored.length >= kFloatTextMaxBytes ? null : parseFloatText(stored.toString('latin1'));
    if (parsed === null) throw fail(kHashNotFloat);
    current = parsed;
  }
  const sum = addFloatText(current, increment);
  if (sum === null) throw fail(kResultNotFinite);
  ctx.w.bulk(storeField(t, q, formatFloatText(sum)));
};

const kHashAcl = ['hash'] as const;
const kWriteFast = ['write', 'denyoom', 'fast'] as const;
const kReadFast = ['readonly', 'fast'] as const;
const kOrderTips = ['nondeterministic_output_order'];

function hashCommand(name: string, arity: number, flags: CommandDefinition['flags'], keys: CommandDefinition['keys'], run: RespCommand, tips?: readonly string[]): CommandDefinition {
  return { name, arity, flags, group: 'hash', acl: kHashAcl, keys, run, ...(tips === undefined ? {} : { tips }) };
}

export const kHashCommands: readonly CommandDefinition[] = [
  hashCommand('hset', -4, kWriteFast, keyAt(1, ['RW', 'update']), hsetCommand('hset')),
  hashCommand('hmset', -4, kWriteFast, keyAt(1, ['RW', 'update']), hsetCommand('hmset')),
  hashCommand('hsetnx', 4, kWriteFast, keyAt(1, ['RW', 'insert']), hsetnx),
  hashCommand('hget', 3, kReadFast, keyAt(1, ['RO', 'access']), hget),
  hashCommand('hmget', -3, kReadFast, keyAt(1, ['RO', 'access']), hmget),
  hashCommand('hgetall', 2, ['readonly'], keyAt(1, ['RO', 'access']), hgetallCommand('pairs'), kOrderTips),
  hashCommand('hkeys', 2, ['readonly'], keyAt(1, ['RO', 'access']), hgetallCommand('keys'), kOrderTips),
  hashCommand('hvals', 2, ['readonly'], keyAt(1, ['RO', 'access']), hgetallCommand('values'), kOrderTips),
  hashCommand('hdel', -3, ['write', 'fast'], keyAt(1, ['RW', 'delete']), hdel),
  hashCommand('hexists', 3, kReadFast, keyAt(1, ['RO']), hexists),
  hashCommand('hlen', 2, kReadFast, keyAt(1, ['RO']), hlen),
  hashCommand('hstrlen', 3, kReadFast, keyAt(1, ['RO']), hstrlen),
  hashCommand('hincrby', 4, kWriteFast, keyAt(1, ['RW', 'access', 'update']), hincrby),
  hashCommand('hincrbyfloat', 4, kWriteFast, keyAt(1, ['RW', 'access', 'update']), hincrbyfloat),
  ...kHashScanCommands,
  ...kHashRandomCommands,
];
