/**
 * Skytable 0.7 entity, DDL and administrative actions (docs/behaviour.md, Skyhash actions): DBSIZE FLUSHDB
 * LSKEYS HEYA MKSNAP WHEREAMI USE SYS CREATE DROP INSPECT (AUTH is in auth.ts).
 *
 * Guarantees: one reply element per action. FLUSHDB and DROP swap in empty tables in O(1)
 * (memory is reclaimed in the background); LSKEYS with a large count reads a frozen generation
 * in batches across event-loop turns, so no action's cost on the event loop grows with the data.
 * MKSNAP and SYS METRIC storage wait for the worker pool while other connections are served.
 */

import type { ArgView } from '../../protocol/args.js';
import { describeModel, parseModel } from '../../engine/model.js';
import { checkContainerName, kContainerNameMaxBytes } from '../../engine/names.js';
import { kVersion } from '../../version.js';
import { ErrorCode, isFrostError } from '../../util/errors.js';
import type { SnapshotResult } from '../../persist/persistence.js';
import { kSkyhashTypeString } from '../../protocol/skyhash/writer.js';
import { Code, SkyError, argc, entityArg, keyType, needArgs, reply, tableArg, textArg, unsignedArg, writeReply, type SkyContext } from './context.js';

type Action = (ctx: SkyContext, q: ArgView) => void | Promise<void>;

export const kLskeysDefaultCount = 10;
/** LSKEYS answers up to this many keys in one event-loop turn; more are read in batches. */
export const kLskeysBatchKeys = 4_096;
export const kProtocolName = 'Skyhash-1.0';
export const kProtocolVersion = 1.0;

const kDigit0 = 0x30;
const kDigit9 = 0x39;

function startsWithDigit(q: ArgView, i: number): boolean {
  const byte = q.length(i) > 0 ? (q.buffer[q.offset(i)] as number) : -1;
  return byte >= kDigit0 && byte <= kDigit9;
}

const dbsize: Action = (ctx, q) => {
  needArgs(q, argc(q) <= 1);
  const t = argc(q) === 1 ? tableArg(ctx, q, 1) : ctx.session.current();
  ctx.w.uint(t.size);
};

const flushdb: Action = (ctx, q) => {
  needArgs(q, argc(q) <= 1);
  // As Skytable 0.7: the read-only state is checked before the entity is even parsed.
  ctx.db.engine.checkWritable();
  const t = argc(q) === 1 ? tableArg(ctx, q, 1) : ctx.session.current();
  t.clear();
  ctx.w.code(Code.okay);
};

/** LSKEYS [n] | [entity [n]] | [entity all]: up to n keys (default 10) as a typed array. */
const lskeys: Action = (ctx, q) => {
  needArgs(q, argc(q) <= 2);
  let t = ctx.session.current.bind(ctx.session);
  let limit = kLskeysDefaultCount;
  if (argc(q) === 1) {
    if (startsWithDigit(q, 1)) limit = unsignedArg(q, 1);
    else t = () => tableArg(ctx, q, 1);
  } else if (argc(q) === 2) {
    t = () => tableArg(ctx, q, 1);
    limit = q.argIs(2, 'ALL') ? Number.MAX_SAFE_INTEGER : unsignedArg(q, 2);
  }
  const table = t();
  const type = keyType(table);
  if (limit <= kLskeysBatchKeys || table.size <= kLskeysBatchKeys) {
    const keys = table.someKeys(limit);
    ctx.w.typedArray(type, keys.length);
    for (const key of keys) ctx.w.element(key);
    return;
  }
  // A large listing: a stable view, written a batch per event-loop turn.
  const cursor = table.keyCursor();
  const total = Math.min(limit, cursor.total);
  ctx.w.typedArray(type, total);
  return (async () => {
    try {
      let written = 0;
      while (written < total) {
        const batch = cursor.next(Math.min(kLskeysBatchKeys, total - written));
        for (const key of batch) ctx.w.element(key);
        written += batch.length;
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      cursor.close();
    }
  })();
};

const heya: Action = (ctx, q) => {
  needArgs(q, argc(q) <= 1);
  if (argc(q) === 0) ctx.w.str('HEY!');
  else ctx.w.str(q.buffer, q.offset(1), q.length(1));
};

function snapshotReply(result: SnapshotResult): number | string {
  switch (result.code) {
    case 'ok':
      return Code.okay;
    case 'disabled':
      return SkyError.snapshotDisabled;
    case 'busy':
      return SkyError.snapshotBusy;
    case 'invalid-name':
      return SkyError.invalidSnapshotName;
    case 'duplicate':
      return SkyError.duplicateSnapshot;
    case 'failed':
      return Code.serverError;
  }
}

/** MKSNAP [name]: replies once the snapshot is durable and published; others keep being served. */
const mksnap: Action = (ctx, q) => {
  needArgs(q, argc(q) <= 1);
  const persistence = ctx.db.persistence;
  if (persistence === null) throw reply(SkyError.snapshotDisabled);
  const pending = argc(q) === 0 ? persistence.mkSnapshot() : persistence.mkNamedSnapshot(textArg(q, 1));
  return pending.then((result) => writeReply(ctx.w, snapshotReply(result)));
};

const whereami: Action = (ctx, q) => {
  needArgs(q, argc(q) === 0);
  const { keyspace, table } = ctx.session;
  const names = [keyspace ?? '', ...(table === null ? [] : [table])];
  ctx.w.nonNullArray(kSkyhashTypeString, names.length);
  for (const name of names) ctx.w.element(name);
};

/** USE ks | ks:tbl | :tbl — a bare name selects a keyspace (and no table), as Skytable. */
const use: Action = (ctx, q) => {
  needArgs(q, argc(q) === 1);
  const entity = entityArg(ctx, q, 1, true);
  ctx.session.use(entity.keyspace, entity.table);
  ctx.w.code(Code.okay);
};

const sys: Action = (ctx, q) => {
  needArgs(q, argc(q) === 2);
  if (q.argIs(1, 'INFO')) {
    if (q.argIs(2, 'VERSION')) return ctx.w.str(kVersion);
    if (q.argIs(2, 'PROTOCOL')) return ctx.w.str(kProtocolName);
    if (q.argIs(2, 'PROTOVER')) return ctx.w.float(kProtocolVersion);
    throw reply(SkyError.unknownProperty);
  }
  if (q.argIs(1, 'METRIC')) {
    if (q.argIs(2, 'HEALTH')) return ctx.w.str(ctx.db.engine.readOnly ? 'critical' : 'good');
    if (q.argIs(2, 'STORAGE')) {
      const persistence = ctx.db.persistence;
      if (persistence === null) return ctx.w.uint(0);
      return persistence.storageBytes().then(
        (bytes) => ctx.w.uint(bytes),
        () => ctx.w.code(Code.serverError),
      );
    }
    throw reply(SkyError.unknownMetric);
  }
  throw reply(SkyError.unknownAction);
};

const create: Action = (ctx, q) => {
  needArgs(q, argc(q) >= 2);
  if (q.argIs(1, 'KEYSPACE')) {
    needArgs(q, argc(q) === 2);
    const name = textArg(q, 2);
    try {
      checkContainerName(name);
    } catch (error) {
      // Skytable answers a bad keyspace name with malformed-expression.
      if (isFrostError(error, ErrorCode.badName)) throw reply(SkyError.malformedExpression);
      throw error;
    }
    ctx.db.engine.createKeyspace(name);
    return ctx.w.code(Code.okay);
  }
  if (q.argIs(1, 'TABLE')) {
    needArgs(q, argc(q) === 3 || argc(q) === 4);
    // Skytable 0.7's order: both texts' UTF-8, the entity, the model, the property, then the
    // read-only state and existence (in the engine).
    const modelText = textArg(q, 3);
    const entity = entityArg(ctx, q, 2, false, SkyError.containerNameTooLong);
    const model = parseModel(modelText);
    // Compared as bytes, as Skytable: anything but exactly `volatile` (even non-UTF-8) is unknown.
    if (argc(q) === 4 && q.argString(4, 'latin1') !== 'volatile') throw reply(SkyError.unknownProperty);
    ctx.db.engine.createTable({ keyspace: entity.keyspace, table: entity.table as string }, { ...model, volatile: argc(q) === 4 });
    return ctx.w.code(Code.okay);
  }
  throw reply(SkyError.unknownDdlQuery);
};

const drop: Action = (ctx, q) => {
  needArgs(q, argc(q) >= 2);
  if (q.argIs(1, 'TABLE')) {
    needArgs(q, argc(q) === 2);
    const entity = entityArg(ctx, q, 2, false);
    ctx.db.engine.dropTable({ keyspace: entity.keyspace, table: entity.table as string });
    return ctx.w.code(Code.okay);
  }
  if (q.argIs(1, 'KEYSPACE')) {
    needArgs(q, argc(q) === 2 || argc(q) === 3);
    // Skytable 0.7's order: the name's length, the force word, the read-only state; then
    // (in the engine) protected, not found, not empty, in use. frostkv's own refusals of a
    // name that cannot exist (not UTF-8, a `:`) come after the state, where "not found" would.
    if (q.length(2) > kContainerNameMaxBytes) throw reply(SkyError.containerNameTooLong);
    const force = argc(q) === 3;
    if (force && q.argString(3, 'latin1') !== 'force') throw reply(SkyError.unknownAction);
    ctx.db.engine.checkWritable();
    const name = textArg(q, 2);
    if (name.includes(':')) throw reply(SkyError.malformedExpression);
    ctx.db.engine.dropKeyspace(name, { force });
    return ctx.w.code(Code.okay);
  }
  throw reply(SkyError.unknownDdlQuery);
};

const inspect: Action = (ctx, q) => {
  needArgs(q, argc(q) >= 1);
  const engine = ctx.db.engine;
  const names = (list: string[]): void => {
    ctx.w.nonNullArray(kSkyhashTypeString, list.length);
    for (const name of list) ctx.w.element(name);
  };
  if (q.argIs(1, 'KEYSPACES')) {
    needArgs(q, argc(q) === 1);
    return names(engine.keyspaceNames());
  }
  if (q.argIs(1, 'KEYSPACE')) {
    needArgs(q, argc(q) <= 2);
    let keyspace = ctx.session.keyspace;
    if (argc(q) === 2) {
      // As Skytable 0.7: a name past 64 bytes is bad-container-name before anything else.
      if (q.length(2) > kContainerNameMaxBytes) throw reply(SkyError.badContainerName);
      keyspace = textArg(q, 2);
      try {
        checkContainerName(keyspace);
      } catch (error) {
        if (isFrostError(error, ErrorCode.nameTooLong)) throw reply(SkyError.badContainerName);
        throw error;
      }
    }
    if (keyspace === null) throw reply(SkyError.defaultContainerUnset);
    return names(engine.tableNames(keyspace));
  }
  if (q.argIs(1, 'TABLE')) {
    needArgs(q, argc(q) <= 2);
    const handle = argc(q) === 2 ? tableArg(ctx, q, 2) : ctx.session.current();
    return ctx.w.str(describeModel(handle.model));
  }
  throw reply(SkyError.unknownInspectQuery);
};

export const adminActions: ReadonlyArray<[string, Action]> = [
  ['DBSIZE', dbsize],
  ['FLUSHDB', flushdb],
  ['LSKEYS', lskeys],
  ['HEYA', heya],
  ['MKSNAP', mksnap],
  ['WHEREAMI', whereami],
  ['USE', use],
  ['SYS', sys],
  ['CREATE', create],
  ['DROP', drop],
  ['INSPECT', inspect],
];
