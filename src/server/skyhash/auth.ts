/**
 * Skytable 0.7.7's AUTH action (server/src/auth/mod.rs): CLAIM LOGIN LOGOUT ADDUSER DELUSER
 * RESTORE LISTUSER WHOAMI, and what an anonymous connection may run.
 *
 * Guarantees (docs/behaviour.md, Skyhash; each reply byte for byte as Skytable 0.7.7):
 * - The argument count is checked before anything else (code 3), then the provider's checks
 *   (src/auth/provider.ts). Tokens are answered as a `+` string of 56 characters, LISTUSER as a
 *   non-null `^+` array, LOGIN/LOGOUT/DELUSER as code 0.
 * - Failures: `err-auth-disabled` (no origin key), `err-auth-already-claimed`, code 10 (bad
 *   credentials, unknown user), code 11 (anonymous or not root), `err-auth-illegal-username`,
 *   `err-auth-deluser-fail` (root).
 * - With auth on, an anonymous connection may run only AUTH LOGIN / CLAIM / RESTORE / WHOAMI
 *   (any other AUTH subaction is code 11); any other action is code 10, and a pipeline is
 *   answered `*1` + code 10 as a whole (driver.ts).
 */

import type { ArgView } from '../../protocol/args.js';
import { kSkyhashTypeString } from '../../protocol/skyhash/writer.js';
import { AuthFailure, type AuthFailureKind } from '../../auth/provider.js';
import { Code, SkyError, argc, needArgs, reply, type SkyContext } from './context.js';

type Action = (ctx: SkyContext, q: ArgView) => void;

/** The Skyhash reply for each provider failure (Skytable's auth/errors.rs). */
const kReplyForFailure: Record<AuthFailureKind, number | string> = {
  'disabled': SkyError.authDisabled,
  'already-claimed': SkyError.authAlreadyClaimed,
  'bad-credentials': Code.badCredentials,
  'permission': Code.permission,
  'anonymous': Code.permission,
  'illegal-username': SkyError.authIllegalUsername,
  'deluser-fail': SkyError.authDeluserFail,
};

/** Run `operation`, turning a provider failure into its reply element. */
function provider<T>(operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    if (error instanceof AuthFailure) throw reply(kReplyForFailure[error.kind]);
    throw error;
  }
}

/** Arguments after the subaction. */
function rest(q: ArgView): number {
  return argc(q) - 1;
}

const login: Action = (ctx, q) => {
  needArgs(q, rest(q) === 2);
  provider(() => ctx.session.auth.login(q.arg(2), q.arg(3)));
  ctx.w.code(Code.okay);
};

const claim: Action = (ctx, q) => {
  needArgs(q, rest(q) === 1);
  ctx.w.str(provider(() => ctx.session.auth.claimRoot(q.arg(2))));
};

const restore: Action = (ctx, q) => {
  const auth = ctx.session.auth;
  let token: string;
  if (rest(q) === 1) token = provider(() => auth.regenerate(q.arg(2)));
  else if (rest(q) === 2) token = provider(() => auth.regenerateUsingOrigin(q.arg(2), q.arg(3)));
  else throw reply(Code.actionError);
  ctx.w.str(token);
};

const whoami: Action = (ctx, q) => {
  needArgs(q, rest(q) === 0);
  ctx.w.str(provider(() => ctx.session.auth.whoami()));
};

const adduser: Action = (ctx, q) => {
  needArgs(q, rest(q) === 1);
  ctx.w.str(provider(() => ctx.session.auth.claimUser(q.arg(2))));
};

const logout: Action = (ctx, q) => {
  needArgs(q, rest(q) === 0);
  provider(() => ctx.session.auth.logout());
  ctx.w.code(Code.okay);
};

const deluser: Action = (ctx, q) => {
  needArgs(q, rest(q) === 1);
  provider(() => ctx.session.auth.deleteUser(q.arg(2)));
  ctx.w.code(Code.okay);
};

const listuser: Action = (ctx, q) => {
  needArgs(q, rest(q) === 0);
  const names = provider(() => ctx.session.auth.listUsers());
  ctx.w.nonNullArray(kSkyhashTypeString, names.length);
  for (const name of names) ctx.w.element(name);
};

/** What an anonymous connection may run (Skytable's auth_login_only). */
const kAnonymousSubactions: ReadonlyArray<[string, Action]> = [
  ['LOGIN', login],
  ['CLAIM', claim],
  ['RESTORE', restore],
  ['WHOAMI', whoami],
];

const kSubactions: ReadonlyArray<[string, Action]> = [
  ...kAnonymousSubactions,
  ['ADDUSER', adduser],
  ['LOGOUT', logout],
  ['DELUSER', deluser],
  ['LISTUSER', listuser],
];

function dispatch(ctx: SkyContext, q: ArgView, table: ReadonlyArray<[string, Action]>, otherwise: number | string): void {
  needArgs(q, argc(q) >= 1);
  for (const [name, action] of table) if (q.argIs(1, name)) return action(ctx, q);
  throw reply(otherwise);
}

/** AUTH <subaction> ...: the whole set (auth off, or a logged-in connection). */
export const auth: Action = (ctx, q) => dispatch(ctx, q, kSubactions, SkyError.unknownAction);

/** AUTH on an anonymous connection: only what logs in; anything else is code 11. */
export const authAnonymous: Action = (ctx, q) => dispatch(ctx, q, kAnonymousSubactions, Code.permission);
