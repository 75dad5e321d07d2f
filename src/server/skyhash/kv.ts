/**
 * Skytable 0.7 key/value actions (docs/behaviour.md, Skyhash actions): GET SET UPDATE DEL EXISTS MGET MSET
 * MUPDATE USET SSET SUPDATE SDEL POP MPOP KEYLEN.
 *
 * Guarantees: each action writes exactly one reply element; multi-key actions check every
 * key's (and value's) encoding and the read-only state before changing anything, so a refused
 * request changes nothing; the S* actions are all-or-nothing; keys and values are read from
 * the receive buffer in place.
 */

import type { ArgView } from '../../protocol/args.js';
import { record } from '../../table/segment.js';
import type { TableHandle } from '../../engine/handle.js';
import { Code, argc, needArgs, reply, valueType, type SkyContext } from './context.js';

type Action = (ctx: SkyContext, q: ArgView) => void;

function checkKeys(t: TableHandle, q: ArgView, from: number, step: number): void {
  for (let i = from; i < q.count; i += step) t.checkKeyRange(q.buffer, q.offset(i), q.length(i));
}

function checkPairs(t: TableHandle, q: ArgView): void {
  for (let i = 1; i < q.count; i += 2) {
    t.checkKeyRange(q.buffer, q.offset(i), q.length(i));
    t.checkValueRange(q.buffer, q.offset(i + 1), q.length(i + 1));
  }
}

function hasKey(t: TableHandle, q: ArgView, i: number): boolean {
  return t.hasRange(q.buffer, q.offset(i), q.length(i));
}

function writePair(t: TableHandle, q: ArgView, i: number, mode: 'upsert' | 'insert' | 'update'): boolean {
  return t.writeRange(mode, q.buffer, q.offset(i), q.length(i), q.buffer, q.offset(i + 1), q.length(i + 1));
}

function pairs(q: ArgView): boolean {
  const n = argc(q);
  return n > 0 && n % 2 === 0;
}

const get: Action = (ctx, q) => {
  needArgs(q, argc(q) === 1);
  const t = ctx.session.current();
  if (t.getRange(q.buffer, q.offset(1), q.length(1))) ctx.w.scalar(valueType(t), record.bytes, record.valueOffset, record.valueLength);
  else ctx.w.code(Code.nil);
};

const set: Action = (ctx, q) => {
  needArgs(q, argc(q) === 2);
  const t = ctx.session.current();
  ctx.w.code(writePair(t, q, 1, 'insert') ? Code.okay : Code.overwrite);
};

const update: Action = (ctx, q) => {
  needArgs(q, argc(q) === 2);
  const t = ctx.session.current();
  ctx.w.code(writePair(t, q, 1, 'update') ? Code.okay : Code.nil);
};

const del: Action = (ctx, q) => {
  needArgs(q, argc(q) >= 1);
  const t = ctx.session.current();
  checkKeys(t, q, 1, 1);
  t.checkWritable();
  let removed = 0;
  for (let i = 1; i < q.count; i++) if (t.deleteRange(q.buffer, q.offset(i), q.length(i))) removed++;
  ctx.w.uint(removed);
};

const exists: Action = (ctx, q) => {
  needArgs(q, argc(q) >= 1);
  const t = ctx.session.current();
  checkKeys(t, q, 1, 1);
  let present = 0;
  for (let i = 1; i < q.count; i++) if (hasKey(t, q, i)) present++;
  ctx.w.uint(present);
};

const mget: Action = (ctx, q) => {
  needArgs(q, argc(q) >= 1);
  const t = ctx.session.current();
  t.requireKv();
  checkKeys(t, q, 1, 1);
  ctx.w.typedArray(valueType(t), argc(q));
  for (let i = 1; i < q.count; i++) {
    if (t.getRange(q.buffer, q.offset(i), q.length(i))) ctx.w.element(record.bytes, record.valueOffset, record.valueLength);
    else ctx.w.nullElement();
  }
};

function multiWrite(mode: 'upsert' | 'insert' | 'update'): Action {
  return (ctx, q) => {
    needArgs(q, pairs(q));
    const t = ctx.session.current();
    t.requireKv();
    checkPairs(t, q);
    t.checkWritable();
    let written = 0;
    for (let i = 1; i < q.count; i += 2) if (writePair(t, q, i, mode)) written++;
    ctx.w.uint(mode === 'upsert' ? argc(q) / 2 : written);
  };
}

/** SSET: 0 when no key existed and all were set; else 2 and nothing set. */
const sset: Action = (ctx, q) => {
  needArgs(q, pairs(q));
  const t = ctx.session.current();
  t.requireKv();
  checkPairs(t, q);
  t.checkWritable();
  for (let i = 1; i < q.count; i += 2) if (hasKey(t, q, i)) throw reply(Code.overwrite);
  // None exists: upsert so a key repeated within the request ends with its last value.
  for (let i = 1; i < q.count; i += 2) writePair(t, q, i, 'upsert');
  ctx.w.code(Code.okay);
};

/** SUPDATE: 0 when every key existed and all were updated; else 1 and nothing changed. */
const supdate: Action = (ctx, q) => {
  needArgs(q, pairs(q));
  const t = ctx.session.current();
  t.requireKv();
  checkPairs(t, q);
  t.checkWritable();
  for (let i = 1; i < q.count; i += 2) if (!hasKey(t, q, i)) throw reply(Code.nil);
  for (let i = 1; i < q.count; i += 2) writePair(t, q, i, 'upsert');
  ctx.w.code(Code.okay);
};

/** SDEL: 0 when every key existed and all were deleted; else 1 and nothing deleted. */
const sdel: Action = (ctx, q) => {
  needArgs(q, argc(q) >= 1);
  const t = ctx.session.current();
  checkKeys(t, q, 1, 1);
  t.checkWritable();
  for (let i = 1; i < q.count; i++) if (!hasKey(t, q, i)) throw reply(Code.nil);
  for (let i = 1; i < q.count; i++) t.deleteRange(q.buffer, q.offset(i), q.length(i));
  ctx.w.code(Code.okay);
};

const pop: Action = (ctx, q) => {
  needArgs(q, argc(q) === 1);
  const t = ctx.session.current();
  // As Skytable: a read-only server answers 5 before looking at the table.
  t.checkWritable();
  if (!t.getRange(q.buffer, q.offset(1), q.length(1))) throw reply(Code.nil);
  ctx.w.scalar(valueType(t), record.bytes, record.valueOffset, record.valueLength);
  t.deleteRange(q.buffer, q.offset(1), q.length(1));
};

const mpop: Action = (ctx, q) => {
  needArgs(q, argc(q) >= 1);
  const t = ctx.session.current();
  t.requireKv();
  checkKeys(t, q, 1, 1);
  t.checkWritable();
  ctx.w.typedArray(valueType(t), argc(q));
  for (let i = 1; i < q.count; i++) {
    if (t.getRange(q.buffer, q.offset(i), q.length(i))) {
      ctx.w.element(record.bytes, record.valueOffset, record.valueLength);
      t.deleteRange(q.buffer, q.offset(i), q.length(i));
    } else {
      ctx.w.nullElement();
    }
  }
};

/** KEYLEN: the value's length in bytes; 1 when missing; 9 for a key failing its str check, as every action. */
const keylen: Action = (ctx, q) => {
  needArgs(q, argc(q) === 1);
  const t = ctx.session.current();
  if (t.getRange(q.buffer, q.offset(1), q.length(1))) ctx.w.uint(record.valueLength);
  else ctx.w.code(Code.nil);
};

export const kvActions: ReadonlyArray<[string, Action]> = [
  ['GET', get],
  ['SET', set],
  ['UPDATE', update],
  ['DEL', del],
  ['EXISTS', exists],
  ['MGET', mget],
  ['MSET', multiWrite('insert')],
  ['MUPDATE', multiWrite('update')],
  ['USET', multiWrite('upsert')],
  ['SSET', sset],
  ['SUPDATE', supdate],
  ['SDEL', sdel],
  ['POP', pop],
  ['MPOP', mpop],
  ['KEYLEN', keylen],
];
