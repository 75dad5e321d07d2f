/**
 * RESP2 commands with Redis's reply shapes and error texts (docs/behaviour.md, RESP2), served from one
 * configured table with Redis semantics (SET overwrites).
 *
 * Guarantees:
 * - Every command writes exactly one reply. Writes are refused with Redis's `-MISCONF` text
 *   while frostkv is read-only after a failed save; a list table gets `-WRONGTYPE`.
 * - Arity errors, syntax errors and unknown commands use Redis 7's texts, so clients and tools
 *   react as they do with Redis.
 * - KEYS on a large table reads a frozen generation in batches across event-loop turns; SCAN
 *   walks the table in hash order, so a key present throughout a full scan is returned once.
 */

import type { Database } from '../../database.js';
import type { TableHandle } from '../../engine/handle.js';
import type { ArgView } from '../../protocol/args.js';
import type { RespWriter } from '../../protocol/resp/writer.js';
import { record } from '../../table/segment.js';
import { ErrorCode, isFrostError, type ErrorCodeValue } from '../../util/errors.js';
import { kRespLoadingError } from '../loading.js';
import type { Logger } from '../../util/log.js';
import type { ServerView } from '../stats.js';
import { globMatch, isMatchAll } from './glob.js';
import { AuthFailure, AuthSession, authServiceFor } from '../../auth/provider.js';
import { kRootUser } from '../../auth/users.js';
import { configPairs, infoText, kRedisCompatVersion } from './info.js';

export const RespText = {
  misconf:
    "MISCONF frostkv is configured to save snapshots, but it's currently unable to persist to disk. " +
    'Commands that may modify the data set are disabled, because the last save failed (failsafe). ' +
    'Please check the frostkv logs for details about the error.',
  wrongType: 'WRONGTYPE Operation against a key holding the wrong kind of value',
  syntax: 'ERR syntax error',
  notInteger: 'ERR value is not an integer or out of range',
  overflow: 'ERR increment or decrement would overflow',
  noExpiry: 'ERR expiry is not supported by frostkv: keys never expire (drop EX/PX/EXAT/PXAT)',
  bgsaveRunning: 'ERR Background save already in progress',
  noAuth: 'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
  dbIndex: 'ERR DB index is out of range',
  invalidCursor: 'ERR invalid cursor',
  noProto: 'NOPROTO unsupported protocol version',
  wrongPass: 'WRONGPASS invalid username-password pair or user is disabled.',
  authRequired: 'NOAUTH Authentication required.',
  helloNoAuth:
    'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> ' +
    'option can be used to authenticate the client and select the RESP protocol version at the same time',
  badClientName: 'ERR Client names cannot contain spaces, newlines or special characters.',
  tooLarge: 'ERR string exceeds maximum allowed size (proto-max-bulk-len)',
  notUtf8: 'ERR value is not valid UTF-8, and this table stores str',
} as const;

/** Reply `ERR <the error's message>` (and log it): codes a RESP command meets only through a bug or the host. */
const kAnswerWithMessage = Symbol('message');
/** Reply that the served table is gone (it was dropped over Skyhash). */
const kAnswerMissingTable = Symbol('missing table');

/**
 * The RESP reply for every FrostError code. A Record over the whole registry: a new code
 * without an answer here does not compile.
 */
const kRespReplyForCode: Record<ErrorCodeValue, string | typeof kAnswerWithMessage | typeof kAnswerMissingTable> = {
  [ErrorCode.readOnly]: RespText.misconf,
  [ErrorCode.wrongModel]: RespText.wrongType,
  [ErrorCode.encoding]: RespText.notUtf8,
  [ErrorCode.keyTooLarge]: RespText.tooLarge,
  [ErrorCode.valueTooLarge]: RespText.tooLarge,
  [ErrorCode.tableNotFound]: kAnswerMissingTable,
  [ErrorCode.keyspaceNotFound]: kAnswerMissingTable,
  [ErrorCode.loading]: kRespLoadingError,
  [ErrorCode.alreadyExists]: kAnswerWithMessage,
  [ErrorCode.badName]: kAnswerWithMessage,
  [ErrorCode.nameTooLong]: kAnswerWithMessage,
  [ErrorCode.protectedObject]: kAnswerWithMessage,
  [ErrorCode.keyspaceNotEmpty]: kAnswerWithMessage,
  [ErrorCode.stillInUse]: kAnswerWithMessage,
  [ErrorCode.badTypeForKey]: kAnswerWithMessage,
  [ErrorCode.unknownModel]: kAnswerWithMessage,
  [ErrorCode.malformedExpression]: kAnswerWithMessage,
  [ErrorCode.tooManyArgs]: kAnswerWithMessage,
  [ErrorCode.unknownProperty]: kAnswerWithMessage,
  [ErrorCode.unknownDataType]: kAnswerWithMessage,
  [ErrorCode.badListIndex]: kAnswerWithMessage,
  [ErrorCode.listIsEmpty]: kAnswerWithMessage,
  [ErrorCode.closed]: kAnswerWithMessage,
  [ErrorCode.badOption]: kAnswerWithMessage,
  [ErrorCode.tableFull]: kAnswerWithMessage,
  [ErrorCode.corruptList]: kAnswerWithMessage,
  [ErrorCode.defaultContainerUnset]: kAnswerWithMessage,
  [ErrorCode.inMemory]: kAnswerWithMessage,
  [ErrorCode.badArgument]: kAnswerWithMessage,
  [ErrorCode.configBadValue]: kAnswerWithMessage,
  [ErrorCode.configUnknownKey]: kAnswerWithMessage,
  [ErrorCode.configSyntax]: kAnswerWithMessage,
  [ErrorCode.configMissing]: kAnswerWithMessage,
  [ErrorCode.configConflict]: kAnswerWithMessage,
  [ErrorCode.configFile]: kAnswerWithMessage,
  [ErrorCode.configUsage]: kAnswerWithMessage,
  [ErrorCode.configProd]: kAnswerWithMessage,
  [ErrorCode.configInvalid]: kAnswerWithMessage,
  [ErrorCode.saveCheck]: kAnswerWithMessage,
  [ErrorCode.corruptSave]: kAnswerWithMessage,
  [ErrorCode.loadLayout]: kAnswerWithMessage,
  [ErrorCode.dataDirUnusable]: kAnswerWithMessage,
  [ErrorCode.dataDirLocked]: kAnswerWithMessage,
  [ErrorCode.restoreRefused]: kAnswerWithMessage,
  [ErrorCode.restoreFailed]: kAnswerWithMessage,
  [ErrorCode.io]: kAnswerWithMessage,
  [ErrorCode.shutdownSaveAbandoned]: kAnswerWithMessage,
  [ErrorCode.addressInUse]: kAnswerWithMessage,
  [ErrorCode.listenFailed]: kAnswerWithMessage,
  [ErrorCode.tlsFileUnreadable]: kAnswerWithMessage,
  [ErrorCode.tlsBadKey]: kAnswerWithMessage,
  [ErrorCode.tlsBadPassphrase]: kAnswerWithMessage,
  [ErrorCode.tlsBadCertificate]: kAnswerWithMessage,
  [ErrorCode.protocolFraming]: kAnswerWithMessage,
  [ErrorCode.protocolTooLarge]: kAnswerWithMessage,
  [ErrorCode.protocolBadSize]: kAnswerWithMessage,
  [ErrorCode.protocolEmpty]: kAnswerWithMessage,
  [ErrorCode.protocolUnbalancedQuotes]: kAnswerWithMessage,
};

/** KEYS answers up to this many keys in one event-loop turn; more are read in batches. */
export const kKeysBatch = 4_096;
/** SCAN visits segments until at least COUNT keys were looked at (COUNT is a hint, as in Redis). */
export const kScanDefaultCount = 10;

/** Redis's name for the user a password-only `AUTH <password>` logs in as. */
export const kRedisDefaultUser = 'default';

export class RespClient {
  readonly id: number;
  name: string | null = null;
  quit = false;
  /** Who this client is (the same model as Skyhash's); set once the database is loaded. */
  auth: AuthSession | null = null;
  constructor(id: number) {
    this.id = id;
  }

  /** Whether the client may run commands other than AUTH, HELLO and QUIT. */
  get authenticated(): boolean {
    return this.auth === null || this.auth.authenticated;
  }
}

export class RespContext {
  readonly db: Database;
  readonly w: RespWriter;
  readonly view: ServerView;
  readonly logger: Logger;
  readonly client: RespClient;
  readonly tableEntity: string;
  private handle: TableHandle | null = null;

  constructor(db: Database, w: RespWriter, view: ServerView, logger: Logger, client: RespClient, tableEntity: string) {
    this.db = db;
    this.w = w;
    this.view = view;
    this.logger = logger;
    this.client = client;
    this.tableEntity = tableEntity;
    client.auth ??= new AuthSession(authServiceFor(db));
  }

  /** The served table (looked up again if it was dropped and re-created). */
  table(): TableHandle {
    if (this.handle === null || this.handle.isDropped) this.handle = this.db.engine.table(this.tableEntity);
    return this.handle;
  }

  /** Write the Redis-style reply for an error an action threw. */
  fail(error: unknown, command: string): void {
    if (error instanceof RespReply) return this.w.error(error.text);
    if (isFrostError(error)) {
      const answer = Object.hasOwn(kRespReplyForCode, error.code) ? kRespReplyForCode[error.code] : kAnswerWithMessage;
      if (answer === kAnswerMissingTable) return this.w.error(`ERR the table ${this.tableEntity} that RESP serves does not exist`);
      if (answer === kAnswerWithMessage) {
        this.logger.warn(`RESP ${command} failed: ${error.message}`);
        return this.w.error(`ERR ${error.message}`);
      }
      return this.w.error(answer);
    }
    throw error;
  }
}

export class RespReply {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

function fail(text: string): RespReply {
  return new RespReply(text);
}

export function arityError(name: string): RespReply {
  return fail(`ERR wrong number of arguments for '${name.toLowerCase()}' command`);
}

export type RespCommand = (ctx: RespContext, q: ArgView) => void | Promise<void>;

/** A command and its Redis arity (positive: exact argument count incl. the name; negative: at least). */
export interface CommandSpec {
  run: RespCommand;
  arity: number;
  write: boolean;
}

// ---------------------------------------------------------------- strings

function getValue(ctx: RespContext, q: ArgView, i: number): boolean {
  const found = ctx.table().getRange(q.buffer, q.offset(i), q.length(i));
  if (found) ctx.view.stats.keyspaceHits++;
  else ctx.view.stats.keyspaceMisses++;
  return found;
}

const get: RespCommand = (ctx, q) => {
  if (getValue(ctx, q, 1)) ctx.w.bulk(record.bytes, record.valueOffset, record.valueLength);
  else ctx.w.nullBulk();
};

/** SET key value [NX|XX] [GET] [KEEPTTL]; EX/PX/EXAT/PXAT answer that expiry is unsupported. */
const set: RespCommand = (ctx, q) => {
  let mode: 'upsert' | 'insert' | 'update' = 'upsert';
  let returnOld = false;
  for (let i = 3; i < q.count; i++) {
    if (q.argIs(i, 'NX') && mode !== 'update') mode = 'insert';
    else if (q.argIs(i, 'XX') && mode !== 'insert') mode = 'update';
    else if (q.argIs(i, 'GET')) returnOld = true;
    else if (q.argIs(i, 'KEEPTTL')) continue;
    else if (q.argIs(i, 'EX') || q.argIs(i, 'PX') || q.argIs(i, 'EXAT') || q.argIs(i, 'PXAT')) throw fail(RespText.noExpiry);
    else throw fail(RespText.syntax);
  }
  const t = ctx.table();
  let old: Buffer | null = null;
  if (returnOld && t.getRange(q.buffer, q.offset(1), q.length(1))) old = Buffer.from(record.bytes.subarray(record.valueOffset, record.valueOffset + record.valueLength));
  const written = t.writeRange(mode, q.buffer, q.offset(1), q.length(1), q.buffer, q.offset(2), q.length(2));
  if (returnOld) {
    if (old === null) ctx.w.nullBulk();
    else ctx.w.bulk(old);
  } else if (written) {
    ctx.w.ok();
  } else {
    ctx.w.nullBulk();
  }
};

const setnx: RespCommand = (ctx, q) => {
  const t = ctx.table();
  ctx.w.integer(t.writeRange('insert', q.buffer, q.offset(1), q.length(1), q.buffer, q.offset(2), q.length(2)) ? 1 : 0);
};

const getset: RespCommand = (ctx, q) => {
  const t = ctx.table();
  t.checkWritable();
  let old: Buffer | null = null;
  if (t.getRange(q.buffer, q.offset(1), q.length(1))) old = Buffer.from(record.bytes.subarray(record.valueOffset, record.valueOffset + record.valueLength));
  t.writeRange('upsert', q.buffer, q.offset(1), q.length(1), q.buffer, q.offset(2), q.length(2));
  if (old === null) ctx.w.nullBulk();
  else ctx.w.bulk(old);
};

const getdel: RespCommand = (ctx, q) => {
  const t = ctx.table();
  t.checkWritable();
  if (!getValue(ctx, q, 1)) return ctx.w.nullBulk();
  ctx.w.bulk(record.bytes, record.valueOffset, record.valueLength);
  t.deleteRange(q.buffer, q.offset(1), q.length(1));
};

const strlen: RespCommand = (ctx, q) => {
  ctx.w.integer(ctx.table().getRange(q.buffer, q.offset(1), q.length(1)) ? record.valueLength : 0);
};

const mget: RespCommand = (ctx, q) => {
  ctx.w.array(q.count - 1);
  for (let i = 1; i < q.count; i++) {
    if (getValue(ctx, q, i)) ctx.w.bulk(record.bytes, record.valueOffset, record.valueLength);
    else ctx.w.nullBulk();
  }
};

const mset: RespCommand = (ctx, q) => {
  if ((q.count - 1) % 2 !== 0) throw arityError('mset');
  const t = ctx.table();
  for (let i = 1; i < q.count; i += 2) {
    t.checkKeyRange(q.buffer, q.offset(i), q.length(i));
    t.checkValueRange(q.buffer, q.offset(i + 1), q.length(i + 1));
  }
  t.checkWritable();
  for (let i = 1; i < q.count; i += 2) t.writeRange('upsert', q.buffer, q.offset(i), q.length(i), q.buffer, q.offset(i + 1), q.length(i + 1));
  ctx.w.ok();
};

const kInt64Min = -(2n ** 63n);
const kInt64Max = 2n ** 63n - 1n;

/** Redis's string-to-int64 rule: optional '-', no leading zeros, no spaces, in range. */
function parseInt64(text: string): bigint | null {
  if (!/^(-?[1-9][0-9]{0,18}|0)$/.test(text)) return null;
  const value = BigInt(text);
  return value < kInt64Min || value > kInt64Max ? null : value;
}

function incrementBy(ctx: RespContext, q: ArgView, delta: bigint): void {
  const t = ctx.table();
  t.checkWritable();
  let current = 0n;
  if (t.getRange(q.buffer, q.offset(1), q.length(1))) {
    const parsed = parseInt64(Buffer.from(record.bytes.subarray(record.valueOffset, record.valueOffset + record.valueLength)).toString('latin1'));
    if (parsed === null) throw fail(RespText.notInteger);
    current = parsed;
  }
  const next = current + delta;
  if (next < kInt64Min || next > kInt64Max) throw fail(RespText.overflow);
  const text = Buffer.from(next.toString(), 'latin1');
  t.writeRange('upsert', q.buffer, q.offset(1), q.length(1), text, 0, text.length);
  ctx.w.integer(next);
}

function deltaArg(q: ArgView, i: number): bigint {
  const parsed = parseInt64(q.argString(i, 'latin1'));
  if (parsed === null) throw fail(RespText.notInteger);
  return parsed;
}

/** DECRBY: Redis refuses a decrement of -2^63 up front (its negation does not fit an int64). */
const decrby: RespCommand = (ctx, q) => {
  const delta = deltaArg(q, 2);
  if (delta === kInt64Min) throw fail('ERR decrement would overflow');
  incrementBy(ctx, q, -delta);
};

// ---------------------------------------------------------------- keys

const del: RespCommand = (ctx, q) => {
  const t = ctx.table();
  for (let i = 1; i < q.count; i++) t.checkKeyRange(q.buffer, q.offset(i), q.length(i));
  t.checkWritable();
  let removed = 0;
  for (let i = 1; i < q.count; i++) if (t.deleteRange(q.buffer, q.offset(i), q.length(i))) removed++;
  ctx.w.integer(removed);
};

const exists: RespCommand = (ctx, q) => {
  const t = ctx.table();
  let present = 0;
  for (let i = 1; i < q.count; i++) if (t.hasRange(q.buffer, q.offset(i), q.length(i))) present++;
  ctx.w.integer(present);
};

const type: RespCommand = (ctx, q) => {
  ctx.w.simple(ctx.table().hasRange(q.buffer, q.offset(1), q.length(1)) ? 'string' : 'none');
};

const ttl: RespCommand = (ctx, q) => {
  ctx.w.integer(ctx.table().hasRange(q.buffer, q.offset(1), q.length(1)) ? -1 : -2);
};

const expire: RespCommand = () => {
  throw fail(RespText.noExpiry);
};

const dbsize: RespCommand = (ctx) => {
  ctx.w.integer(ctx.table().size);
};

const flushdb: RespCommand = (ctx, q) => {
  if (q.count > 2 || (q.count === 2 && !q.argIs(1, 'ASYNC') && !q.argIs(1, 'SYNC'))) throw fail(RespText.syntax);
  ctx.table().clear();
  ctx.w.ok();
};

const keys: RespCommand = (ctx, q) => {
  const pattern = Buffer.from(q.arg(1));
  const all = isMatchAll(pattern);
  const t = ctx.table();
  const cursor = t.keyCursor();
  const matched: Buffer[] = [];
  const take = (batch: Buffer[]): void => {
    for (const key of batch) if (all || globMatch(pattern, key)) matched.push(key);
  };
  if (cursor.total <= kKeysBatch) {
    take(cursor.next(kKeysBatch));
    cursor.close();
    ctx.w.array(matched.length);
    for (const key of matched) ctx.w.bulk(key);
    return;
  }
  return (async () => {
    try {
      for (;;) {
        const batch = cursor.next(kKeysBatch);
        if (batch.length === 0) break;
        take(batch);
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      cursor.close();
    }
    ctx.w.array(matched.length);
    for (const key of matched) ctx.w.bulk(key);
  })();
};

/** SCAN cursor [MATCH pattern] [COUNT n] [TYPE type]: cursors are positions in hash order. */
const scan: RespCommand = (ctx, q) => {
  const cursorText = q.argString(1, 'latin1');
  if (!/^[0-9]{1,20}$/.test(cursorText)) throw fail(RespText.invalidCursor);
  let cursor = Number(cursorText);
  if (cursor >= 2 ** 32) throw fail(RespText.invalidCursor);
  let pattern: Buffer | null = null;
  let count = kScanDefaultCount;
  let typeFilter: string | null = null;
  for (let i = 2; i < q.count; i += 2) {
    if (i + 1 >= q.count) throw fail(RespText.syntax);
    if (q.argIs(i, 'MATCH')) pattern = Buffer.from(q.arg(i + 1));
    else if (q.argIs(i, 'COUNT')) {
      const parsed = parseInt64(q.argString(i + 1, 'latin1'));
      if (parsed === null) throw fail(RespText.notInteger);
      if (parsed < 1n) throw fail(RespText.syntax);
      count = Number(parsed > 1_000_000n ? 1_000_000n : parsed);
    } else if (q.argIs(i, 'TYPE')) typeFilter = q.argString(i + 1).toLowerCase();
    else throw fail(RespText.syntax);
  }
  const t = ctx.table();
  t.requireKv();
  const found: Buffer[] = [];
  let visited = 0;
  do {
    cursor = t.scanCursor(cursor, (bytes, offset, length) => {
      visited++;
      if (typeFilter !== null && typeFilter !== 'string') return;
      if (pattern !== null && !globMatch(pattern, bytes, offset, length)) return;
      found.push(Buffer.from(bytes.subarray(offset, offset + length)));
    });
  } while (cursor !== 0 && visited < count);
  ctx.w.array(2);
  ctx.w.bulk(String(cursor));
  ctx.w.array(found.length);
  for (const key of found) ctx.w.bulk(key);
};

// ---------------------------------------------------------------- persistence

const bgsave: RespCommand = (ctx, q) => {
  const persistence = ctx.db.persistence;
  if (persistence === null) throw fail('ERR this frostkv has no data directory');
  const schedule = q.count === 2 && q.argIs(1, 'SCHEDULE');
  if (q.count > 2 || (q.count === 2 && !schedule)) throw fail(RespText.syntax);
  if (persistence.liveSaveInProgress) {
    if (!schedule) throw fail(RespText.bgsaveRunning);
    void persistence.liveSave('manual');
    return ctx.w.simple('Background saving scheduled');
  }
  void persistence.liveSave('manual');
  ctx.w.simple('Background saving started');
};

const save: RespCommand = (ctx) => {
  const persistence = ctx.db.persistence;
  if (persistence === null) throw fail('ERR this frostkv has no data directory');
  return persistence.liveSave('manual').then((result) => {
    if (result.ok) ctx.w.ok();
    else ctx.w.error(`ERR ${result.report?.failure?.message ?? 'the save failed'}`);
  });
};

/** LASTSAVE: the last successful live save; before any, the server's start time (as Redis). */
const lastsave: RespCommand = (ctx) => {
  const last = ctx.db.persistence?.status().lastSaveTimeMs ?? null;
  ctx.w.integer(Math.floor((last ?? ctx.view.stats.startedAtMs) / 1000));
};

const info: RespCommand = (ctx, q) => {
  const sections: string[] = [];
  for (let i = 1; i < q.count; i++) sections.push(q.argString(i, 'latin1'));
  ctx.w.bulk(infoText(ctx.db, ctx.view, ctx.tableEntity, sections));
};

const config: RespCommand = (ctx, q) => {
  if (q.argIs(1, 'GET')) {
    if (q.count < 3) throw arityError('config|get');
    const pairs = configPairs(ctx.db, ctx.view);
    const out: Array<[string, string]> = [];
    for (let i = 2; i < q.count; i++) {
      const asked = q.argString(i);
      const pattern = Buffer.from(asked.toLowerCase());
      const exact = !/[*?[\\]/.test(asked);
      for (const pair of pairs) {
        if (!globMatch(pattern, Buffer.from(pair[0])) || out.some(([name]) => name.toLowerCase() === pair[0])) continue;
        // Redis answers an exact name as the client spelled it, a pattern's matches canonically.
        out.push(exact ? [asked, pair[1]] : pair);
      }
    }
    ctx.w.array(out.length * 2);
    for (const [name, value] of out) {
      ctx.w.bulk(name);
      ctx.w.bulk(value);
    }
    return;
  }
  if (q.argIs(1, 'RESETSTAT')) return ctx.w.ok();
  if (q.argIs(1, 'SET')) throw fail(`ERR Unknown option or number of arguments for CONFIG SET - '${q.count > 2 ? q.argString(2) : ''}'`);
  throw fail(`ERR unknown subcommand '${q.argString(1)}'. Try CONFIG HELP.`);
};

// ---------------------------------------------------------------- connection

const ping: RespCommand = (ctx, q) => {
  if (q.count > 2) throw arityError('ping');
  if (q.count === 2) ctx.w.bulk(q.buffer, q.offset(1), q.length(1));
  else ctx.w.simple('PONG');
};

const echo: RespCommand = (ctx, q) => {
  ctx.w.bulk(q.buffer, q.offset(1), q.length(1));
};

const quit: RespCommand = (ctx) => {
  ctx.client.quit = true;
  ctx.w.ok();
};

const select: RespCommand = (ctx, q) => {
  const index = parseInt64(q.argString(1, 'latin1'));
  if (index === null) throw fail(RespText.notInteger);
  if (index !== 0n) throw fail(RespText.dbIndex);
  ctx.w.ok();
};

/**
 * Without auth configured Redis 7's `default` user has no password: `AUTH <pw>` complains that
 * no password is set, `AUTH default <anything>` succeeds, any other user is WRONGPASS.
 */
function checkAuth(q: ArgView, from: number, count: number): void {
  if (count === 1) throw fail(RespText.noAuth);
  if (count !== 2) throw fail(RespText.syntax);
  if (!q.argIs(from, 'default')) throw fail(RespText.wrongPass);
}

/**
 * With auth on: log in as `user` (or as root for `AUTH <token>` and for Redis's `default` user
 * when no user of that name exists). Any failure is WRONGPASS and leaves the client as it was.
 */
function login(ctx: RespContext, q: ArgView, userAt: number | null, tokenAt: number): void {
  const session = ctx.client.auth as AuthSession;
  let user: Buffer = userAt === null ? Buffer.from(kRootUser) : Buffer.from(q.arg(userAt));
  if (userAt !== null && q.argIs(userAt, kRedisDefaultUser) && !session.service.users.has(kRedisDefaultUser)) user = Buffer.from(kRootUser);
  try {
    session.login(user, q.arg(tokenAt));
  } catch (error) {
    if (error instanceof AuthFailure) throw fail(RespText.wrongPass);
    throw error;
  }
}

function authOn(ctx: RespContext): boolean {
  return ctx.client.auth?.service.enabled === true;
}

const auth: RespCommand = (ctx, q) => {
  if (!authOn(ctx)) {
    checkAuth(q, 1, q.count - 1);
    return ctx.w.ok();
  }
  if (q.count > 3) throw fail(RespText.syntax);
  login(ctx, q, q.count === 3 ? 1 : null, q.count - 1);
  ctx.w.ok();
};

const hello: RespCommand = (ctx, q) => {
  if (q.count >= 2) {
    const version = parseInt64(q.argString(1, 'latin1'));
    if (version === null) throw fail('ERR Protocol version is not an integer or out of range');
    if (version !== 2n) throw fail(RespText.noProto);
  }
  let name: string | null | undefined;
  for (let i = 2; i < q.count; i++) {
    if (q.argIs(i, 'AUTH') && i + 2 < q.count) {
      if (authOn(ctx)) login(ctx, q, i + 1, i + 2);
      else checkAuth(q, i + 1, 2);
      i += 2;
    } else if (q.argIs(i, 'SETNAME') && i + 1 < q.count) {
      name = clientName(q.argString(++i));
    } else {
      throw fail(`ERR Syntax error in HELLO option '${q.argString(i)}'`);
    }
  }
  if (!ctx.client.authenticated) throw fail(RespText.helloNoAuth);
  if (name !== undefined) ctx.client.name = name;
  const fields: Array<[string, string | number]> = [
    ['server', 'redis'],
    ['version', kRedisCompatVersion],
    ['proto', 2],
    ['id', ctx.client.id],
    ['mode', 'standalone'],
    ['role', 'master'],
  ];
  ctx.w.array(fields.length * 2 + 2);
  for (const [name, value] of fields) {
    ctx.w.bulk(name);
    if (typeof value === 'number') ctx.w.integer(value);
    else ctx.w.bulk(value);
  }
  ctx.w.bulk('modules');
  ctx.w.array(0);
};

/** CLIENT LIST's `user=`: Redis's `default` while auth is off, the logged-in user, or empty. */
function clientUser(ctx: RespContext): string {
  if (!authOn(ctx)) return kRedisDefaultUser;
  return ctx.client.auth?.user ?? '';
}

/** A client name as Redis accepts it: printable ASCII without spaces; empty clears it. */
function clientName(text: string): string | null {
  if (!/^[\x21-\x7e]*$/.test(text)) throw fail(RespText.badClientName);
  return text.length === 0 ? null : text;
}

function subArity(q: ArgView, name: string, ok: boolean): void {
  if (!ok) throw arityError(name);
}

const client: RespCommand = (ctx, q) => {
  if (q.argIs(1, 'SETNAME')) {
    subArity(q, 'client|setname', q.count === 3);
    ctx.client.name = clientName(q.argString(2));
    return ctx.w.ok();
  }
  if (q.argIs(1, 'GETNAME')) {
    subArity(q, 'client|getname', q.count === 2);
    return ctx.client.name === null ? ctx.w.nullBulk() : ctx.w.bulk(ctx.client.name);
  }
  if (q.argIs(1, 'ID')) {
    subArity(q, 'client|id', q.count === 2);
    return ctx.w.integer(ctx.client.id);
  }
  if (q.argIs(1, 'SETINFO')) {
    subArity(q, 'client|setinfo', q.count === 4);
    if (!q.argIs(2, 'LIB-NAME') && !q.argIs(2, 'LIB-VER')) throw fail(`ERR Unrecognized option '${q.argString(2)}'`);
    return ctx.w.ok();
  }
  if (q.argIs(1, 'INFO') || q.argIs(1, 'LIST')) {
    return ctx.w.bulk(`id=${ctx.client.id} name=${ctx.client.name ?? ''} db=0 user=${clientUser(ctx)} resp=2\n`);
  }
  throw fail(`ERR unknown subcommand '${q.count > 1 ? q.argString(1) : ''}'. Try CLIENT HELP.`);
};

/** COMMAND [COUNT|INFO|DOCS]: enough for redis-cli's hints and tools that probe commands. */
const command: RespCommand = (ctx, q) => {
  const names = [...kCommands.keys()].sort();
  const entry = (name: string): void => {
    const spec = kCommands.get(name) as CommandSpec;
    const firstKey = kKeyCommands.has(name) ? 1 : 0;
    ctx.w.array(10);
    ctx.w.bulk(name.toLowerCase());
    ctx.w.integer(spec.arity);
    ctx.w.array(1);
    ctx.w.simple(spec.write ? 'write' : 'readonly');
    ctx.w.integer(firstKey);
    ctx.w.integer(firstKey === 0 ? 0 : kMultiKeyCommands.has(name) ? -1 : 1);
    ctx.w.integer(firstKey === 0 ? 0 : name === 'MSET' ? 2 : 1);
    ctx.w.array(0);
    ctx.w.array(0);
    ctx.w.array(0);
    ctx.w.array(0);
  };
  if (q.count === 1) {
    ctx.w.array(names.length);
    for (const name of names) entry(name);
    return;
  }
  if (q.argIs(1, 'COUNT')) {
    subArity(q, 'command|count', q.count === 2);
    return ctx.w.integer(names.length);
  }
  if (q.argIs(1, 'DOCS')) return ctx.w.array(0);
  if (q.argIs(1, 'INFO')) {
    if (q.count === 2) {
      ctx.w.array(names.length);
      for (const name of names) entry(name);
      return;
    }
    ctx.w.array(q.count - 2);
    for (let i = 2; i < q.count; i++) {
      const name = q.argString(i, 'latin1').toUpperCase();
      if (kCommands.has(name)) entry(name);
      else ctx.w.nullBulk();
    }
    return;
  }
  throw fail(`ERR unknown subcommand '${q.argString(1)}'. Try COMMAND HELP.`);
};

const kKeyCommands = new Set(['GET', 'SET', 'SETNX', 'GETSET', 'GETDEL', 'STRLEN', 'MGET', 'MSET', 'INCR', 'INCRBY', 'DECR', 'DECRBY', 'DEL', 'UNLINK', 'EXISTS', 'TYPE', 'TTL', 'PTTL', 'EXPIRE', 'PEXPIRE']);
const kMultiKeyCommands = new Set(['MGET', 'MSET', 'DEL', 'UNLINK', 'EXISTS']);

export const kCommands = new Map<string, CommandSpec>([
  ['GET', { run: get, arity: 2, write: false }],
  ['SET', { run: set, arity: -3, write: true }],
  ['SETNX', { run: setnx, arity: 3, write: true }],
  ['GETSET', { run: getset, arity: 3, write: true }],
  ['GETDEL', { run: getdel, arity: 2, write: true }],
  ['STRLEN', { run: strlen, arity: 2, write: false }],
  ['MGET', { run: mget, arity: -2, write: false }],
  ['MSET', { run: mset, arity: -3, write: true }],
  ['INCR', { run: (ctx, q) => incrementBy(ctx, q, 1n), arity: 2, write: true }],
  ['DECR', { run: (ctx, q) => incrementBy(ctx, q, -1n), arity: 2, write: true }],
  ['INCRBY', { run: (ctx, q) => incrementBy(ctx, q, deltaArg(q, 2)), arity: 3, write: true }],
  ['DECRBY', { run: decrby, arity: 3, write: true }],
  ['DEL', { run: del, arity: -2, write: true }],
  ['UNLINK', { run: del, arity: -2, write: true }],
  ['EXISTS', { run: exists, arity: -2, write: false }],
  ['TYPE', { run: type, arity: 2, write: false }],
  ['TTL', { run: ttl, arity: 2, write: false }],
  ['PTTL', { run: ttl, arity: 2, write: false }],
  ['EXPIRE', { run: expire, arity: -3, write: true }],
  ['PEXPIRE', { run: expire, arity: -3, write: true }],
  ['DBSIZE', { run: dbsize, arity: 1, write: false }],
  ['FLUSHDB', { run: flushdb, arity: -1, write: true }],
  ['FLUSHALL', { run: flushdb, arity: -1, write: true }],
  ['KEYS', { run: keys, arity: 2, write: false }],
  ['SCAN', { run: scan, arity: -2, write: false }],
  ['BGSAVE', { run: bgsave, arity: -1, write: false }],
  ['SAVE', { run: save, arity: 1, write: false }],
  ['LASTSAVE', { run: lastsave, arity: 1, write: false }],
  ['INFO', { run: info, arity: -1, write: false }],
  ['CONFIG', { run: config, arity: -2, write: false }],
  ['PING', { run: ping, arity: -1, write: false }],
  ['ECHO', { run: echo, arity: 2, write: false }],
  ['QUIT', { run: quit, arity: -1, write: false }],
  ['SELECT', { run: select, arity: 2, write: false }],
  ['AUTH', { run: auth, arity: -2, write: false }],
  ['HELLO', { run: hello, arity: -1, write: false }],
  ['CLIENT', { run: client, arity: -2, write: false }],
  ['COMMAND', { run: command, arity: -1, write: false }],
]);

export const kGetSpec = kCommands.get('GET') as CommandSpec;
export const kSetSpec = kCommands.get('SET') as CommandSpec;
