/**
 * Every Skyhash query goes through here: the one action table (kv.ts, lists.ts, admin.ts,
 * auth.ts) and the checks made from it, in Skytable 0.7's order, before a handler runs.
 *
 * Guarantees: exactly one reply element per query. The order of checks is
 * 1. auth: on an anonymous connection an action not marked `beforeAuth` (or an unknown name)
 *    is code 10;
 * 2. the name: `Unknown action`;
 * 3. the argument count (code 3);
 * 4. the action's table scope: the current table (`default-container-unset`,
 *    `container-not-found`) and its model (`wrong-model`);
 * 5. for a container, the subaction word: anonymous and not `beforeAuth` is code 11, unknown
 *    is the container's own reply; then the subaction's argument count (code 3);
 * 6. the node's `keys` encoding checks (code 9), then its `check` step;
 * 7. `write`: code 5 while writes are refused (the table's state, or the engine's);
 * 8. the handler.
 * Handlers never check counts, scopes or the read-only state themselves.
 */

import type { ArgView } from '../../protocol/args.js';
import type { TableHandle } from '../../engine/handle.js';
import { Code, SkyError, reply, type SkyContext } from './context.js';
import { ActionTable, arityAllows, lookupSubaction, type ActionNode, type ActionResult, type KeyArgs, type TableScope } from './spec.js';
import { kvActions } from './kv.js';
import { listActions } from './lists.js';
import { adminActions } from './admin.js';
import { authActions } from './auth.js';

/** The one table every Skyhash action is in. */
export const kSkyhashActions = new ActionTable([kvActions, listActions, adminActions, authActions]);

function need(ok: boolean, failure: number | string): void {
  if (!ok) throw reply(failure);
}

function scopeTable(ctx: SkyContext, scope: TableScope): TableHandle {
  const t = ctx.session.current();
  if (scope === 'kv') t.requireKv();
  else if (scope === 'list') t.requireList();
  return t;
}

function checkKeyArgs(t: TableHandle, q: ArgView, keys: KeyArgs): void {
  if (keys === 'each') {
    for (let i = 1; i < q.count; i++) t.checkKeyRange(q.buffer, q.offset(i), q.length(i));
    return;
  }
  for (let i = 1; i < q.count; i += 2) {
    t.checkKeyRange(q.buffer, q.offset(i), q.length(i));
    t.checkValueRange(q.buffer, q.offset(i + 1), q.length(i + 1));
  }
}

/** The node that runs: `action` itself, or the subaction its word names (steps 5). */
function selectNode(action: ActionNode, q: ArgView, anonymous: boolean): ActionNode {
  const set = action.subactions;
  if (set === null) return action;
  // LGET's bare form (`LGET key`): no subaction word.
  if (q.count <= set.at && action.run !== null) return action;
  const sub = lookupSubaction(action, q);
  need(!anonymous || sub?.beforeAuth === true, Code.permission);
  if (sub === undefined) throw reply(set.unknown);
  need(arityAllows(sub.arity, q.count - 1), Code.actionError);
  return sub;
}

function runChecked(ctx: SkyContext, q: ArgView, action: ActionNode, anonymous: boolean): ActionResult {
  need(arityAllows(action.arity, q.count - 1), Code.actionError);
  const t = action.table === null ? null : scopeTable(ctx, action.table);
  const node = selectNode(action, q, anonymous);
  if (node.keys !== null && t !== null) checkKeyArgs(t, q, node.keys);
  const prepared = node.check === null ? undefined : node.check(ctx, q, t);
  if (node.write) {
    if (t === null) ctx.db.engine.checkWritable();
    else t.checkWritable();
  }
  if (node.run === null) throw reply(SkyError.unknownAction);
  return node.run(ctx, q, t, prepared);
}

/** Run query `q`, writing its one reply element (now, or when the returned promise settles). */
export function dispatch(ctx: SkyContext, q: ArgView): ActionResult {
  const anonymous = !ctx.session.authenticated;
  const action = kSkyhashActions.lookup(q);
  if (anonymous && action?.beforeAuth !== true) return ctx.w.code(Code.badCredentials);
  if (action === undefined) return ctx.w.error(SkyError.unknownAction);
  try {
    const pending = runChecked(ctx, q, action, anonymous);
    if (pending === undefined) return undefined;
    return pending.catch((error: unknown) => ctx.fail(error));
  } catch (error) {
    return ctx.fail(error);
  }
}
