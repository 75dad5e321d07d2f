/**
 * Argument checks for the embedded API (table handles, DDL): JavaScript callers are not held
 * to the TypeScript signatures, and a wrong type must not surface as one of Node's internal
 * TypeErrors (or, worse, be coerced into a key such as "123").
 *
 * Guarantees: each check throws ERR_BAD_ARGUMENT naming the method and the argument, with the
 * type it got, before anything changes. On success a check is a `typeof` / `instanceof` test
 * and allocates nothing (the method and argument names are string literals), so the checks can
 * sit on the hot paths of every read and write.
 */

import { ErrorCode, FrostError } from '../util/errors.js';

const kBytesExpected = 'a string or a Uint8Array (such as a Buffer)';

/** `a number (123)`, `null`, `an array`: short, and never the whole value. */
function describeArgument(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'number':
    case 'bigint':
    case 'boolean':
      return `a ${typeof value} (${String(value)})`;
    case 'string':
      return 'a string';
    case 'object':
      return `an object (${(value as object).constructor?.name ?? 'Object'})`;
    default:
      return `a ${typeof value}`;
  }
}

export function badArgument(method: string, argument: string, expected: string, value: unknown): FrostError {
  return new FrostError(ErrorCode.badArgument, `${method}(): \`${argument}\` must be ${expected}, got ${describeArgument(value)}`);
}

/** A key or value: a string or bytes. */
export function checkBytesArgument(value: unknown, method: string, argument: string): void {
  if (typeof value === 'string' || value instanceof Uint8Array) return;
  throw badArgument(method, argument, kBytesExpected, value);
}

/** A name, entity or model text. */
export function checkStringArgument(value: unknown, method: string, argument: string): void {
  if (typeof value === 'string') return;
  throw badArgument(method, argument, 'a string', value);
}

/** A list index or count: a number (whether it is in range is the method's own check). */
export function checkNumberArgument(value: unknown, method: string, argument: string): void {
  if (typeof value === 'number') return;
  throw badArgument(method, argument, 'a number', value);
}

/** The element list of a list write: an array of keys-or-values. */
export function checkBytesArrayArgument(value: unknown, method: string, argument: string): void {
  if (!Array.isArray(value)) throw badArgument(method, argument, `an array of ${kBytesExpected} values`, value);
  for (let i = 0; i < value.length; i++) {
    const element: unknown = value[i];
    if (typeof element !== 'string' && !(element instanceof Uint8Array)) {
      throw badArgument(method, `${argument}[${i}]`, kBytesExpected, element);
    }
  }
}

/** An options object (or nothing). */
export function checkOptionsArgument(value: unknown, method: string): void {
  if (value === undefined || (value !== null && typeof value === 'object' && !Array.isArray(value))) return;
  throw badArgument(method, 'options', 'an object', value);
}
