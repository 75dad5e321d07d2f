/**
 * Skytable 0.7 entity, DDL and administrative actions (docs/behaviour.md, Skyhash actions): DBSIZE FLUSHDB
 * LSKEYS HEYA MKSNAP WHEREAMI USE SYS CREATE DROP INSPECT (AUTH is in auth.ts).
 *
 * Guarantees: one reply element per action. FLUSHDB and DROP swap in empty tables in O(1)
 * (memory is reclaimed in the background); LSKEYS with a large count reads a frozen generation
 * in batches across event-loop turns, so no action's cost on the event loop grows with the data.
 * MKSNAP and SYS METRIC storage wait for the worker pool while other connections are served.
 * The DDL writes parse and check their arguments in their `check` step, so the read-only
 * state (code 5, dispatch.ts) is answered exactly where Skytable 0.7 does.
 */

import type { ArgView } from '../../protocol/args.js';
import { describeModel, parseModel } from '../../engine/model.js';
import { checkContainerName, kContainerNameMaxBytes } from '../../engine/names.js';
import { kVersion } from '../../version.js';
import { ErrorCode, isFrostError } from '../../util/errors.js';
import type { SnapshotResult } from '../../persist/persistence.js';
import { kSkyhashTypeString } from '../../protocol/skyhash/writer.js';
import { Code, SkyError, argc, entityArg, keyType, reply, tableArg, textArg, unsignedArg, writeReply, type SkyContext } from './context.js';
import { atLeast, atMost, exact, oneOf, plainAction, type AnyDefinition } from './spec.js';

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
  const t = argc(q) === 1 ? tableArg(ctx, q, 1) : ctx.session.current();
  ctx.w.uint(t.size);
};

/** FLUSHDB [entity]: as Skytable 0.7, the read-only state is checked before the entity is parsed. */
const flushdb: Action = (ctx, q) => {
  const t = argc(q) === 1 ? tableArg(ctx, q, 1) : ctx.session.current();
  t.clear();
  ctx.w.code(Code.okay);
};

/** LSKEYS [n] | [entity [n]] | [entity all]: up to n keys (default 10) as a typed array. */
const lskeys: Action = (ctx, q) => {
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
  const persistence = ctx.db.persistence;
  if (persistence === null) throw reply(SkyError.snapshotDisabled);
  const pending = argc(q) === 0 ? persistence.mkSnapshot() : persistence.mkNamedSnapshot(textArg(q, 1));
  return pending.then((result) => writeReply(ctx.w, snapshotReply(result)));
};

const whereami: Action = (ctx) => {
  const { keyspace, table } = ctx.session;
  const names = [keyspace ?? '', ...(table === null ? [] : [table])];
  ctx.w.nonNullArray(kSkyhashTypeString, names.length);
  for (const name of names) ctx.w.element(name);
};

/** USE ks | ks:tbl | :tbl — a bare name selects a keyspace (and no table), as Skytable. */
const use: Action = (ctx, q) => {
  const entity = entityArg(ctx, q, 1, true);
  ctx.session.use(entity.keyspace, entity.table);
  ctx.w.code(Code.okay);
};

const sysInfo: Action = (ctx, q) => {
  if (q.argIs(2, 'VERSION')) return ctx.w.str(kVersion);
  if (q.argIs(2, 'PROTOCOL')) return ctx.w.str(kProtocolName);
  if (q.argIs(2, 'PROTOVER')) return ctx.w.float(kProtocolVersion);
  throw reply(SkyError.unknownProperty);
};

const sysMetric: Action = (ctx, q) => {
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
};

/** CREATE KEYSPACE's checks before the read-only state: the name's UTF-8 and shape. */
function checkNewKeyspace(_ctx: SkyContext, q: ArgView): string {
  const name = textArg(q, 2);
  try {
    checkContainerName(name);
  } catch (error) {
    // Skytable answers a bad keyspace name with malformed-expression.
    if (isFrostError(error, ErrorCode.badName)) throw reply(SkyError.malformedExpression);
    throw error;
  }
  return name;
}

interface NewTable {
  readonly keyspace: string;
  readonly table: string;
  readonly model: ReturnType<typeof parseModel>;
}

/**
 * CREATE TABLE's checks in Skytable 0.7's order: both texts' UTF-8, the entity, the model, the
 * property; then (dispatch.ts) the read-only state, and existence in the engine.
 */
function checkNewTable(ctx: SkyContext, q: ArgView): NewTable {
  const modelText = textArg(q, 3);
  const entity = entityArg(ctx, q, 2, false, SkyError.containerNameTooLong);
  const model = parseModel(modelText);
  // Compared as bytes, as Skytable: anything but exactly `volatile` (even non-UTF-8) is unknown.
  if (argc(q) === 4 && q.argString(4, 'latin1') !== 'volatile') throw reply(SkyError.unknownProperty);
  return { keyspace: entity.keyspace, table: entity.table as string, model };
}

/**
 * DROP KEYSPACE's checks before the read-only state, in Skytable 0.7's order: the name's
 * length, the force word. After it: frostkv's own refusals of a name that cannot exist (not
 * UTF-8, a `:`), where "not found" would be, then (in the engine) protected, not found, not
 * empty, in use.
 */
function checkDropKeyspace(_ctx: SkyContext, q: ArgView): void {
  if (q.length(2) > kContainerNameMaxBytes) throw reply(SkyError.containerNameTooLong);
  if (argc(q) === 3 && q.argString(3, 'latin1') !== 'force') throw reply(SkyError.unknownAction);
}

const dropKeyspace: Action = (ctx, q) => {
  const name = textArg(q, 2);
  if (name.includes(':')) throw reply(SkyError.malformedExpression);
  ctx.db.engine.dropKeyspace(name, { force: argc(q) === 3 });
  ctx.w.code(Code.okay);
};

function writeNames(ctx: SkyContext, list: string[]): void {
  ctx.w.nonNullArray(kSkyhashTypeString, list.length);
  for (const name of list) ctx.w.element(name);
}

/** INSPECT KEYSPACE [ks]: as Skytable 0.7, a name past 64 bytes is bad-container-name before anything else. */
const inspectKeyspace: Action = (ctx, q) => {
  let keyspace = ctx.session.keyspace;
  if (argc(q) === 2) {
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
  writeNames(ctx, ctx.db.engine.tableNames(keyspace));
};

const inspectTable: Action = (ctx, q) => {
  const handle = argc(q) === 2 ? tableArg(ctx, q, 2) : ctx.session.current();
  ctx.w.str(describeModel(handle.model));
};

export const adminActions: readonly AnyDefinition[] = [
  plainAction({ name: 'DBSIZE', arity: atMost(1), run: dbsize }),
  plainAction({ name: 'FLUSHDB', arity: atMost(1), write: true, run: flushdb }),
  plainAction({ name: 'LSKEYS', arity: atMost(2), run: lskeys }),
  plainAction({ name: 'HEYA', arity: atMost(1), run: heya }),
  plainAction({ name: 'MKSNAP', arity: atMost(1), run: mksnap }),
  plainAction({ name: 'WHEREAMI', arity: exact(0), run: whereami }),
  plainAction({ name: 'USE', arity: exact(1), run: use }),
  plainAction({
    name: 'SYS',
    arity: exact(2),
    subactions: {
      at: 1,
      unknown: SkyError.unknownAction,
      list: [plainAction({ name: 'INFO', arity: exact(2), run: sysInfo }), plainAction({ name: 'METRIC', arity: exact(2), run: sysMetric })],
    },
  }),
  plainAction({
    name: 'CREATE',
    arity: atLeast(2),
    subactions: {
      at: 1,
      unknown: SkyError.unknownDdlQuery,
      list: [
        plainAction({
          name: 'KEYSPACE',
          arity: exact(2),
          write: true,
          check: checkNewKeyspace,
          run: (ctx, _q, _t, name) => {
            ctx.db.engine.createKeyspace(name);
            ctx.w.code(Code.okay);
          },
        }),
        plainAction({
          name: 'TABLE',
          arity: oneOf(3, 4),
          write: true,
          check: checkNewTable,
          run: (ctx, q, _t, { keyspace, table, model }) => {
            ctx.db.engine.createTable({ keyspace, table }, { ...model, volatile: argc(q) === 4 });
            ctx.w.code(Code.okay);
          },
        }),
      ],
    },
  }),
  plainAction({
    name: 'DROP',
    arity: atLeast(2),
    subactions: {
      at: 1,
      unknown: SkyError.unknownDdlQuery,
      list: [
        plainAction({
          name: 'TABLE',
          arity: exact(2),
          write: true,
          check: (ctx, q) => entityArg(ctx, q, 2, false),
          run: (ctx, _q, _t, entity) => {
            ctx.db.engine.dropTable({ keyspace: entity.keyspace, table: entity.table as string });
            ctx.w.code(Code.okay);
          },
        }),
        plainAction({ name: 'KEYSPACE', arity: oneOf(2, 3), write: true, check: checkDropKeyspace, run: dropKeyspace }),
      ],
    },
  }),
  plainAction({
    name: 'INSPECT',
    arity: atLeast(1),
    subactions: {
      at: 1,
      unknown: SkyError.unknownInspectQuery,
      list: [
        plainAction({ name: 'KEYSPACES', arity: exact(1), run: (ctx) => writeNames(ctx, ctx.db.engine.keyspaceNames()) }),
        plainAction({ name: 'KEYSPACE', arity: atMost(2), run: inspectKeyspace }),
        plainAction({ name: 'TABLE', arity: atMost(2), run: inspectTable }),
      ],
    },
  }),
];
