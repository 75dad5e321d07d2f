/**
 * What every RESP command shares: Redis's reply texts, the mapping from FrostError codes to
 * RESP errors, the per-command context (connection, served database, reply writer) and the
 * argument helpers.
 *
 * Guarantees:
 * - Every FrostError code has a RESP answer (a Record over the registry: a new code without
 *   one does not compile); codes a RESP command meets only through a bug or the host are
 *   answered `ERR <message>` and logged.
 * - A command reports a Redis error by throwing `fail(text)`; `RespContext.fail` writes it as
 *   exactly one reply.
 * - `ctx.table()` is the table of the client's selected database (databases.ts).
 */

import type { Database } from '../../../database.js';
import type { TableHandle } from '../../../engine/handle.js';
import type { ArgView } from '../../../protocol/args.js';
import type { RespWriter } from '../../../protocol/resp/writer.js';
import { ErrorCode, isFrostError, type ErrorCodeValue } from '../../../util/errors.js';
import type { Logger } from '../../../util/log.js';
import { AuthSession, authServiceFor } from '../../../auth/provider.js';
import { kRespLoadingError } from '../../loading.js';
import type { ServerView } from '../../stats.js';
import type { RespClient, RespClientRegistry } from '../client.js';
import { respDatabases, type RespDatabases } from '../databases.js';
import { WatchHub } from '../watch.js';
import type { CommandTable } from './table.js';

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
  execAbort: 'EXECABORT Transaction discarded because of previous errors.',
  nestedMulti: 'ERR MULTI calls can not be nested',
  watchInMulti: 'ERR WATCH inside MULTI is not allowed',
  execWithoutMulti: 'ERR EXEC without MULTI',
  discardWithoutMulti: 'ERR DISCARD without MULTI',
  notInMulti: 'ERR Command not allowed inside a transaction',
  noSuchClient: 'ERR No such client',
  noDataDir: 'ERR this frostkv has no data directory',
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
  [ErrorCode.wrongType]: RespText.wrongType,
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

export class RespReply {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** A Redis error reply, thrown by a command and written by RespContext.fail. */
export function fail(text: string): RespReply {
  return new RespReply(text);
}

export function arityError(name: string): RespReply {
  return fail(`ERR wrong number of arguments for '${name.toLowerCase()}' command`);
}

export const kInt64Min = -(2n ** 63n);
export const kInt64Max = 2n ** 63n - 1n;

/** Redis's string-to-int64 rule: optional '-', no leading zeros, no spaces, in range. */
export function parseInt64(text: string): bigint | null {
  if (!/^(-?[1-9][0-9]{0,18}|0)$/.test(text)) return null;
  const value = BigInt(text);
  return value < kInt64Min || value > kInt64Max ? null : value;
}

/** Argument `i` as an int64, or Redis's "not an integer" error. */
export function intArg(q: ArgView, i: number, text: string = RespText.notInteger): bigint {
  const parsed = parseInt64(q.argString(i, 'latin1'));
  if (parsed === null) throw fail(text);
  return parsed;
}

/** What all RESP connections of one database share. */
export interface RespShared {
  readonly commands: CommandTable;
  readonly clients: RespClientRegistry;
  readonly databases: RespDatabases;
  readonly watch: WatchHub;
}

const kWatchHubs = new WeakMap<Database, WatchHub>();

function watchHub(db: Database): WatchHub {
  let hub = kWatchHubs.get(db);
  if (hub === undefined) {
    hub = new WatchHub(db);
    kWatchHubs.set(db, hub);
  }
  return hub;
}

export class RespContext {
  readonly db: Database;
  readonly w: RespWriter;
  readonly view: ServerView;
  readonly logger: Logger;
  readonly client: RespClient;
  readonly shared: RespShared;
  /**
   * Set while EXEC runs its queue: a command must then finish in this turn (KEYS reads every
   * batch at once) so no other client's command runs between the queued ones.
   */
  atomic = false;
  /**
   * Run one queued command now, synchronously, writing its one reply (EXEC); set by the
   * driver, which owns the checks every command goes through.
   */
  runQueued: (q: ArgView) => void = () => undefined;

  constructor(db: Database, w: RespWriter, view: ServerView, logger: Logger, client: RespClient, tableEntity: string, commands: CommandTable, clients: RespClientRegistry) {
    this.db = db;
    this.w = w;
    this.view = view;
    this.logger = logger;
    this.client = client;
    this.shared = { commands, clients, databases: respDatabases(db, tableEntity), watch: watchHub(db) };
    client.auth ??= new AuthSession(authServiceFor(db));
  }

  /** The table name of the selected database. */
  get tableEntity(): string {
    return this.shared.databases.entity(this.client.db);
  }

  /** The selected database's table (looked up again if it was dropped and re-created). */
  table(): TableHandle {
    return this.shared.databases.table(this.client.db);
  }

  /** Write the Redis-style reply for an error a command threw. */
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

export type RespCommand = (ctx: RespContext, q: ArgView) => void | Promise<void>;

/** A `<NAME> HELP` reply: Redis's header line, the lines, and the HELP entry last. */
export function writeHelp(ctx: RespContext, command: string, lines: readonly string[]): void {
  ctx.w.array(lines.length + 3);
  ctx.w.simple(`${command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`);
  for (const line of lines) ctx.w.simple(line);
  ctx.w.simple('HELP');
  ctx.w.simple('    Prints this help.');
}

