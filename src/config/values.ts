/**
 * Value kinds: how one configuration value is read from a TOML value or from text (an
 * environment variable or a flag), and what a person is told when it is wrong.
 *
 * Guarantees: a kind accepts exactly what its `expected` sentence says and nothing else. TOML
 * values must have their TOML type (a port is a TOML integer, never a string or a float; a
 * boolean is a TOML boolean). Text accepts the obvious spellings (integers in decimal digits;
 * booleans as true/false/1/0/yes/no, any case). Nothing here reads files or the environment.
 */

import { isIP } from 'node:net';
import { checkContainerName, kSystemKeyspace } from '../engine/names.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false };

export interface ValueKind<T> {
  /** What the value must be, completing "expected ...". */
  expected: string;
  /** The same for text sources, when it differs (booleans). */
  expectedText?: string;
  fromToml(raw: unknown): Parsed<T>;
  fromText(text: string): Parsed<T>;
  /** The value as it would be written in a TOML file. */
  format(value: T): string;
}

const fail = { ok: false } as const;
function ok<T>(value: T): Parsed<T> {
  return { ok: true, value };
}

/** Decimal digits only: no sign, no exponent, no separators, no whitespace. */
const kDigits = /^[0-9]+$/;

export interface IntegerRange {
  min: number;
  max: number;
  /** Unit shown after the range, e.g. "seconds". */
  unit?: string;
}

function describeRange(range: IntegerRange): string {
  const unit = range.unit === undefined ? '' : ` (${range.unit})`;
  if (range.min === 1) return `an integer greater than 0 and at most ${range.max}${unit}`;
  if (range.min === 0) return `an integer of 0 or more and at most ${range.max}${unit}`;
  return `an integer of at least ${range.min} and at most ${range.max}${unit}`;
}

export function integerKind(range: IntegerRange, expected = describeRange(range)): ValueKind<number> {
  const inRange = (n: number): Parsed<number> => (n >= range.min && n <= range.max ? ok(n) : fail);
  return {
    expected,
    fromToml(raw) {
      // Integers arrive as bigint (the file is parsed with integersAsBigInt) so that a float
      // such as `2003.0` can never pass for an integer.
      if (typeof raw !== 'bigint') return fail;
      if (raw < BigInt(range.min) || raw > BigInt(range.max)) return fail;
      return ok(Number(raw));
    },
    fromText(text) {
      if (!kDigits.test(text) || text.length > 20) return fail;
      return inRange(Number(text));
    },
    format: (value) => String(value),
  };
}

export const kPortKind: ValueKind<number> = integerKind({ min: 1, max: 65_535 }, 'an integer from 1 to 65535');

const kTrueWords = new Set(['true', '1', 'yes']);
const kFalseWords = new Set(['false', '0', 'no']);

export const kBoolKind: ValueKind<boolean> = {
  expected: 'a boolean (true or false)',
  expectedText: 'a boolean (true, false, 1, 0, yes or no)',
  fromToml: (raw) => (typeof raw === 'boolean' ? ok(raw) : fail),
  fromText(text) {
    const word = text.toLowerCase();
    if (kTrueWords.has(word)) return ok(true);
    if (kFalseWords.has(word)) return ok(false);
    return fail;
  },
  format: (value) => String(value),
};

export function enumKind<T extends string>(values: readonly T[]): ValueKind<T> {
  const list = values.map((v) => `\`${v}\``);
  const last = list.pop();
  const expected = `one of ${list.join(', ')} or ${last}`;
  const pick = (text: string): Parsed<T> => ((values as readonly string[]).includes(text) ? ok(text as T) : fail);
  return {
    expected,
    fromToml: (raw) => (typeof raw === 'string' ? pick(raw) : fail),
    fromText: pick,
    format: (value) => JSON.stringify(value),
  };
}

/** A label of a DNS name (RFC 1123): letters, digits and inner hyphens, 1 to 63 characters. */
const kHostLabel = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;
const kHostNameBytesMax = 253;

function isHostName(text: string): boolean {
  if (text.length === 0 || text.length > kHostNameBytesMax) return false;
  const labels = (text.endsWith('.') ? text.slice(0, -1) : text).split('.');
  return labels.every((label) => kHostLabel.test(label));
}

/** An address to listen on: an IPv4 or IPv6 address, or a host name the resolver can look up. */
export const kHostKind: ValueKind<string> = {
  expected: 'a non-empty IPv4 address, IPv6 address or host name',
  fromToml: (raw) => (typeof raw === 'string' ? kHostKind.fromText(raw) : fail),
  fromText: (text) => (isIP(text) !== 0 || isHostName(text) ? ok(text) : fail),
  format: (value) => JSON.stringify(value),
};

/** A file-system path, kept as written; load.ts resolves it against the working directory. */
export const kPathKind: ValueKind<string> = {
  expected: 'a non-empty path',
  fromToml: (raw) => (typeof raw === 'string' ? kPathKind.fromText(raw) : fail),
  fromText: (text) => (text.length > 0 && !text.includes('\0') ? ok(text) : fail),
  format: (value) => JSON.stringify(value),
};

/** Skytable 0.7.5's origin key: 40 ASCII characters (we further require them printable, no spaces). */
export const kOriginKeyLength = 40;
/** Skytable 0.7.7's rule (config/mod.rs, AuthkeyWrapper::try_new): 40 ASCII alphanumerics. */
const kOriginKeyPattern = /^[A-Za-z0-9]{40}$/;

export const kOriginKeyKind: ValueKind<string> = {
  expected: `exactly ${kOriginKeyLength} ASCII letters and digits (the Skytable 0.7 origin key format)`,
  fromToml: (raw) => (typeof raw === 'string' ? kOriginKeyKind.fromText(raw) : fail),
  fromText: (text) => (kOriginKeyPattern.test(text) ? ok(text) : fail),
  format: () => '"<redacted>"',
};

/** An explicit entity `ks:tbl`: both names valid container names, keyspace not `system`. */
export const kEntityKind: ValueKind<string> = {
  expected: `an entity \`keyspace:table\` of two names matching [a-zA-Z_][a-zA-Z0-9_]* (at most 64 bytes each; keyspace \`${kSystemKeyspace}\` is reserved)`,
  fromToml: (raw) => (typeof raw === 'string' ? kEntityKind.fromText(raw) : fail),
  fromText(text) {
    const parts = text.split(':');
    if (parts.length !== 2) return fail;
    const [keyspace, table] = parts as [string, string];
    try {
      checkContainerName(keyspace);
      checkContainerName(table);
    } catch {
      return fail;
    }
    if (keyspace === kSystemKeyspace) return fail;
    return ok(text);
  },
  format: (value) => JSON.stringify(value),
};

/** How a rejected raw value is shown after "got": short, and never a secret. */
export function describeRaw(raw: unknown): string {
  if (typeof raw === 'bigint') return raw.toString();
  if (typeof raw === 'string') return JSON.stringify(raw.length > 80 ? `${raw.slice(0, 77)}...` : raw);
  if (typeof raw === 'number') return Number.isInteger(raw) ? `${raw}.0 (a float)` : `${raw} (a float)`;
  if (typeof raw === 'boolean') return String(raw);
  if (Array.isArray(raw)) return 'an array';
  if (raw instanceof Date) return 'a date';
  if (raw !== null && typeof raw === 'object') {
    return raw.constructor?.name === 'TomlDate' ? 'a date' : 'a table';
  }
  return String(raw);
}
