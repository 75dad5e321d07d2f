/**
 * Skytable 0.7's Skyhash actions as the tests expect them, written out independently of
 * src/server/skyhash/ (from Skytable 0.7's server/src/actions/ and docs/behaviour.md): every
 * action and subaction, its argument counts (after the action name), whether it writes, whether
 * an anonymous connection may run it, the reply for an unknown subaction, and for every write a
 * request that would succeed (or at least not fail on its own) were the server writable.
 *
 * Arity strings: `exact n`, `atLeast n`, `atMost n`, `oneOf a b ...`, `pairs` (a positive even
 * count: key/value pairs).
 */

import type { Arg } from '../../support/skyhash.js';

export interface ExpectedNode {
  readonly arity: string;
  readonly write?: boolean;
  readonly beforeAuth?: boolean;
}

export interface ExpectedAction extends ExpectedNode {
  /** Where the subaction word is (1: `SYS INFO`, 2: `LGET key LEN`), its unknown reply, the subactions. */
  readonly sub?: { readonly at: number; readonly unknown: string; readonly names: Readonly<Record<string, ExpectedNode>> };
}

const kUnknownAction = 'Unknown action';

export const kExpectedActions: Readonly<Record<string, ExpectedAction>> = {
  GET: { arity: 'exact 1' },
  SET: { arity: 'exact 2', write: true },
  UPDATE: { arity: 'exact 2', write: true },
  DEL: { arity: 'atLeast 1', write: true },
  EXISTS: { arity: 'atLeast 1' },
  MGET: { arity: 'atLeast 1' },
  MSET: { arity: 'pairs', write: true },
  MUPDATE: { arity: 'pairs', write: true },
  USET: { arity: 'pairs', write: true },
  SSET: { arity: 'pairs', write: true },
  SUPDATE: { arity: 'pairs', write: true },
  SDEL: { arity: 'atLeast 1', write: true },
  POP: { arity: 'exact 1', write: true },
  MPOP: { arity: 'atLeast 1', write: true },
  KEYLEN: { arity: 'exact 1' },
  DBSIZE: { arity: 'atMost 1' },
  FLUSHDB: { arity: 'atMost 1', write: true },
  LSKEYS: { arity: 'atMost 2' },
  HEYA: { arity: 'atMost 1' },
  MKSNAP: { arity: 'atMost 1' },
  WHEREAMI: { arity: 'exact 0' },
  USE: { arity: 'exact 1' },
  SYS: {
    arity: 'exact 2',
    sub: { at: 1, unknown: kUnknownAction, names: { INFO: { arity: 'exact 2' }, METRIC: { arity: 'exact 2' } } },
  },
  CREATE: {
    arity: 'atLeast 2',
    sub: {
      at: 1,
      unknown: 'unknown-ddl-query',
      names: { KEYSPACE: { arity: 'exact 2', write: true }, TABLE: { arity: 'oneOf 3 4', write: true } },
    },
  },
  DROP: {
    arity: 'atLeast 2',
    sub: {
      at: 1,
      unknown: 'unknown-ddl-query',
      names: { TABLE: { arity: 'exact 2', write: true }, KEYSPACE: { arity: 'oneOf 2 3', write: true } },
    },
  },
  INSPECT: {
    arity: 'atLeast 1',
    sub: {
      at: 1,
      unknown: 'unknown-inspect-query',
      names: { KEYSPACES: { arity: 'exact 1' }, KEYSPACE: { arity: 'atMost 2' }, TABLE: { arity: 'atMost 2' } },
    },
  },
  AUTH: {
    arity: 'atLeast 1',
    beforeAuth: true,
    sub: {
      at: 1,
      unknown: kUnknownAction,
      names: {
        LOGIN: { arity: 'exact 3', beforeAuth: true },
        CLAIM: { arity: 'exact 2', beforeAuth: true },
        RESTORE: { arity: 'oneOf 2 3', beforeAuth: true },
        WHOAMI: { arity: 'exact 1', beforeAuth: true },
        ADDUSER: { arity: 'exact 2' },
        LOGOUT: { arity: 'exact 1' },
        DELUSER: { arity: 'exact 2' },
        LISTUSER: { arity: 'exact 1' },
      },
    },
  },
  LSET: { arity: 'atLeast 1', write: true },
  LGET: {
    arity: 'atLeast 1',
    sub: {
      at: 2,
      unknown: kUnknownAction,
      names: {
        LEN: { arity: 'exact 2' },
        LIMIT: { arity: 'exact 3' },
        VALUEAT: { arity: 'exact 3' },
        FIRST: { arity: 'exact 2' },
        LAST: { arity: 'exact 2' },
        RANGE: { arity: 'atLeast 3' },
      },
    },
  },
  LMOD: {
    arity: 'atLeast 2',
    sub: {
      at: 2,
      unknown: kUnknownAction,
      names: {
        PUSH: { arity: 'atLeast 3', write: true },
        INSERT: { arity: 'exact 4', write: true },
        POP: { arity: 'oneOf 2 3', write: true },
        REMOVE: { arity: 'exact 3', write: true },
        CLEAR: { arity: 'exact 2', write: true },
      },
    },
  },
};

/** Whether an arity string allows `n` arguments. */
export function allows(arity: string, n: number): boolean {
  const [kind = '', ...rest] = arity.split(' ');
  const values = rest.map(Number);
  const first = values[0] ?? Number.NaN;
  switch (kind) {
    case 'exact':
      return n === first;
    case 'atLeast':
      return n >= first;
    case 'atMost':
      return n <= first;
    case 'oneOf':
      return values.includes(n);
    case 'pairs':
      return n > 0 && n % 2 === 0;
    default:
      throw new Error(`bad arity ${arity}`);
  }
}

/** The largest argument count any test sends; every arity's bounds are below it. */
export const kArityProbeMax = 8;

/**
 * Counts one below the smallest allowed and one above the largest allowed (when bounded), each
 * at least `floor` (a subaction's word takes a place), and for `pairs` the odd neighbours.
 */
export function offByOne(arity: string, floor: number): number[] {
  const allowed: number[] = [];
  for (let n = 0; n <= kArityProbeMax; n++) if (allows(arity, n)) allowed.push(n);
  const min = Math.min(...allowed);
  const max = Math.max(...allowed);
  const out = new Set<number>();
  if (min - 1 >= floor) out.add(min - 1);
  if (max < kArityProbeMax) out.add(max + 1);
  if (arity === 'pairs') out.add(min + 1);
  return [...out].filter((n) => !allows(arity, n));
}

/**
 * A request for every write (action or `ACTION SUB`) that is valid and would change something:
 * `kv` ones run on the key/value table `ro:kv` (keys a, b; table ro:dropme; keyspace ro_empty),
 * `list` ones on the list table `ro:l` (list l of three elements).
 */
export const kWriteSamples: Readonly<Record<string, { readonly on: 'kv' | 'list'; readonly args: readonly Arg[] }>> = {
  SET: { on: 'kv', args: ['SET', 'new', 'v'] },
  UPDATE: { on: 'kv', args: ['UPDATE', 'a', 'v'] },
  DEL: { on: 'kv', args: ['DEL', 'a'] },
  MSET: { on: 'kv', args: ['MSET', 'new', 'v'] },
  MUPDATE: { on: 'kv', args: ['MUPDATE', 'a', 'v'] },
  USET: { on: 'kv', args: ['USET', 'a', 'v', 'new', 'v'] },
  SSET: { on: 'kv', args: ['SSET', 'new', 'v'] },
  SUPDATE: { on: 'kv', args: ['SUPDATE', 'a', 'v'] },
  SDEL: { on: 'kv', args: ['SDEL', 'a', 'b'] },
  POP: { on: 'kv', args: ['POP', 'a'] },
  MPOP: { on: 'kv', args: ['MPOP', 'a', 'b'] },
  FLUSHDB: { on: 'kv', args: ['FLUSHDB'] },
  'CREATE KEYSPACE': { on: 'kv', args: ['CREATE', 'KEYSPACE', 'ro_new'] },
  'CREATE TABLE': { on: 'kv', args: ['CREATE', 'TABLE', 'ro:new', 'keymap(str,str)', 'volatile'] },
  'DROP TABLE': { on: 'kv', args: ['DROP', 'TABLE', 'ro:dropme'] },
  'DROP KEYSPACE': { on: 'kv', args: ['DROP', 'KEYSPACE', 'ro_empty'] },
  LSET: { on: 'list', args: ['LSET', 'l2', 'v'] },
  'LMOD PUSH': { on: 'list', args: ['LMOD', 'l', 'PUSH', 'v'] },
  'LMOD INSERT': { on: 'list', args: ['LMOD', 'l', 'INSERT', '0', 'v'] },
  'LMOD POP': { on: 'list', args: ['LMOD', 'l', 'POP', '0'] },
  'LMOD REMOVE': { on: 'list', args: ['LMOD', 'l', 'REMOVE', '0'] },
  'LMOD CLEAR': { on: 'list', args: ['LMOD', 'l', 'CLEAR'] },
};

/** Every write node of the expectations: `SET`, `LMOD PUSH`, ... */
export function expectedWrites(): string[] {
  const out: string[] = [];
  for (const [name, action] of Object.entries(kExpectedActions)) {
    if (action.write === true) out.push(name);
    for (const [sub, node] of Object.entries(action.sub?.names ?? {})) if (node.write === true) out.push(`${name} ${sub}`);
  }
  return out;
}

/**
 * Writes that, were the server writable, would fail on a check Skytable 0.7 makes after the
 * read-only state (existence, a missing key, an index, the force-less drop of a full keyspace):
 * while writes are refused each is code 5, so the state check sits before those checks.
 */
export const kRefusedBeforeLaterChecks: ReadonlyArray<{ readonly on: 'kv' | 'list'; readonly args: readonly Arg[]; readonly otherwise: string }> = [
  { on: 'kv', args: ['SET', 'a', 'v'], otherwise: 'overwrite (2)' },
  { on: 'kv', args: ['UPDATE', 'nosuch', 'v'], otherwise: 'nil (1)' },
  { on: 'kv', args: ['SSET', 'a', 'v'], otherwise: 'overwrite (2)' },
  { on: 'kv', args: ['SUPDATE', 'nosuch', 'v'], otherwise: 'nil (1)' },
  { on: 'kv', args: ['SDEL', 'nosuch'], otherwise: 'nil (1)' },
  { on: 'kv', args: ['POP', 'nosuch'], otherwise: 'nil (1)' },
  { on: 'kv', args: ['FLUSHDB', 'ro:nosuch'], otherwise: 'container-not-found' },
  { on: 'kv', args: ['CREATE', 'KEYSPACE', 'ro'], otherwise: 'err-already-exists' },
  { on: 'kv', args: ['CREATE', 'TABLE', 'ro:kv', 'keymap(str,str)'], otherwise: 'err-already-exists' },
  { on: 'kv', args: ['CREATE', 'TABLE', 'nosuch:t', 'keymap(str,str)'], otherwise: 'container-not-found' },
  { on: 'kv', args: ['DROP', 'TABLE', 'ro:nosuch'], otherwise: 'container-not-found' },
  { on: 'kv', args: ['DROP', 'KEYSPACE', 'ro'], otherwise: 'keyspace-not-empty' },
  { on: 'kv', args: ['DROP', 'KEYSPACE', 'default'], otherwise: 'err-protected-object' },
  { on: 'list', args: ['POP', 'l'], otherwise: 'wrong-model' },
  { on: 'list', args: ['LSET', 'l'], otherwise: 'overwrite (2)' },
  { on: 'list', args: ['LMOD', 'nosuch', 'PUSH', 'v'], otherwise: 'nil (1)' },
  { on: 'list', args: ['LMOD', 'l', 'INSERT', '99', 'v'], otherwise: 'bad-list-index' },
  { on: 'list', args: ['LMOD', 'nosuch', 'POP'], otherwise: 'nil (1)' },
  { on: 'list', args: ['LMOD', 'l', 'REMOVE', '99'], otherwise: 'bad-list-index' },
  { on: 'list', args: ['LMOD', 'nosuch', 'CLEAR'], otherwise: 'nil (1)' },
];
