/**
 * Skytable 0.7 list actions (docs/behaviour.md, Skyhash actions): LSET, LGET (LEN, LIMIT, VALUEAT, FIRST, LAST,
 * RANGE) and LMOD (PUSH, INSERT, POP, REMOVE, CLEAR), on `keymap(K, list<T>)` tables.
 *
 * Guarantees: one reply element per action; sub-actions are case-insensitive; a missing list
 * is code 1; indexes that are not unsigned numbers are code 7; out-of-range indexes are
 * `bad-list-index` and empty lists `list-is-empty`, as the handle reports them. A write
 * checks its indexes (code 7) and its key's and values' encoding (code 9) in its `check` step,
 * so the read-only state (code 5, dispatch.ts) is answered exactly where Skytable 0.7 does.
 */

import type { ArgView } from '../../protocol/args.js';
import type { TableHandle } from '../../engine/handle.js';
import { Code, SkyError, argc, reply, unsignedArg, valueType, type SkyContext } from './context.js';
import { atLeast, exact, oneOf, tableAction, type AnyDefinition } from './spec.js';

type Run = (ctx: SkyContext, q: ArgView, t: TableHandle) => void;

function values(q: ArgView, from: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = from; i < q.count; i++) out.push(q.arg(i));
  return out;
}

/** The key (argument 1) and the values from argument `from` against the table's types (code 9). */
function checkKeyAndValues(t: TableHandle, q: ArgView, from: number): void {
  t.checkKeyRange(q.buffer, q.offset(1), q.length(1));
  for (let i = from; i < q.count; i++) t.checkValueRange(q.buffer, q.offset(i), q.length(i));
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

function nilUnless(ctx: SkyContext, done: boolean): void {
  ctx.w.code(done ? Code.okay : Code.nil);
}

const lset: Run = (ctx, q, t) => {
  ctx.w.code(t.listCreate(q.arg(1), values(q, 2)) ? Code.okay : Code.overwrite);
};

/** LGET subactions (reads): the key is argument 1, the subaction word argument 2. */
const kLgetSubactions: readonly AnyDefinition[] = [
  tableAction({
    name: 'LEN',
    arity: exact(2),
    run: (ctx, q, t) => {
      const length = t.listLength(q.arg(1));
      if (length === undefined) throw reply(Code.nil);
      ctx.w.uint(length);
    },
  }),
  tableAction({ name: 'LIMIT', arity: exact(3), run: (ctx, q, t) => writeList(ctx, t, t.listLimit(q.arg(1), unsignedArg(q, 3))) }),
  tableAction({ name: 'VALUEAT', arity: exact(3), run: (ctx, q, t) => writeValue(ctx, t, t.listValueAt(q.arg(1), unsignedArg(q, 3))) }),
  tableAction({ name: 'FIRST', arity: exact(2), run: (ctx, q, t) => writeValue(ctx, t, t.listFirst(q.arg(1))) }),
  tableAction({ name: 'LAST', arity: exact(2), run: (ctx, q, t) => writeValue(ctx, t, t.listLast(q.arg(1))) }),
  tableAction({
    name: 'RANGE',
    // As Skytable: arguments after the stop index are ignored.
    arity: atLeast(3),
    run: (ctx, q, t) => {
      const start = unsignedArg(q, 3);
      const stop = argc(q) >= 4 ? unsignedArg(q, 4) : undefined;
      writeList(ctx, t, t.listRange(q.arg(1), start, stop));
    },
  }),
];

/** An index argument (code 7 unless an unsigned number), then the key's encoding. */
function indexThenKey(q: ArgView, t: TableHandle, i: number): number {
  const index = unsignedArg(q, i);
  t.checkKeyRange(q.buffer, q.offset(1), q.length(1));
  return index;
}

/** LMOD subactions (writes): the checks of Skytable 0.7's order, then the change. */
const kLmodSubactions: readonly AnyDefinition[] = [
  tableAction({
    name: 'PUSH',
    arity: atLeast(3),
    write: true,
    check: (_ctx, q, t) => checkKeyAndValues(t, q, 3),
    run: (ctx, q, t) => nilUnless(ctx, t.listPush(q.arg(1), values(q, 3))),
  }),
  tableAction({
    name: 'INSERT',
    arity: exact(4),
    write: true,
    check: (_ctx, q, t): number => {
      const index = indexThenKey(q, t, 3);
      t.checkValueRange(q.buffer, q.offset(4), q.length(4));
      return index;
    },
    run: (ctx, q, t, index) => nilUnless(ctx, t.listInsert(q.arg(1), index, q.arg(4))),
  }),
  tableAction({
    name: 'POP',
    arity: oneOf(2, 3),
    write: true,
    check: (_ctx, q, t): number | undefined => {
      if (argc(q) === 3) return indexThenKey(q, t, 3);
      t.checkKeyRange(q.buffer, q.offset(1), q.length(1));
      return undefined;
    },
    run: (ctx, q, t, index) => writeValue(ctx, t, t.listPop(q.arg(1), index)),
  }),
  tableAction({
    name: 'REMOVE',
    arity: exact(3),
    write: true,
    check: (_ctx, q, t): number => indexThenKey(q, t, 3),
    run: (ctx, q, t, index) => nilUnless(ctx, t.listRemove(q.arg(1), index)),
  }),
  tableAction({
    name: 'CLEAR',
    arity: exact(2),
    write: true,
    check: (_ctx, q, t) => checkKeyAndValues(t, q, q.count),
    run: (ctx, q, t) => nilUnless(ctx, t.listClear(q.arg(1))),
  }),
];

export const listActions: readonly AnyDefinition[] = [
  tableAction({
    name: 'LSET',
    arity: atLeast(1),
    table: 'list',
    write: true,
    check: (_ctx, q, t) => checkKeyAndValues(t, q, 2),
    run: lset,
  }),
  tableAction({
    name: 'LGET',
    arity: atLeast(1),
    table: 'list',
    // The bare form, `LGET key`: the whole list.
    run: (ctx, q, t) => writeList(ctx, t, t.list(q.arg(1))),
    subactions: { at: 2, unknown: SkyError.unknownAction, list: kLgetSubactions },
  }),
  tableAction({
    name: 'LMOD',
    arity: atLeast(2),
    table: 'list',
    subactions: { at: 2, unknown: SkyError.unknownAction, list: kLmodSubactions },
  }),
];
