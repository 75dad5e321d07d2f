/**
 * The declarative Skyhash action table: every action's name, argument count, flags and
 * handler, with its subactions (`SYS INFO`, `AUTH LOGIN`, `LMOD key PUSH`) described the same
 * way. Family files (kv.ts, lists.ts, admin.ts, auth.ts) each export their definitions;
 * dispatch.ts runs the checks in Skytable 0.7's order from this table alone.
 *
 * Guarantees:
 * - An arity counts the arguments after the action name (a subaction's word included, so
 *   `AUTH LOGIN u t` has 3); the forms are exact, at least, at most, a set of counts, and
 *   `pairs` (a positive even count).
 * - A name is defined once, and a subaction name once under its action (a duplicate throws
 *   when the table is built); lookups are case-insensitive and allocation-free for
 *   subactions.
 * - `write` is only allowed on nodes that run (a container's subactions carry it), so the
 *   read-only check always sits after the node's own `check` step and before its handler.
 */

import type { ArgView } from '../../protocol/args.js';
import type { TableHandle } from '../../engine/handle.js';
import type { SkyContext } from './context.js';

/** Argument counts after the action name. */
export type Arity =
  | { readonly kind: 'exact'; readonly n: number }
  | { readonly kind: 'atLeast'; readonly n: number }
  | { readonly kind: 'atMost'; readonly n: number }
  | { readonly kind: 'oneOf'; readonly counts: readonly number[] }
  | { readonly kind: 'pairs' };

export const exact = (n: number): Arity => ({ kind: 'exact', n });
export const atLeast = (n: number): Arity => ({ kind: 'atLeast', n });
export const atMost = (n: number): Arity => ({ kind: 'atMost', n });
export const oneOf = (...counts: number[]): Arity => ({ kind: 'oneOf', counts });
/** Key/value pairs: a positive even count (MSET, USET, SSET, ...). */
export const pairs: Arity = { kind: 'pairs' };

export function arityAllows(arity: Arity, argc: number): boolean {
  switch (arity.kind) {
    case 'exact':
      return argc === arity.n;
    case 'atLeast':
      return argc >= arity.n;
    case 'atMost':
      return argc <= arity.n;
    case 'oneOf':
      return arity.counts.includes(argc);
    case 'pairs':
      return argc > 0 && argc % 2 === 0;
  }
}

/**
 * The table an action works on: the connection's current table, of any model, of a key/value
 * model (`wrong-model` otherwise) or of a list model. Resolved (and its model checked) right
 * after the action's argument count, before any subaction is looked at.
 */
export type TableScope = 'any' | 'kv' | 'list';

/**
 * Encoding checks of the arguments after the name against the table's key and value types
 * (code 9), made before the node's `check` step: every argument a key, or key/value pairs.
 */
export type KeyArgs = 'each' | 'pairs';

export type ActionResult = void | Promise<void>;

/**
 * One action or subaction as a family file writes it. `T` is the table the handler gets
 * (`TableHandle` under a `table` scope, else `null`); `P` what `check` returns.
 */
export interface ActionDefinition<T extends TableHandle | null = TableHandle | null, P = unknown> {
  /** Upper case, as clients usually spell it (matched case-insensitively). */
  readonly name: string;
  readonly arity: Arity;
  /** Refused with code 5 while writes are refused: after `check`, before `run`. */
  readonly write?: boolean;
  /** May run on an anonymous connection when auth is on (else code 10, or 11 for a subaction). */
  readonly beforeAuth?: boolean;
  /** Top-level actions only: the current table and its model, checked after the arity. */
  readonly table?: TableScope;
  readonly keys?: KeyArgs;
  /** Validation that Skytable makes before the read-only check; its result goes to `run`. */
  readonly check?: (ctx: SkyContext, q: ArgView, t: T) => P;
  /** The handler; a container (CREATE, SYS) has none, LGET has one for its bare form. */
  readonly run?: (ctx: SkyContext, q: ArgView, t: T, prepared: P) => ActionResult;
  readonly subactions?: SubactionSet;
}

/** Subactions of a table action get the action's table; those of a plain action `null`. */
export interface SubactionSet {
  /** The argument holding the subaction word (1: `SYS INFO`, 2: `LGET key LEN`). */
  readonly at: number;
  /** The reply for a word that names no subaction (an error string or a response code). */
  readonly unknown: number | string;
  readonly list: readonly AnyDefinition[];
}

/** A definition with its types erased, as the table stores it. */
export type AnyDefinition = ActionDefinition<never, never>;

/** Type an action that needs no table (its handler gets `null`). */
export function plainAction<P = undefined>(definition: ActionDefinition<null, P>): AnyDefinition {
  return definition as unknown as AnyDefinition;
}

/** Type an action on the current table (its handler gets the TableHandle), or one of its subactions. */
export function tableAction<P = undefined>(definition: ActionDefinition<TableHandle, P>): AnyDefinition {
  return definition as unknown as AnyDefinition;
}

type Check = (ctx: SkyContext, q: ArgView, t: TableHandle | null) => unknown;
type Run = (ctx: SkyContext, q: ArgView, t: TableHandle | null, prepared: unknown) => ActionResult;

/** A resolved table entry. */
export interface ActionNode {
  /** `GET`, `LMOD PUSH`. */
  readonly fullName: string;
  readonly name: string;
  readonly arity: Arity;
  readonly write: boolean;
  readonly beforeAuth: boolean;
  readonly table: TableScope | null;
  readonly keys: KeyArgs | null;
  readonly check: Check | null;
  readonly run: Run | null;
  readonly subactions: { readonly at: number; readonly unknown: number | string; readonly list: readonly ActionNode[] } | null;
}

function resolve(definition: AnyDefinition, parent: ActionNode | null): ActionNode {
  const fullName = parent === null ? definition.name : `${parent.fullName} ${definition.name}`;
  if (definition.name !== definition.name.toUpperCase()) throw new Error(`action ${fullName}: names are upper case`);
  if (parent !== null && definition.table !== undefined) throw new Error(`action ${fullName}: only an action has a table scope`);
  if (definition.run === undefined && definition.subactions === undefined) throw new Error(`action ${fullName}: needs run or subactions`);
  if (definition.write === true && definition.run === undefined) throw new Error(`action ${fullName}: write belongs on what runs`);
  const node: ActionNode = {
    fullName,
    name: definition.name,
    arity: definition.arity,
    write: definition.write === true,
    beforeAuth: definition.beforeAuth === true,
    table: definition.table ?? null,
    keys: definition.keys ?? null,
    check: (definition.check as unknown as Check | undefined) ?? null,
    run: (definition.run as unknown as Run | undefined) ?? null,
    subactions: null,
  };
  const set = definition.subactions;
  if (set === undefined) return node;
  const list = set.list.map((sub) => resolve(sub, node));
  const names = new Set(list.map((sub) => sub.name));
  if (names.size !== list.length) throw new Error(`action ${fullName}: a subaction is defined twice`);
  return { ...node, subactions: { at: set.at, unknown: set.unknown, list } };
}

export class ActionTable {
  private readonly byName = new Map<string, ActionNode>();
  /** The longest action name: a longer one is unknown without building a string. */
  readonly nameMaxBytes: number;

  constructor(families: ReadonlyArray<readonly AnyDefinition[]>) {
    for (const family of families) {
      for (const definition of family) {
        if (this.byName.has(definition.name)) throw new Error(`action ${definition.name} defined twice`);
        this.byName.set(definition.name, resolve(definition, null));
      }
    }
    this.nameMaxBytes = Math.max(...[...this.byName.keys()].map((name) => name.length));
  }

  /** Every action, in definition order. */
  get entries(): ActionNode[] {
    return [...this.byName.values()];
  }

  /** The action a query names (argument 0, case-insensitive). */
  lookup(q: ArgView): ActionNode | undefined {
    return q.length(0) <= this.nameMaxBytes ? this.byName.get(q.argString(0, 'latin1').toUpperCase()) : undefined;
  }
}

/** The subaction of `node` that argument `at` names, without building a string. */
export function lookupSubaction(node: ActionNode, q: ArgView): ActionNode | undefined {
  const set = node.subactions;
  if (set === null) return undefined;
  for (const sub of set.list) if (q.argIs(set.at, sub.name)) return sub;
  return undefined;
}
