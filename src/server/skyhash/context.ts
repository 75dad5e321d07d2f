/**
 * What a Skyhash action runs with, the reply vocabulary of Skytable 0.7 (response codes and
 * error strings), and the mapping from frostkv's stable error codes to those replies.
 *
 * Guarantees: every FrostError an action raises becomes exactly one reply element chosen by
 * its `code` (never by message text); an action that wants a specific reply throws `reply()`.
 */

import { isUtf8 } from 'node:buffer';
import type { Database } from '../../database.js';
import type { TableHandle } from '../../engine/handle.js';
import { checkContainerName, type EntityAddress } from '../../engine/names.js';
import type { ArgView } from '../../protocol/args.js';
import { kSkyhashTypeBinary, kSkyhashTypeString, type SkyhashStringType, type SkyhashWriter } from '../../protocol/skyhash/writer.js';
import { ErrorCode, FrostError, isFrostError, type ErrorCodeValue } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import type { Session } from '../session.js';
import { kSkyhashLoadingError } from '../loading.js';

export const Code = {
  okay: 0,
  nil: 1,
  overwrite: 2,
  actionError: 3,
  packetError: 4,
  serverError: 5,
  otherError: 6,
  wrongType: 7,
  unknownDataType: 8,
  encoding: 9,
  badCredentials: 10,
  permission: 11,
} as const;

export const SkyError = {
  unknownAction: 'Unknown action',
  snapshotBusy: 'err-snapshot-busy',
  snapshotDisabled: 'err-snapshot-disabled',
  duplicateSnapshot: 'duplicate-snapshot',
  invalidSnapshotName: 'err-invalid-snapshot-name',
  defaultContainerUnset: 'default-container-unset',
  containerNotFound: 'container-not-found',
  stillInUse: 'still-in-use',
  protectedObject: 'err-protected-object',
  wrongModel: 'wrong-model',
  alreadyExists: 'err-already-exists',
  unknownDdlQuery: 'unknown-ddl-query',
  malformedExpression: 'malformed-expression',
  unknownModel: 'unknown-model',
  containerNameTooLong: 'container-name-too-long',
  tooManyArgs: 'too-many-args',
  badContainerName: 'bad-container-name',
  unknownInspectQuery: 'unknown-inspect-query',
  unknownProperty: 'unknown-property',
  keyspaceNotEmpty: 'keyspace-not-empty',
  badTypeForKey: 'bad-type-for-key',
  badListIndex: 'bad-list-index',
  listIsEmpty: 'list-is-empty',
  unknownMetric: 'unknown-metric',
  authDisabled: 'err-auth-disabled',
  authAlreadyClaimed: 'err-auth-already-claimed',
  authIllegalUsername: 'err-auth-illegal-username',
  authDeluserFail: 'err-auth-deluser-fail',
  /** frostkv's own: a key or value past the configured limits (Skytable had no limits). */
  keyTooLarge: 'err-key-too-large',
  valueTooLarge: 'err-value-too-large',
} as const;

/** Thrown by actions for a specific reply: a response code or an error string. */
export class ActionReply {
  readonly reply: number | string;
  constructor(reply: number | string) {
    this.reply = reply;
  }
}

export function reply(value: number | string): ActionReply {
  return new ActionReply(value);
}

/**
 * The Skyhash reply for every FrostError code. A Record over the whole registry: a new code
 * without a reply here does not compile. Codes that only embedded callers or start-up can meet
 * answer 5 (server error), as does anything that is not a FrostError.
 */
const kReplyForCode: Record<ErrorCodeValue, number | string> = {
  [ErrorCode.keyspaceNotFound]: SkyError.containerNotFound,
  [ErrorCode.tableNotFound]: SkyError.containerNotFound,
  [ErrorCode.alreadyExists]: SkyError.alreadyExists,
  [ErrorCode.badName]: SkyError.badContainerName,
  [ErrorCode.nameTooLong]: SkyError.containerNameTooLong,
  [ErrorCode.protectedObject]: SkyError.protectedObject,
  [ErrorCode.keyspaceNotEmpty]: SkyError.keyspaceNotEmpty,
  [ErrorCode.stillInUse]: SkyError.stillInUse,
  [ErrorCode.badTypeForKey]: SkyError.badTypeForKey,
  [ErrorCode.unknownModel]: SkyError.unknownModel,
  [ErrorCode.malformedExpression]: SkyError.malformedExpression,
  [ErrorCode.tooManyArgs]: SkyError.tooManyArgs,
  [ErrorCode.unknownProperty]: SkyError.unknownProperty,
  [ErrorCode.unknownDataType]: Code.unknownDataType,
  [ErrorCode.wrongModel]: SkyError.wrongModel,
  [ErrorCode.wrongType]: Code.wrongType,
  [ErrorCode.encoding]: Code.encoding,
  [ErrorCode.keyTooLarge]: SkyError.keyTooLarge,
  [ErrorCode.valueTooLarge]: SkyError.valueTooLarge,
  [ErrorCode.badListIndex]: SkyError.badListIndex,
  [ErrorCode.listIsEmpty]: SkyError.listIsEmpty,
  [ErrorCode.readOnly]: Code.serverError,
  [ErrorCode.closed]: Code.serverError,
  [ErrorCode.badOption]: Code.serverError,
  [ErrorCode.tableFull]: Code.serverError,
  [ErrorCode.corruptList]: Code.serverError,
  [ErrorCode.defaultContainerUnset]: SkyError.defaultContainerUnset,
  [ErrorCode.inMemory]: Code.serverError,
  [ErrorCode.badArgument]: Code.serverError,
  [ErrorCode.configBadValue]: Code.serverError,
  [ErrorCode.configUnknownKey]: Code.serverError,
  [ErrorCode.configSyntax]: Code.serverError,
  [ErrorCode.configMissing]: Code.serverError,
  [ErrorCode.configConflict]: Code.serverError,
  [ErrorCode.configFile]: Code.serverError,
  [ErrorCode.configUsage]: Code.serverError,
  [ErrorCode.configProd]: Code.serverError,
  [ErrorCode.configInvalid]: Code.serverError,
  [ErrorCode.saveCheck]: Code.serverError,
  [ErrorCode.corruptSave]: Code.serverError,
  [ErrorCode.loadLayout]: Code.serverError,
  [ErrorCode.dataDirUnusable]: Code.serverError,
  [ErrorCode.dataDirLocked]: Code.serverError,
  [ErrorCode.restoreRefused]: Code.serverError,
  [ErrorCode.restoreFailed]: Code.serverError,
  [ErrorCode.io]: Code.serverError,
  [ErrorCode.shutdownSaveAbandoned]: Code.serverError,
  [ErrorCode.addressInUse]: Code.serverError,
  [ErrorCode.listenFailed]: Code.serverError,
  [ErrorCode.loading]: kSkyhashLoadingError,
  [ErrorCode.tlsFileUnreadable]: Code.serverError,
  [ErrorCode.tlsBadKey]: Code.serverError,
  [ErrorCode.tlsBadPassphrase]: Code.serverError,
  [ErrorCode.tlsBadCertificate]: Code.serverError,
  [ErrorCode.protocolFraming]: Code.packetError,
  [ErrorCode.protocolTooLarge]: Code.packetError,
  [ErrorCode.protocolBadSize]: Code.wrongType,
  [ErrorCode.protocolEmpty]: Code.packetError,
  [ErrorCode.protocolUnbalancedQuotes]: Code.packetError,
};

/** The reply element for an error code (a FrostError's, or a worker error's that lost its class). */
export function replyForCode(code: string): number | string {
  return Object.hasOwn(kReplyForCode, code) ? kReplyForCode[code as ErrorCodeValue] : Code.serverError;
}

export function writeReply(w: SkyhashWriter, value: number | string): void {
  if (typeof value === 'number') w.code(value);
  else w.error(value);
}

export class SkyContext {
  readonly db: Database;
  readonly session: Session;
  readonly w: SkyhashWriter;
  readonly logger: Logger;

  constructor(db: Database, session: Session, w: SkyhashWriter, logger: Logger) {
    this.db = db;
    this.session = session;
    this.w = w;
    this.logger = logger;
  }

  /** Write the reply for whatever an action threw. */
  fail(error: unknown): void {
    if (error instanceof ActionReply) return writeReply(this.w, error.reply);
    if (isFrostError(error)) {
      const value = replyForCode(error.code);
      if (value === Code.serverError && error.code !== ErrorCode.readOnly) this.logger.warn(`action failed: ${error.message}`);
      return writeReply(this.w, value);
    }
    throw error;
  }
}

/** `+` for str values, `?` for binstr values (Skytable replies with the table's value type). */
export function valueType(handle: TableHandle): SkyhashStringType {
  return handle.valuesAreText ? kSkyhashTypeString : kSkyhashTypeBinary;
}

export function keyType(handle: TableHandle): SkyhashStringType {
  return handle.keysAreText ? kSkyhashTypeString : kSkyhashTypeBinary;
}

/** Number of arguments after the action name. */
export function argc(q: ArgView): number {
  return q.count - 1;
}

const kDigit0 = 0x30;
const kDigit9 = 0x39;

/** Argument `i` as an unsigned decimal; anything else is `wrong type` (code 7), as Skytable. */
export function unsignedArg(q: ArgView, i: number): number {
  const length = q.length(i);
  const offset = q.offset(i);
  if (length === 0 || length > 15) throw reply(Code.wrongType);
  let value = 0;
  for (let j = 0; j < length; j++) {
    const byte = q.buffer[offset + j] as number;
    if (byte < kDigit0 || byte > kDigit9) throw reply(Code.wrongType);
    value = value * 10 + (byte - kDigit0);
  }
  return value;
}

/** Argument `i` as UTF-8 text; invalid UTF-8 is an encoding error (code 9). */
export function textArg(q: ArgView, i: number): string {
  const bytes = q.arg(i);
  if (!isUtf8(bytes)) throw reply(Code.encoding);
  return bytes.toString('utf8');
}

/**
 * Parse an entity the way Skytable 0.7 does: `ks:tbl`, `:tbl`, or a bare name. More than one
 * `:` or an empty part is `malformed-expression`; a bad name `bad-container-name`.
 * `bareIsKeyspace` is true for USE (a bare name switches keyspace) and false for actions that
 * take a table (a bare name is a table in the current keyspace).
 */
export function entityArg(
  ctx: SkyContext,
  q: ArgView,
  i: number,
  bareIsKeyspace: boolean,
  tooLong: string = SkyError.badContainerName,
): { keyspace: string; table: string | null } {
  try {
    return parseEntityArg(ctx, q, i, bareIsKeyspace);
  } catch (error) {
    // Skytable's entity parser answers a name past 64 bytes with bad-container-name; only
    // CREATE reports container-name-too-long.
    if (isFrostError(error, ErrorCode.nameTooLong)) throw reply(tooLong);
    throw error;
  }
}

function parseEntityArg(ctx: SkyContext, q: ArgView, i: number, bareIsKeyspace: boolean): { keyspace: string; table: string | null } {
  const text = textArg(q, i);
  const parts = text.split(':');
  if (parts.length > 2) throw reply(SkyError.malformedExpression);
  if (parts.length === 2) {
    const [keyspace = '', table = ''] = parts;
    if (table.length === 0) throw reply(SkyError.malformedExpression);
    checkContainerName(table);
    if (keyspace.length === 0) {
      const current = ctx.session.keyspace;
      if (current === null) throw reply(SkyError.defaultContainerUnset);
      return { keyspace: current, table };
    }
    checkContainerName(keyspace);
    return { keyspace, table };
  }
  if (text.length === 0) throw reply(SkyError.malformedExpression);
  checkContainerName(text);
  if (bareIsKeyspace) return { keyspace: text, table: null };
  const current = ctx.session.keyspace;
  if (current === null) throw reply(SkyError.defaultContainerUnset);
  return { keyspace: current, table: text };
}

export function tableArg(ctx: SkyContext, q: ArgView, i: number): TableHandle {
  const entity = entityArg(ctx, q, i, false);
  return ctx.db.engine.table(entity as EntityAddress);
}

export { FrostError };
