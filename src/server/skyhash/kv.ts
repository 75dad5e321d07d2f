/**
 * Skytable 0.7 key/value actions (docs/behaviour.md, Skyhash actions): GET SET UPDATE DEL EXISTS MGET MSET
 * MUPDATE USET SSET SUPDATE SDEL POP MPOP KEYLEN.
 *
 * Guarantees: each action writes exactly one reply element; every key's (and value's)
 * encoding and the read-only state are checked (by dispatch.ts, from each definition's `keys`
 * and `write`) before anything changes, so a refused request changes nothing; the S* actions
 * are all-or-nothing; keys and values are read from the receive buffer in place.
 */

import type { ArgView } from '../../protocol/args.js';
import { valueView } from '../../engine/value.js';
import type { TableHandle } from '../../engine/handle.js';
import { Code, argc, reply, valueType, type SkyContext } from './context.js';
import { atLeast, exact, pairs, tableAction, type AnyDefinition } from './spec.js';

type Run = (ctx: SkyContext, q: ArgView, t: TableHandle) => void;

function hasKey(t: TableHandle, q: ArgView, i: number): boolean {
  return t.hasRange(q.buffer, q.offset(i), q.length(i));
}

function writePair(t: TableHandle, q: ArgView, i: number, mode: 'upsert' | 'insert' | 'update'): boolean {
  return t.writeRange(mode, q.buffer, q.offset(i), q.length(i), q.buffer, q.offset(i + 1), q.length(i + 1));
}

const get: Run = (ctx, q, t) => {
  if (t.getRange(q.buffer, q.offset(1), q.length(1))) ctx.w.scalar(valueType(t), valueView.bytes, valueView.offset, valueView.length);
  else ctx.w.code(Code.nil);
};

const set: Run = (ctx, q, t) => {
  ctx.w.code(writePair(t, q, 1, 'insert') ? Code.okay : Code.overwrite);
};

const update: Run = (ctx, q, t) => {
  ctx.w.code(writePair(t, q, 1, 'update') ? Code.okay : Code.nil);
};

const del: Run = (ctx, q, t) => {
  let removed = 0;
  for (let i = 1; i < q.count; i++) if (t.deleteRange(q.buffer, q.offset(i), q.length(i))) removed++;
  ctx.w.uint(removed);
};

const exists: Run = (ctx, q, t) => {
  let present = 0;
  for (let i = 1; i < q.count; i++) if (hasKey(t, q, i)) present++;
  ctx.w.uint(present);
};

const mget: Run = (ctx, q, t) => {
  ctx.w.typedArray(valueType(t), argc(q));
  for (let i = 1; i < q.count; i++) {
    if (t.getRange(q.buffer, q.offset(i), q.length(i))) ctx.w.element(valueView.bytes, valueView.offset, valueView.length);
    else ctx.w.nullElement();
  }
};

function multiWrite(mode: 'upsert' | 'insert' | 'update'): Run {
  return (ctx, q, t) => {
    let written = 0;
    for (let i = 1; i < q.count; i += 2) if (writePair(t, q, i, mode)) written++;
    ctx.w.uint(mode === 'upsert' ? argc(q) / 2 : written);
  };
}

/** SSET: 0 when no key existed and all were set; else 2 and nothing set. */
const sset: Run = (ctx, q, t) => {
  for (let i = 1; i < q.count; i += 2) if (hasKey(t, q, i)) throw reply(Code.overwrite);
  // None exists: upsert so a key repeated within the request ends with its last value.
  for (let i = 1; i < q.count; i += 2) writePair(t, q, i, 'upsert');
  ctx.w.code(Code.okay);
};

/** SUPDATE: 0 when every key existed and all were updated; else 1 and nothing changed. */
const supdate: Run = (ctx, q, t) => {
  for (let i = 1; i < q.count; i += 2) if (!hasKey(t, q, i)) throw reply(Code.nil);
  for (let i = 1; i < q.count; i += 2) writePair(t, q, i, 'upsert');
  ctx.w.code(Code.okay);
};

/** SDEL: 0 when every key existed and all were deleted; else 1 and nothing deleted. */
const sdel: Run = (ctx, q, t) => {
  for (let i = 1; i < q.count; i++) if (!hasKey(t, q, i)) throw reply(Code.nil);
  for (let i = 1; i < q.count; i++) t.deleteRange(q.buffer, q.offset(i), q.length(i));
  ctx.w.code(Code.okay);
};

const pop: Run = (ctx, q, t) => {
  if (!t.getRange(q.buffer, q.offset(1), q.length(1))) throw reply(Code.nil);
  ctx.w.scalar(valueType(t), valueView.bytes, valueView.offset, valueView.length);
  t.deleteRange(q.buffer, q.offset(1), q.length(1));
};

const mpop: Run = (ctx, q, t) => {
  ctx.w.typedArray(valueType(t), argc(q));
  for (let i = 1; i < q.count; i++) {
    if (t.getRange(q.buffer, q.offset(i), q.length(i))) {
      ctx.w.element(valueView.bytes, valueView.offset, valueView.length);
      t.deleteRange(q.buffer, q.offset(i), q.length(i));
    } else {
      ctx.w.nullElement();
    }
  }
};

/** KEYLEN: the value's length in bytes; 1 when missing; 9 for a key failing its str check, as every action. */
const keylen: Run = (ctx, q, t) => {
  if (t.getRange(q.buffer, q.offset(1), q.length(1))) ctx.w.uint(valueView.length);
  else ctx.w.code(Code.nil);
};

/**
 * The order of checks is Skytable 0.7's (dispatch.ts): the scope's model, then `keys`, then
 * `write`. GET, KEYLEN and POP leave the key check to the table read (the same code 9);
 * POP answers 5 before it looks at the model or the key, as Skytable.
 */
export const kvActions: readonly AnyDefinition[] = [
  tableAction({ name: 'GET', arity: exact(1), table: 'kv', run: get }),
  tableAction({ name: 'SET', arity: exact(2), table: 'kv', keys: 'pairs', write: true, run: set }),
  tableAction({ name: 'UPDATE', arity: exact(2), table: 'kv', keys: 'pairs', write: true, run: update }),
  tableAction({ name: 'DEL', arity: atLeast(1), table: 'any', keys: 'each', write: true, run: del }),
  tableAction({ name: 'EXISTS', arity: atLeast(1), table: 'any', keys: 'each', run: exists }),
  tableAction({ name: 'MGET', arity: atLeast(1), table: 'kv', keys: 'each', run: mget }),
  tableAction({ name: 'MSET', arity: pairs, table: 'kv', keys: 'pairs', write: true, run: multiWrite('insert') }),
  tableAction({ name: 'MUPDATE', arity: pairs, table: 'kv', keys: 'pairs', write: true, run: multiWrite('update') }),
  tableAction({ name: 'USET', arity: pairs, table: 'kv', keys: 'pairs', write: true, run: multiWrite('upsert') }),
  tableAction({ name: 'SSET', arity: pairs, table: 'kv', keys: 'pairs', write: true, run: sset }),
  tableAction({ name: 'SUPDATE', arity: pairs, table: 'kv', keys: 'pairs', write: true, run: supdate }),
  tableAction({ name: 'SDEL', arity: atLeast(1), table: 'any', keys: 'each', write: true, run: sdel }),
  tableAction({ name: 'POP', arity: exact(1), table: 'any', write: true, run: pop }),
  tableAction({ name: 'MPOP', arity: atLeast(1), table: 'kv', keys: 'each', write: true, run: mpop }),
  tableAction({ name: 'KEYLEN', arity: exact(1), table: 'kv', run: keylen }),
];
