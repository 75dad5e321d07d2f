/**
 * Errors with stable codes.
 *
 * Guarantees: every error frostkv raises on purpose is a FrostError whose `code` never changes
 * between releases, so callers (and the wire protocols, and worker threads whose errors lose
 * their class when they cross the thread boundary) match on `code`, never on message text.
 */

export const ErrorCode = {
  // data model (SPEC.md section 1 and 6; the Skyhash replies are mapped from these in src/server)
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
  encoding: 'ERR_ENCODING',
  keyTooLarge: 'ERR_KEY_TOO_LARGE',
  valueTooLarge: 'ERR_VALUE_TOO_LARGE',
  badListIndex: 'ERR_BAD_LIST_INDEX',
  listIsEmpty: 'ERR_LIST_IS_EMPTY',
  readOnly: 'ERR_READ_ONLY',
  closed: 'ERR_CLOSED',
  badOption: 'ERR_BAD_OPTION',
  tableFull: 'ERR_TABLE_FULL',
  // persistence (SPEC.md sections 2 and 3)
  /** A save failed one of the checks it must pass before it is published (src/persist/checks.ts). */
  saveCheck: 'ERR_SAVE_CHECK',
  /** A save folder on disk is damaged or does not match its manifest. */
  corruptSave: 'ERR_CORRUPT_SAVE',
  /** Loaded segments do not tile the hash space (a save missing or repeating a segment). */
  loadLayout: 'ERR_LOAD_LAYOUT',
  dataDirUnusable: 'ERR_DATA_DIR_UNUSABLE',
  restoreRefused: 'ERR_RESTORE_REFUSED',
  restoreFailed: 'ERR_RESTORE_FAILED',
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

export class FrostError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FrostError';
    this.code = code;
  }
}

export function isFrostError(error: unknown, code?: string): error is FrostError {
  if (error === null || typeof error !== 'object') return false;
  const candidate = error as { code?: unknown };
  if (typeof candidate.code !== 'string') return false;
  return code === undefined || candidate.code === code;
}
