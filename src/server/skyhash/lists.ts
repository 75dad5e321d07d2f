/**
 * Skytable 0.7 list actions (docs/behaviour.md, Skyhash actions): LSET, LGET (LEN, LIMIT, VALUEAT, FIRST, LAST,
 * RANGE) and LMOD (PUSH, INSERT, POP, REMOVE, CLEAR), on `keymap(K, list<T>)` tables.
 *
 * Guarantees: one reply element per action; sub-actions are case-insensitive; a missing list
 * is code 1; indexes that are not unsigned numbers are code 7; out-of-range indexes are
 * `bad-list-index` and empty lists `list-is-empty`, as the handle reports them.
 */

import type { ArgView } from '../../protocol/args.js';
import type { TableHandle } from '../../engine/handle.js';
import { Code, SkyError, argc, needArgs, reply, unsignedArg, valueType, type SkyContext } from './context.js';

type Action = (ctx: SkyContext, q: ArgView) => void;

function values(q: ArgView, from: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = from; i < q.count; i++) out.push(q.arg(i));
  return out;
}

function writeList(ctx: SkyContext, t: TableHandle, elements: readonly Uint8Array[] | undefined): void {
  if (elements === undefined) throw reply(Code.nil);
  ctx.w.nonNullArray(valueType(t), elements.length);
  for (const element of elements) ctx.w.element(element);
}

function writeValue(ctx: SkyContext, t: TableHandle, value: Uint8Array | undefined): void {
  if (value === undefined) throw reply(Code.nil);
  ctx.w.scalar(valueType(t), value);
}

const lset: Action = (ctx, q) => {
  needArgs(q, argc(q) >= 1);
  const t = ctx.session.current();
  ctx.w.code(t.listCreate(q.arg(1), values(q, 2)) ? Code.okay : Code.overwrite);
};

const lget: Action = (ctx, q) => {
  needArgs(q, argc(q) >= 1);
  const t = ctx.session.current();
  t.requireList();
  const key = q.arg(1);
  if (argc(q) === 1) return writeList(ctx, t, t.list(key));
  if (q.argIs(2, 'LEN')) {
    needArgs(q, argc(q) === 2);
    const length = t.listLength(key);
    if (length === undefined) throw reply(Code.nil);
    return ctx.w.uint(length);
  }
  if (q.argIs(2, 'LIMIT')) {
    needArgs(q, argc(q) === 3);
    return writeList(ctx, t, t.listLimit(key, unsignedArg(q, 3)));
  }
  if (q.argIs(2, 'VALUEAT')) {
    needArgs(q, argc(q) === 3);
    return writeValue(ctx, t, t.listValueAt(key, unsignedArg(q, 3)));
  }
  if (q.argIs(2, 'FIRST')) {
    needArgs(q, argc(q) === 2);
    return writeValue(ctx, t, t.listFirst(key));
  }
  if (q.argIs(2, 'LAST')) {
    needArgs(q, argc(q) === 2);
    return writeValue(ctx, t, t.listLast(key));
  }
  if (q.argIs(2, 'RANGE')) {
    // As Skytable: arguments after the stop index are ignored.
    needArgs(q, argc(q) >= 3);
    const start = unsignedArg(q, 3);
    const stop = argc(q) >= 4 ? unsignedArg(q, 4) : undefined;
    return writeList(ctx, t, t.listRange(key, start, stop));
  }
  throw reply(SkyError.unknownAction);
};

const lmod: Action = (ctx, q) => {
  needArgs(q, argc(q) >= 2);
  const t = ctx.session.current();
  t.requireList();
  const key = q.arg(1);
  const nilUnless = (done: boolean): void => ctx.w.code(done ? Code.okay : Code.nil);
  if (q.argIs(2, 'PUSH')) {
    needArgs(q, argc(q) >= 3);
    return nilUnless(t.listPush(key, values(q, 3)));
  }
  if (q.argIs(2, 'INSERT')) {
    needArgs(q, argc(q) === 4);
    return nilUnless(t.listInsert(key, unsignedArg(q, 3), q.arg(4)));
  }
  if (q.argIs(2, 'POP')) {
    needArgs(q, argc(q) === 2 || argc(q) === 3);
    const index = argc(q) === 3 ? unsignedArg(q, 3) : undefined;
    return writeValue(ctx, t, t.listPop(key, index));
  }
  if (q.argIs(2, 'REMOVE')) {
    needArgs(q, argc(q) === 3);
    return nilUnless(t.listRemove(key, unsignedArg(q, 3)));
  }
  if (q.argIs(2, 'CLEAR')) {
    needArgs(q, argc(q) === 2);
    return nilUnless(t.listClear(key));
  }
  throw reply(SkyError.unknownAction);
};

export const listActions: ReadonlyArray<[string, Action]> = [
  ['LSET', lset],
  ['LGET', lget],
  ['LMOD', lmod],
];
