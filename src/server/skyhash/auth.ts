/**
 * Skytable 0.7.7's AUTH action (server/src/auth/mod.rs): CLAIM LOGIN LOGOUT ADDUSER DELUSER
 * RESTORE LISTUSER WHOAMI, and what an anonymous connection may run.
 *
 * Guarantees (docs/behaviour.md, Skyhash; each reply byte for byte as Skytable 0.7.7):
 * - The argument count is checked before anything else (code 3, dispatch.ts), then the provider's checks
 *   (src/auth/provider.ts). Tokens are answered as a `+` string of 56 characters, LISTUSER as a
 *   non-null `^+` array, LOGIN/LOGOUT/DELUSER as code 0.
 * - Failures: `err-auth-disabled` (no origin key), `err-auth-already-claimed`, code 10 (bad
 *   credentials, unknown user), code 11 (anonymous or not root), `err-auth-illegal-username`,
 *   `err-auth-deluser-fail` (root).
 * - With auth on, an anonymous connection may run only AUTH LOGIN / CLAIM / RESTORE / WHOAMI
 *   (`beforeAuth`; any other AUTH subaction, known or not, is code 11); any other action is
 *   code 10 (dispatch.ts), and a pipeline is answered `*1` + code 10 as a whole (driver.ts).
 */

import type { ArgView } from '../../protocol/args.js';
import { kSkyhashTypeString } from '../../protocol/skyhash/writer.js';
import { AuthFailure, type AuthFailureKind } from '../../auth/provider.js';
import { Code, SkyError, argc, reply, type SkyContext } from './context.js';
import { atLeast, exact, oneOf, plainAction, type AnyDefinition } from './spec.js';

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

const login: Action = (ctx, q) => {
  provider(() => ctx.session.auth.login(q.arg(2), q.arg(3)));
  ctx.w.code(Code.okay);
};

const claim: Action = (ctx, q) => {
  ctx.w.str(provider(() => ctx.session.auth.claimRoot(q.arg(2))));
};

/** RESTORE user, or RESTORE origin-key user. */
const restore: Action = (ctx, q) => {
  const auth = ctx.session.auth;
  const token = argc(q) === 2 ? provider(() => auth.regenerate(q.arg(2))) : provider(() => auth.regenerateUsingOrigin(q.arg(2), q.arg(3)));
  ctx.w.str(token);
};

const whoami: Action = (ctx) => {
  ctx.w.str(provider(() => ctx.session.auth.whoami()));
};

const adduser: Action = (ctx, q) => {
  ctx.w.str(provider(() => ctx.session.auth.claimUser(q.arg(2))));
};

const logout: Action = (ctx) => {
  provider(() => ctx.session.auth.logout());
  ctx.w.code(Code.okay);
};

const deluser: Action = (ctx, q) => {
  provider(() => ctx.session.auth.deleteUser(q.arg(2)));
  ctx.w.code(Code.okay);
};

const listuser: Action = (ctx) => {
  const names = provider(() => ctx.session.auth.listUsers());
  ctx.w.nonNullArray(kSkyhashTypeString, names.length);
  for (const name of names) ctx.w.element(name);
};

/**
 * AUTH <subaction> ...; counts include the subaction word. `beforeAuth` is Skytable's
 * auth_login_only: what an anonymous connection may run.
 */
export const authActions: readonly AnyDefinition[] = [
  plainAction({
    name: 'AUTH',
    arity: atLeast(1),
    beforeAuth: true,
    subactions: {
      at: 1,
      unknown: SkyError.unknownAction,
      list: [
        plainAction({ name: 'LOGIN', arity: exact(3), beforeAuth: true, run: login }),
        plainAction({ name: 'CLAIM', arity: exact(2), beforeAuth: true, run: claim }),
        plainAction({ name: 'RESTORE', arity: oneOf(2, 3), beforeAuth: true, run: restore }),
        plainAction({ name: 'WHOAMI', arity: exact(1), beforeAuth: true, run: whoami }),
        plainAction({ name: 'ADDUSER', arity: exact(2), run: adduser }),
        plainAction({ name: 'LOGOUT', arity: exact(1), run: logout }),
        plainAction({ name: 'DELUSER', arity: exact(2), run: deluser }),
        plainAction({ name: 'LISTUSER', arity: exact(1), run: listuser }),
      ],
    },
  }),
];
