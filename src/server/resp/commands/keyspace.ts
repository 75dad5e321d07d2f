/**
 * RESP keyspace commands (Redis 7.0's "generic" group): DEL UNLINK EXISTS TOUCH TYPE RENAME
 * RENAMENX COPY MOVE RANDOMKEY OBJECT (ENCODING REFCOUNT IDLETIME FREQ HELP) KEYS SCAN.
 * (DBSIZE FLUSHDB FLUSHALL SWAPDB live in server.ts; SELECT in connection.ts.)
 *
 * Guarantees:
 * - DEL/UNLINK check every key before deleting any; the reply counts the keys removed.
 * - RENAME, COPY and MOVE carry the key's type and expiry time with it; none of them changes
 *   anything when it answers an error or 0.
 * - KEYS on a large table reads a frozen generation in batches across event-loop turns, except
 *   inside EXEC, where it reads every batch at once (a transaction runs in one turn).
 * - SCAN walks the table in hash order: a key present from the first call to the last of a
 *   full iteration (cursor 0 back to 0) is returned exactly once. Any unsigned 64-bit cursor is
 *   accepted, as Redis's; frostkv's cursors are 32-bit hash positions, so one at or past 2^32
 *   lies after the whole hash space and answers cursor 0 with no keys (frostkv never hands
 *   out such a cursor, so a full iteration never meets one).
 * - Reads (EXISTS TOUCH TYPE COPY's source, OBJECT) count keyspace hits and misses as Redis does.
 */

import type { ArgView } from '../../../protocol/args.js';
import type { TableHandle } from '../../../engine/handle.js';
import { kTypeNames, valueView, ValueType, type ValueTypeCode } from '../../../engine/value.js';
import { hashEncoding, kHashSmall } from '../../../engine/small-hash.js';
import { kRespDatabaseCount } from '../databases.js';
import { globMatch, isMatchAll } from '../glob.js';
import { RespText, fail, intArg, kKeysBatch, kScanDefaultCount, parseInt64, writeHelp, type RespCommand, type RespContext } from './context.js';
import { keyAt, type CommandDefinition } from './table.js';

const kNoSuchKey = 'ERR no such key';
const kSameObject = 'ERR source and destination objects are the same';
const kInt32Min = -(2n ** 31n);
const kInt32Max = 2n ** 31n - 1n;
/** SCAN answers at most this many keys' worth of COUNT in one call (a hint, as in Redis). */
const kScanCountMax = 1_000_000n;
/** frostkv's SCAN cursor is a position in the 32-bit hash space. */
const kCursorSpace = 2n ** 32n;
const kU64Space = 2n ** 64n;
/** Redis's OBJECT ENCODING limits for strings: `int` up to 20 bytes, `embstr` up to 44. */
const kIntEncodingBytesMax = 20;
const kEmbstrBytesMax = 44;

/** Look a key up for a read (any type), counting keyspace hits and misses as Redis does. */
export function readKey(ctx: RespContext, t: TableHandle, q: ArgView, i: number): boolean {
  const found = t.findRange(q.buffer, q.offset(i), q.length(i));
  if (found) ctx.view.stats.keyspaceHits++;
  else ctx.view.stats.keyspaceMisses++;
  return found;
}

const del: RespCommand = (ctx, q) => {
  const t = ctx.table();
  for (let i = 1; i < q.count; i++) t.checkKeyRange(q.buffer, q.offset(i), q.length(i));
  t.checkWritable();
  let removed = 0;
  for (let i = 1; i < q.count; i++) if (t.deleteRange(q.buffer, q.offset(i), q.length(i))) removed++;
  ctx.w.integer(removed);
};

/** EXISTS and TOUCH: how many of the keys (repeats counted) exist. frostkv keeps no access times. */
const exists: RespCommand = (ctx, q) => {
  const t = ctx.table();
  let present = 0;
  for (let i = 1; i < q.count; i++) if (readKey(ctx, t, q, i)) present++;
  ctx.w.integer(present);
};

function typeName(type: number): string {
  return kTypeNames[type as ValueTypeCode] ?? 'none';
}

const type: RespCommand = (ctx, q) => {
  ctx.w.simple(readKey(ctx, ctx.table(), q, 1) ? typeName(valueView.type) : 'none');
};

function renameCommand(onlyIfAbsent: boolean): RespCommand {
  return (ctx, q) => {
    const outcome = ctx.table().renameKey(q.arg(1), q.arg(2), onlyIfAbsent);
    if (outcome === 'missing') throw fail(kNoSuchKey);
    if (onlyIfAbsent) ctx.w.integer(outcome === 'ok' ? 1 : 0);
    else ctx.w.ok();
  };
}

/** Redis's getIntFromObjectOrReply text for an int64 outside int32. */
const kNotInt32 = `ERR value is out of range, value must between ${kInt32Min} and ${kInt32Max}`;

/** A database number argument: an int64 (else "not an integer"), an int32, then 0..15 ("DB index is out of range"). */
function dbIndexArg(q: ArgView, i: number): number {
  const index = intArg(q, i);
  if (index < kInt32Min || index > kInt32Max) throw fail(kNotInt32);
  if (index < 0n || index >= BigInt(kRespDatabaseCount)) throw fail(RespText.dbIndex);
  return Number(index);
}

/** COPY source destination [DB n] [REPLACE]. */
const copy: RespCommand = (ctx, q) => {
  let replace = false;
  let targetDb = ctx.client.db;
  for (let i = 3; i < q.count; i++) {
    if (q.argIs(i, 'REPLACE')) replace = true;
    else if (q.argIs(i, 'DB') && i + 1 < q.count) targetDb = dbIndexArg(q, ++i);
    else throw fail(RespText.syntax);
  }
  const from = q.arg(1);
  const to = q.arg(2);
  if (targetDb === ctx.client.db && from.equals(to)) throw fail(kSameObject);
  const source = ctx.table();
  if (!readKey(ctx, source, q, 1)) return ctx.w.integer(0);
  const target = ctx.shared.databases.table(targetDb);
  ctx.w.integer(source.copyKey(from, to, target, replace) ? 1 : 0);
};

/** MOVE key db: the key (with its expiry) goes to database `db` unless it already has that key. */
const move: RespCommand = (ctx, q) => {
  const targetDb = dbIndexArg(q, 2);
  if (targetDb === ctx.client.db) throw fail(kSameObject);
  const source = ctx.table();
  if (!source.hasRange(q.buffer, q.offset(1), q.length(1))) return ctx.w.integer(0);
  const key = q.arg(1);
  const target = ctx.shared.databases.table(targetDb);
  source.checkWritable();
  if (!source.copyKey(key, key, target, false)) return ctx.w.integer(0);
  source.deleteRange(q.buffer, q.offset(1), q.length(1));
  ctx.w.integer(1);
};

const randomkey: RespCommand = (ctx) => {
  const key = ctx.table().randomKey();
  if (key === undefined) ctx.w.nullBulk();
  else ctx.w.bulk(key);
};

/** Redis's encoding name for a string value: `int` (a canonical int64), `embstr` or `raw`. */
function stringEncoding(bytes: Uint8Array, offset: number, length: number): string {
  if (length <= kIntEncodingBytesMax && parseInt64(Buffer.from(bytes.buffer, bytes.byteOffset + offset, length).toString('latin1')) !== null) return 'int';
  return length <= kEmbstrBytesMax ? 'embstr' : 'raw';
}

/**
 * OBJECT ENCODING: Redis 7.0's names for frostkv's representations (docs/decisions.md): strings
 * by content, lists `quicklist`, an inline hash `listpack`, a hash in its own table `hashtable`.
 */
function encodingName(): string {
  const { bytes, offset, length } = valueView;
  switch (valueView.type) {
    case ValueType.string:
      return stringEncoding(bytes, offset, length);
    case ValueType.list:
      return 'quicklist';
    case ValueType.hash:
      return length > 0 && hashEncoding(bytes, offset) === kHashSmall ? 'listpack' : 'hashtable';
    default:
      return 'unknown';
  }
}

/** An OBJECT subcommand on key argument 2: a missing key is a null reply, as in Redis. */
function objectCommand(answer: (ctx: RespContext) => void): RespCommand {
  return (ctx, q) => {
    if (!readKey(ctx, ctx.table(), q, 2)) return ctx.w.nullBulk();
    answer(ctx);
  };
}

/** OBJECT HELP, in frostkv's own words (Redis's reply shape: writeHelp). */
const kObjectHelp = [
  'ENCODING <key>',
  "    The Redis name of how the key's value is stored (docs/decisions.md maps frostkv's forms).",
  'FREQ <key>',
  '    Access frequency of the key: refused, frostkv does not count accesses (no LFU policy).',
  'IDLETIME <key>',
  '    Seconds since the key was last accessed: refused, frostkv does not record access times.',
  'REFCOUNT <key>',
  '    How many references hold the value: always 1, frostkv shares no values between keys.',
];

const kNoIdleTime = 'ERR frostkv does not track when keys were last accessed: OBJECT IDLETIME is not available';
const kNoFrequency =
  'ERR An LFU maxmemory policy is not selected, access frequency not tracked. ' +
  'Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';

/** Redis's strtoul rule for cursors: optional sign, decimal digits, within u64 (`-n` wraps). HSCAN shares it. */
export function parseCursor(text: string): bigint | null {
  const match = /^([+-]?)([0-9]*)$/.exec(text);
  if (match === null) return null;
  const [, sign, digits] = match as unknown as [string, string, string];
  if (digits === '') return sign === '' ? 0n : null;
  const magnitude = BigInt(digits);
  if (magnitude >= kU64Space) return null;
  return sign === '-' ? (kU64Space - magnitude) % kU64Space : magnitude;
}

interface ScanOptions {
  pattern: Buffer | null;
  count: number;
  typeFilter: string | null;
}

function scanOptions(q: ArgView): ScanOptions {
  const options: ScanOptions = { pattern: null, count: kScanDefaultCount, typeFilter: null };
  for (let i = 2; i < q.count; i += 2) {
    if (i + 1 >= q.count) throw fail(RespText.syntax);
    if (q.argIs(i, 'MATCH')) {
      const pattern = Buffer.from(q.arg(i + 1));
      options.pattern = isMatchAll(pattern) ? null : pattern;
    } else if (q.argIs(i, 'COUNT')) {
      const parsed = intArg(q, i + 1);
      if (parsed < 1n) throw fail(RespText.syntax);
      options.count = Number(parsed > kScanCountMax ? kScanCountMax : parsed);
    } else if (q.argIs(i, 'TYPE')) options.typeFilter = q.argString(i + 1).toLowerCase();
    else throw fail(RespText.syntax);
  }
  return options;
}

/** SCAN cursor [MATCH pattern] [COUNT n] [TYPE type]. */
const scan: RespCommand = (ctx, q) => {
  const parsed = parseCursor(q.argString(1, 'latin1'));
  if (parsed === null) throw fail(RespText.invalidCursor);
  const { pattern, count, typeFilter } = scanOptions(q);
  const found: Buffer[] = [];
  let cursor = 0;
  if (parsed < kCursorSpace) {
    const t = ctx.table();
    cursor = Number(parsed);
    let visited = 0;
    do {
      cursor = t.scanCursor(cursor, (bytes, offset, length, keyType) => {
        visited++;
        if (typeFilter !== null && typeFilter !== typeName(keyType)) return;
        if (pattern !== null && !globMatch(pattern, bytes, offset, length)) return;
        found.push(Buffer.from(bytes.subarray(offset, offset + length)));
      });
    } while (cursor !== 0 && visited < count);
  }
  ctx.w.array(2);
  ctx.w.bulk(String(cursor));
  ctx.w.array(found.length);
  for (const key of found) ctx.w.bulk(key);
};

function writeKeys(ctx: RespContext, matched: readonly Buffer[]): void {
  ctx.w.array(matched.length);
  for (const key of matched) ctx.w.bulk(key);
}

const keys: RespCommand = (ctx, q) => {
  const pattern = Buffer.from(q.arg(1));
  const all = isMatchAll(pattern);
  const cursor = ctx.table().keyCursor();
  const matched: Buffer[] = [];
  const take = (batch: Buffer[]): void => {
    for (const key of batch) if (all || globMatch(pattern, key)) matched.push(key);
  };
  // Inside EXEC every batch is read in this turn: the transaction must stay atomic.
  if (cursor.total <= kKeysBatch || ctx.atomic) {
    for (let batch = cursor.next(kKeysBatch); batch.length > 0; batch = cursor.next(kKeysBatch)) take(batch);
    cursor.close();
    return writeKeys(ctx, matched);
  }
  return (async () => {
    try {
      for (let batch = cursor.next(kKeysBatch); batch.length > 0; batch = cursor.next(kKeysBatch)) {
        take(batch);
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      cursor.close();
    }
    writeKeys(ctx, matched);
  })();
};

const kKeyspaceAcl = ['keyspace'] as const;
const kObjectKey = keyAt(2, ['RO']);
const kObjectTips = ['nondeterministic_output'];
const kMultiKeyTips = ['request_policy:multi_shard', 'response_policy:agg_sum'];

const kObjectSubcommands: readonly CommandDefinition[] = [
  { name: 'encoding', arity: 3, flags: ['readonly'], group: 'generic', acl: kKeyspaceAcl, keys: kObjectKey, tips: kObjectTips, run: objectCommand((ctx) => ctx.w.bulk(encodingName())) },
  // Every frostkv value is stored once, for its one key: nothing is shared.
  { name: 'refcount', arity: 3, flags: ['readonly'], group: 'generic', acl: kKeyspaceAcl, keys: kObjectKey, tips: kObjectTips, run: objectCommand((ctx) => ctx.w.integer(1)) },
  { name: 'idletime', arity: 3, flags: ['readonly'], group: 'generic', acl: kKeyspaceAcl, keys: kObjectKey, tips: kObjectTips, run: objectCommand(() => { throw fail(kNoIdleTime); }) },
  { name: 'freq', arity: 3, flags: ['readonly'], group: 'generic', acl: kKeyspaceAcl, keys: kObjectKey, tips: kObjectTips, run: objectCommand(() => { throw fail(kNoFrequency); }) },
  { name: 'help', arity: 2, flags: ['loading', 'stale'], group: 'generic', acl: kKeyspaceAcl, run: (ctx) => writeHelp(ctx, 'OBJECT', kObjectHelp) },
];

export const kKeyspaceCommands: readonly CommandDefinition[] = [
  { name: 'del', arity: -2, flags: ['write'], group: 'generic', acl: kKeyspaceAcl, keys: keyAt(1, ['RM', 'delete'], -1), tips: kMultiKeyTips, run: del },
  { name: 'unlink', arity: -2, flags: ['write', 'fast'], group: 'generic', acl: kKeyspaceAcl, keys: keyAt(1, ['RM', 'delete'], -1), tips: kMultiKeyTips, run: del },
  { name: 'exists', arity: -2, flags: ['readonly', 'fast'], group: 'generic', acl: kKeyspaceAcl, keys: keyAt(1, ['RO'], -1), tips: kMultiKeyTips, run: exists },
  { name: 'touch', arity: -2, flags: ['readonly', 'fast'], group: 'generic', acl: kKeyspaceAcl, keys: keyAt(1, ['RO'], -1), tips: kMultiKeyTips, run: exists },
  { name: 'type', arity: 2, flags: ['readonly', 'fast'], group: 'generic', acl: kKeyspaceAcl, keys: keyAt(1, ['RO']), run: type },
  {
    name: 'rename', arity: 3, flags: ['write'], group: 'generic', acl: kKeyspaceAcl,
    keys: keyAt(1, ['RW', 'access', 'delete', 'OW', 'update'], 2),
    keySpecs: [keyAt(1, ['RW', 'access', 'delete']), keyAt(2, ['OW', 'update'])],
    run: renameCommand(false),
  },
  {
    name: 'renamenx', arity: 3, flags: ['write', 'fast'], group: 'generic', acl: kKeyspaceAcl,
    keys: keyAt(1, ['RW', 'access', 'delete', 'OW', 'insert'], 2),
    keySpecs: [keyAt(1, ['RW', 'access', 'delete']), keyAt(2, ['OW', 'insert'])],
    run: renameCommand(true),
  },
  {
    name: 'copy', arity: -3, flags: ['write', 'denyoom'], group: 'generic', acl: kKeyspaceAcl,
    keys: keyAt(1, ['RO', 'access', 'OW', 'update'], 2),
    keySpecs: [keyAt(1, ['RO', 'access']), keyAt(2, ['OW', 'update'])],
    run: copy,
  },
  { name: 'move', arity: 3, flags: ['write', 'fast'], group: 'generic', acl: kKeyspaceAcl, keys: keyAt(1, ['RW', 'access', 'update']), run: move },
  { name: 'randomkey', arity: 1, flags: ['readonly'], group: 'generic', acl: kKeyspaceAcl, tips: ['request_policy:all_shards', 'nondeterministic_output'], run: randomkey },
  { name: 'object', arity: -2, flags: [], group: 'generic', subcommands: kObjectSubcommands },
  { name: 'keys', arity: 2, flags: ['readonly'], group: 'generic', acl: ['keyspace', 'dangerous'], tips: ['request_policy:all_shards', 'nondeterministic_output_order'], run: keys },
  { name: 'scan', arity: -2, flags: ['readonly'], group: 'generic', acl: kKeyspaceAcl, tips: ['nondeterministic_output', 'request_policy:special'], run: scan },
];
