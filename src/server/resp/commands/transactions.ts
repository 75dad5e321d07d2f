/**
 * RESP transactions, Redis 7.0's way: MULTI EXEC DISCARD WATCH UNWATCH. (The driver queues
 * the commands sent after MULTI and refuses bad ones; this file runs and ends transactions.)
 *
 * Guarantees:
 * - EXEC runs every queued command in one synchronous step: no other client's command, no
 *   save cut and no timer runs between two of them. Commands that would wait are refused while
 *   queuing (SAVE is `no_multi`) or finish in the same turn when `ctx.atomic` is set (KEYS).
 * - A transaction in which a command was refused while queuing (unknown, wrong arity, not
 *   allowed in MULTI, a write while read-only) runs nothing: EXEC answers EXECABORT.
 * - A transaction whose WATCHed keys changed after WATCH runs nothing: EXEC answers a null
 *   array (RESP2 `*-1`, RESP3 `_`).
 * - EXEC, DISCARD, UNWATCH (and RESET, and closing) forget every watched key.
 */

import { ArgView } from '../../../protocol/args.js';
import type { MultiState, QueuedCommand } from '../client.js';
import { RespText, fail, type RespCommand, type RespContext } from './context.js';
import { keyAt, type CommandDefinition, type CommandFlag } from './table.js';

/** A fresh MULTI state. */
export function newMulti(): MultiState {
  return { queued: [], aborted: false, writes: false, denyOom: false, bytes: 0 };
}

/** A copy of a request's arguments that outlives it (the parser reuses its buffers). */
export function copyCommand(q: ArgView): QueuedCommand {
  let total = 0;
  for (let i = 0; i < q.count; i++) total += q.length(i);
  const buffer = Buffer.allocUnsafe(total);
  const offsets = new Int32Array(q.count);
  const lengths = new Int32Array(q.count);
  let at = 0;
  for (let i = 0; i < q.count; i++) {
    const length = q.length(i);
    q.buffer.copy(buffer, at, q.offset(i), q.offset(i) + length);
    offsets[i] = at;
    lengths[i] = length;
    at += length;
  }
  return { buffer, offsets, lengths, count: q.count };
}

function viewOf(command: QueuedCommand): ArgView {
  const view = new ArgView();
  view.bind(command.buffer, 0, command.offsets, command.lengths, 0, command.count);
  return view;
}

/** Forget a client's transaction and watched keys. */
export function endTransaction(ctx: RespContext): void {
  ctx.client.multi = null;
  ctx.shared.watch.unwatchAll(ctx.client);
}

const multi: RespCommand = (ctx) => {
  if (ctx.client.multi !== null) throw fail(RespText.nestedMulti);
  ctx.client.multi = newMulti();
  ctx.w.ok();
};

const exec: RespCommand = (ctx) => {
  const state = ctx.client.multi;
  if (state === null) throw fail(RespText.execWithoutMulti);
  ctx.shared.watch.checkExpired(ctx.client);
  const dirty = ctx.client.watchDirty;
  endTransaction(ctx);
  if (state.aborted) throw fail(RespText.execAbort);
  if (dirty) return ctx.w.nullArray();
  ctx.w.array(state.queued.length);
  ctx.atomic = true;
  try {
    for (const command of state.queued) ctx.runQueued(viewOf(command));
  } finally {
    ctx.atomic = false;
  }
};

const discard: RespCommand = (ctx) => {
  if (ctx.client.multi === null) throw fail(RespText.discardWithoutMulti);
  endTransaction(ctx);
  ctx.w.ok();
};

const watch: RespCommand = (ctx, q) => {
  if (ctx.client.multi !== null) throw fail(RespText.watchInMulti);
  // Already dirty: the next EXEC fails whatever else is watched (as Redis).
  if (!ctx.client.watchDirty) {
    const table = ctx.table();
    for (let i = 1; i < q.count; i++) ctx.shared.watch.watch(ctx.client, table, q.arg(i));
  }
  ctx.w.ok();
};

const unwatch: RespCommand = (ctx) => {
  ctx.shared.watch.unwatchAll(ctx.client);
  ctx.w.ok();
};

const kTransactionFlags: readonly CommandFlag[] = ['noscript', 'loading', 'stale', 'fast', 'allow_busy'];
const kTransactionAcl = ['transaction'] as const;

export const kTransactionCommands: readonly CommandDefinition[] = [
  { name: 'multi', arity: 1, flags: kTransactionFlags, group: 'transactions', acl: kTransactionAcl, run: multi },
  { name: 'exec', arity: 1, flags: ['noscript', 'loading', 'stale', 'skip_slowlog'], group: 'transactions', acl: kTransactionAcl, run: exec },
  { name: 'discard', arity: 1, flags: kTransactionFlags, group: 'transactions', acl: kTransactionAcl, run: discard },
  { name: 'watch', arity: -2, flags: kTransactionFlags, group: 'transactions', acl: kTransactionAcl, keys: keyAt(1, ['RO'], -1), run: watch },
  { name: 'unwatch', arity: 1, flags: kTransactionFlags, group: 'transactions', acl: kTransactionAcl, run: unwatch },
];
