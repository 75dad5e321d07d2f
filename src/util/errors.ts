/**
 * Errors with stable codes.
 *
 * Guarantees: every error frostkv raises on purpose is a FrostError whose `code` never changes
 * between releases, so callers (and the wire protocols, and worker threads whose errors lose
 * their class when they cross the thread boundary) match on `code`, never on message text.
 */

export const ErrorCode = {
  // data model (docs/behaviour.md; each code's Skyhash and RESP reply is in one exhaustive table:
  // src/server/skyhash/context.ts and src/server/resp/errors.ts)
  keyspaceNotFound: 'ERR_KEYSPACE_NOT_FOUND',
  tableNotFound: 'ERR_TABLE_NOT_FOUND',
  alreadyExists: 'ERR_ALREADY_EXISTS',
  badName: 'ERR_BAD_CONTAINER_NAME',
  nameTooLong: 'ERR_CONTAINER_NAME_TOO_LONG',
  protectedObject: 'ERR_PROTECTED_OBJECT',
  keyspaceNotEmpty: 'ERR_KEYSPACE_NOT_EMPTY',
  stillInUse: 'ERR_STILL_IN_USE',
  badTypeForKey: 'ERR_BAD_TYPE_FOR_KEY',
  unknownModel: 'ERR_UNKNOWN_MODEL',
  malformedExpression: 'ERR_MALFORMED_EXPRESSION',
  tooManyArgs: 'ERR_TOO_MANY_ARGS',
  unknownProperty: 'ERR_UNKNOWN_PROPERTY',
  unknownDataType: 'ERR_UNKNOWN_DATA_TYPE',
  wrongModel: 'ERR_WRONG_MODEL',
  /** The key holds another type of value (a hash where a string was asked for; Redis's WRONGTYPE). */
  wrongType: 'ERR_WRONG_TYPE',
  encoding: 'ERR_ENCODING',
  keyTooLarge: 'ERR_KEY_TOO_LARGE',
  valueTooLarge: 'ERR_VALUE_TOO_LARGE',
  badListIndex: 'ERR_BAD_LIST_INDEX',
  listIsEmpty: 'ERR_LIST_IS_EMPTY',
  readOnly: 'ERR_READ_ONLY',
  closed: 'ERR_CLOSED',
  badOption: 'ERR_BAD_OPTION',
  tableFull: 'ERR_TABLE_FULL',
  /** A list record whose bytes do not decode (a bug or damaged memory, never user input). */
  corruptList: 'ERR_CORRUPT_LIST',
  /** A Skyhash action on the current table when the connection has none (after DROP of it). */
  defaultContainerUnset: 'ERR_DEFAULT_CONTAINER_UNSET',
  /** A persistence call on a database opened with `inMemory: true`. */
  inMemory: 'ERR_IN_MEMORY',
  /** A table or database method was called with an argument of the wrong type (a number for a key, no value, ...). */
  badArgument: 'ERR_BAD_ARGUMENT',
  // configuration (src/config/errors.ts explains each; a ConfigError lists every problem found)
  configBadValue: 'ERR_CONFIG_BAD_VALUE',
  configUnknownKey: 'ERR_CONFIG_UNKNOWN_KEY',
  configSyntax: 'ERR_CONFIG_SYNTAX',
  configMissing: 'ERR_CONFIG_MISSING',
  configConflict: 'ERR_CONFIG_CONFLICT',
  configFile: 'ERR_CONFIG_FILE',
  configUsage: 'ERR_CONFIG_USAGE',
  configProd: 'ERR_CONFIG_PROD',
  configInvalid: 'ERR_CONFIG_INVALID',
  // persistence (docs/persistence.md)
  /** A save failed one of the checks it must pass before it is published (src/persist/checks.ts). */
  saveCheck: 'ERR_SAVE_CHECK',
  /** A save folder on disk is damaged or does not match its manifest. */
  corruptSave: 'ERR_CORRUPT_SAVE',
  /** Loaded segments do not tile the hash space (a save missing or repeating a segment). */
  loadLayout: 'ERR_LOAD_LAYOUT',
  dataDirUnusable: 'ERR_DATA_DIR_UNUSABLE',
  /** Another process (or this one) holds the data directory's lock (src/persist/lock.ts). */
  dataDirLocked: 'ERR_DATA_DIR_LOCKED',
  restoreRefused: 'ERR_RESTORE_REFUSED',
  restoreFailed: 'ERR_RESTORE_FAILED',
  /** A file-system call outside a save failed (measuring the data directory). */
  io: 'ERR_IO',
  /** The final save was given up (signals, or close({ signal }) aborted); the message says what is lost. */
  shutdownSaveAbandoned: 'ERR_SHUTDOWN_SAVE_ABANDONED',
  // server process (src/server/server.ts, src/cli/serve.ts)
  /** A listener's address (host:port) is taken by another process; the message names the listener. */
  addressInUse: 'ERR_ADDRESS_IN_USE',
  /** A listener could not bind for another reason (address not available, permission). */
  listenFailed: 'ERR_LISTEN_FAILED',
  /** The database was asked for while the data set is still loading. */
  loading: 'ERR_LOADING',
  /** A TLS file (`ssl.key`, `ssl.chain`, `ssl.passin`) cannot be read; the message names it. */
  tlsFileUnreadable: 'ERR_TLS_FILE',
  /** The TLS private key does not parse, is encrypted without a passphrase, or does not match the chain. */
  tlsBadKey: 'ERR_TLS_KEY',
  /** The passphrase in `ssl.passin` does not decrypt the private key; the message names both files. */
  tlsBadPassphrase: 'ERR_TLS_PASSPHRASE',
  /** The certificate chain file holds no valid PEM certificate. */
  tlsBadCertificate: 'ERR_TLS_CERT',
  // wire protocols (src/protocol/limits.ts explains each)
  protocolFraming: 'ERR_PROTOCOL_FRAMING',
  protocolTooLarge: 'ERR_PROTOCOL_TOO_LARGE',
  protocolBadSize: 'ERR_PROTOCOL_BAD_SIZE',
  protocolEmpty: 'ERR_PROTOCOL_EMPTY',
  protocolUnbalancedQuotes: 'ERR_PROTOCOL_UNBALANCED_QUOTES',
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Every code frostkv raises on purpose: a union, so a code outside the registry does not compile. */
export class FrostError extends Error {
  readonly code: ErrorCodeValue;
  constructor(code: ErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FrostError';
    this.code = code;
  }
}

/**
 * True for a FrostError, or anything carrying a string `code` (a worker's error loses its class
 * crossing the thread boundary); with `code`, only for that code.
 */
export function isFrostError(error: unknown, code?: ErrorCodeValue): error is FrostError {
  if (error === null || typeof error !== 'object') return false;
  const candidate = error as { code?: unknown };
  if (typeof candidate.code !== 'string') return false;
  return code === undefined || candidate.code === code;
}
