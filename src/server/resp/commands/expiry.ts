/**
 * RESP expiry commands (Redis 7.0's "generic" group): EXPIRE PEXPIRE EXPIREAT PEXPIREAT (with
 * NX XX GT LT), TTL PTTL EXPIRETIME PEXPIRETIME, PERSIST.
 *
 * Guarantees:
 * - Arguments are checked in Redis's order (options, then the time, then its range) before the
 *   key is looked at; a refused command changes nothing.
 * - A time at or before the engine's clock deletes the key (and answers 1), as Redis does.
 * - Times are absolute ms since the epoch on the engine's clock (`db.engine.nowMs()`). Redis
 *   keeps any int64 ms; frostkv records at most `kExpiryMaxMs` (2^53 - 1 ms, year 287396), so a
 *   later time is stored as that (the key still outlives every clock this machine will see).
 * - Expiry commands work on keys of every type; they never read the value.
 */

import type { ArgView } from '../../../protocol/args.js';
import { kExpiryMaxMs, kNoExpiry, valueView } from '../../../engine/value.js';
import { fail, intArg, kInt64Max, kInt64Min, type RespCommand, type RespContext } from './context.js';
import { readKey } from './keyspace.js';
import { keyAt, type CommandDefinition } from './table.js';

const kMsPerSecond = 1000n;
/** Redis's `LLONG_MAX / 1000` and `LLONG_MIN / 1000` (C division truncates toward zero). */
const kSecondsMax = kInt64Max / kMsPerSecond;
const kSecondsMin = kInt64Min / kMsPerSecond;

const kOptionNx = 1;
const kOptionXx = 2;
const kOptionGt = 4;
const kOptionLt = 8;

/** The NX/XX/GT/LT options after the time (argument 3 on), with Redis's conflict errors. */
function expireOptions(q: ArgView): number {
  let options = 0;
  for (let i = 3; i < q.count; i++) {
    if (q.argIs(i, 'NX')) options |= kOptionNx;
    else if (q.argIs(i, 'XX')) options |= kOptionXx;
    else if (q.argIs(i, 'GT')) options |= kOptionGt;
    else if (q.argIs(i, 'LT')) options |= kOptionLt;
    else throw fail(`ERR Unsupported option ${q.argString(i)}`);
  }
  if ((options & kOptionNx) !== 0 && (options & (kOptionXx | kOptionGt | kOptionLt)) !== 0) {
    throw fail('ERR NX and XX, GT or LT options at the same time are not compatible');
  }
  if ((options & kOptionGt) !== 0 && (options & kOptionLt) !== 0) throw fail('ERR GT and LT options at the same time are not compatible');
  return options;
}

/** Whether the options let a key whose expiry is `currentMs` (kNoExpiry: none) get `whenMs`. */
function optionsAllow(options: number, currentMs: number, whenMs: bigint): boolean {
  const hasExpiry = currentMs !== kNoExpiry;
  if ((options & kOptionNx) !== 0 && hasExpiry) return false;
  if ((options & kOptionXx) !== 0 && !hasExpiry) return false;
  // GT: no expiry counts as infinite, so nothing is greater; LT: anything is less than it.
  if ((options & kOptionGt) !== 0 && (!hasExpiry || whenMs <= BigInt(currentMs))) return false;
  if ((options & kOptionLt) !== 0 && hasExpiry && whenMs >= BigInt(currentMs)) return false;
  return true;
}

/**
 * EXPIRE-family time argument as absolute ms: `relative` adds the clock, `seconds` scales.
 * Overflow past int64 is Redis's "invalid expire time" error.
 */
function expireTime(ctx: RespContext, q: ArgView, name: string, seconds: boolean, relative: boolean): bigint {
  let when = intArg(q, 2);
  const invalid = `ERR invalid expire time in '${name}' command`;
  if (seconds) {
    if (when > kSecondsMax || when < kSecondsMin) throw fail(invalid);
    when *= kMsPerSecond;
  }
  const base = relative ? BigInt(ctx.db.engine.nowMs()) : 0n;
  if (when > kInt64Max - base) throw fail(invalid);
  return when + base;
}

function expireCommand(name: string, seconds: boolean, relative: boolean): RespCommand {
  return (ctx, q) => {
    const options = expireOptions(q);
    const when = expireTime(ctx, q, name, seconds, relative);
    const t = ctx.table();
    if (!t.findRange(q.buffer, q.offset(1), q.length(1))) return ctx.w.integer(0);
    if (options !== 0 && !optionsAllow(options, valueView.expiresAtMs, when)) return ctx.w.integer(0);
    if (when <= BigInt(ctx.db.engine.nowMs())) {
      t.deleteRange(q.buffer, q.offset(1), q.length(1));
      return ctx.w.integer(1);
    }
    const at = when > BigInt(kExpiryMaxMs) ? kExpiryMaxMs : Number(when);
    ctx.w.integer(t.expireRange(q.buffer, q.offset(1), q.length(1), at) ? 1 : 0);
  };
}

/**
 * TTL PTTL EXPIRETIME PEXPIRETIME: -2 for a missing key, -1 without an expiry; seconds are
 * rounded to the nearest (Redis's `(ms + 500) / 1000`), a remaining time never below 0.
 */
function ttlCommand(inMs: boolean, absolute: boolean): RespCommand {
  return (ctx, q) => {
    if (!readKey(ctx, ctx.table(), q, 1)) return ctx.w.integer(-2);
    const expiresAtMs = valueView.expiresAtMs;
    if (expiresAtMs === kNoExpiry) return ctx.w.integer(-1);
    const ms = Math.max(0, absolute ? expiresAtMs : expiresAtMs - ctx.db.engine.nowMs());
    ctx.w.integer(inMs ? ms : Math.floor((ms + 500) / 1000));
  };
}

const persist: RespCommand = (ctx, q) => {
  const t = ctx.table();
  if (!t.findRange(q.buffer, q.offset(1), q.length(1)) || valueView.expiresAtMs === kNoExpiry) return ctx.w.integer(0);
  ctx.w.integer(t.expireRange(q.buffer, q.offset(1), q.length(1), kNoExpiry) ? 1 : 0);
};

const kKeyspaceAcl = ['keyspace'] as const;
const kSetExpiryKey = keyAt(1, ['RW', 'update']);
const kReadExpiryKey = keyAt(1, ['RO', 'access']);

export const kExpiryCommands: readonly CommandDefinition[] = [
  { name: 'expire', arity: -3, flags: ['write', 'fast'], group: 'generic', acl: kKeyspaceAcl, keys: kSetExpiryKey, run: expireCommand('expire', true, true) },
  { name: 'pexpire', arity: -3, flags: ['write', 'fast'], group: 'generic', acl: kKeyspaceAcl, keys: kSetExpiryKey, run: expireCommand('pexpire', false, true) },
  { name: 'expireat', arity: -3, flags: ['write', 'fast'], group: 'generic', acl: kKeyspaceAcl, keys: kSetExpiryKey, run: expireCommand('expireat', true, false) },
  { name: 'pexpireat', arity: -3, flags: ['write', 'fast'], group: 'generic', acl: kKeyspaceAcl, keys: kSetExpiryKey, run: expireCommand('pexpireat', false, false) },
  { name: 'ttl', arity: 2, flags: ['readonly', 'fast'], group: 'generic', acl: kKeyspaceAcl, keys: kReadExpiryKey, tips: ['nondeterministic_output'], run: ttlCommand(false, false) },
  { name: 'pttl', arity: 2, flags: ['readonly', 'fast'], group: 'generic', acl: kKeyspaceAcl, keys: kReadExpiryKey, tips: ['nondeterministic_output'], run: ttlCommand(true, false) },
  { name: 'expiretime', arity: 2, flags: ['readonly', 'fast'], group: 'generic', acl: kKeyspaceAcl, keys: kReadExpiryKey, run: ttlCommand(false, true) },
  { name: 'pexpiretime', arity: 2, flags: ['readonly', 'fast'], group: 'generic', acl: kKeyspaceAcl, keys: kReadExpiryKey, run: ttlCommand(true, true) },
  { name: 'persist', arity: 2, flags: ['write', 'fast'], group: 'generic', acl: kKeyspaceAcl, keys: kSetExpiryKey, run: persist },
];
