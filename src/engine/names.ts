/**
 * Container names and entity addresses (docs/behaviour.md, Data model).
 *
 * Guarantees: a name accepted here matches `^[a-zA-Z_][a-zA-Z0-9_]*$`, is at most
 * kContainerNameMaxBytes bytes, and is not a name the on-disk layout reserves, so it is safe as
 * a folder or file name inside a save folder on any filesystem we support.
 */

import { ErrorCode, FrostError } from '../util/errors.js';
import { checkStringArgument } from './arguments.js';

export const kContainerNameMaxBytes = 64;
export const kDefaultKeyspace = 'default';
export const kDefaultTable = 'default';
export const kSystemKeyspace = 'system';
/** The table of users and token digests inside `system` (as Skytable 0.7's `system` keyspace). */
export const kAuthTable = 'auth';
/** Skytable 0.7's on-disk names, kept reserved so a save folder can never be ambiguous. */
export const kReservedNames: readonly string[] = ['PRELOAD', 'PARTMAP'];

const kNamePattern = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Throws ERR_BAD_CONTAINER_NAME or ERR_CONTAINER_NAME_TOO_LONG. The pattern is checked before
 * the length, as Skytable 0.7's CREATE KEYSPACE does (a long name with a bad character is
 * `malformed-expression` there, not `container-name-too-long`).
 */
export function checkContainerName(name: string): void {
  if (!kNamePattern.test(name)) {
    throw new FrostError(ErrorCode.badName, `bad container name ${JSON.stringify(name.length > 80 ? `${name.slice(0, 77)}...` : name)}: expected [a-zA-Z_][a-zA-Z0-9_]*`);
  }
  // The pattern admits only ASCII, so the length in characters is the length in bytes.
  if (name.length > kContainerNameMaxBytes) {
    throw new FrostError(ErrorCode.nameTooLong, `container name longer than ${kContainerNameMaxBytes} bytes`);
  }
  if (kReservedNames.includes(name.toUpperCase())) {
    throw new FrostError(ErrorCode.badName, `container name ${name} is reserved`);
  }
}

export interface EntityAddress {
  keyspace: string;
  table: string;
}

/**
 * Parse `ks:tbl`, `tbl` or `:tbl`; the last two resolve against `currentKeyspace`.
 * Throws ERR_BAD_CONTAINER_NAME for malformed addresses, ERR_BAD_ARGUMENT (naming `method`)
 * when `text` is not a string.
 */
export function parseEntity(text: string, currentKeyspace: string | null, method = 'parseEntity'): EntityAddress {
  checkStringArgument(text, method, 'entity');
  const colon = text.indexOf(':');
  if (colon < 0 || colon === 0) {
    const table = colon === 0 ? text.slice(1) : text;
    if (currentKeyspace === null) throw new FrostError(ErrorCode.keyspaceNotFound, 'no keyspace selected');
    checkContainerName(table);
    return { keyspace: currentKeyspace, table };
  }
  const keyspace = text.slice(0, colon);
  const table = text.slice(colon + 1);
  if (table.includes(':')) throw new FrostError(ErrorCode.badName, `bad entity ${JSON.stringify(text)}`);
  checkContainerName(keyspace);
  checkContainerName(table);
  return { keyspace, table };
}

export function formatEntity(address: EntityAddress): string {
  return `${address.keyspace}:${address.table}`;
}
