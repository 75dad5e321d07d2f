/**
 * Who a connection is, and the auth operations of Skytable 0.7.7 (server/src/auth/provider.rs),
 * for both protocols.
 *
 * Guarantees:
 * - With no origin key configured auth is off: every connection may run every action, and
 *   every operation here fails `disabled` (as Skytable answers `err-auth-disabled`).
 * - With an origin key, a connection starts anonymous; only `login` and `claimRoot` (and
 *   RESP's AUTH, which is `login`) make it a user. The checks run in Skytable's order:
 *   enabled, then root or anonymous, then the user name's legality, then existence.
 * - Tokens and the origin key are compared only through tokens.ts (constant time, digests).
 * - A token restored (`regenerate*`) or a user deleted stops working at once everywhere: no
 *   later login with the old token succeeds, and every connection logged in as that user is
 *   anonymous from its next request (each user has an epoch; a session holds the epoch it
 *   logged in at). Skytable 0.7 only replaced the stored key and left such sessions logged
 *   in, so a leaked token kept working until a restart (docs/decisions.md).
 */

import type { Database } from '../database.js';
import { digestToken, generateToken, tokenMatches } from './tokens.js';
import { UserStore, isLegalUserName, kRootUser } from './users.js';

export type AuthFailureKind = 'disabled' | 'already-claimed' | 'bad-credentials' | 'permission' | 'anonymous' | 'illegal-username' | 'deluser-fail';

/** An auth operation that did not happen; `kind` picks the protocol's reply. */
export class AuthFailure extends Error {
  readonly kind: AuthFailureKind;
  constructor(kind: AuthFailureKind) {
    super(`auth: ${kind}`);
    this.name = 'AuthFailure';
    this.kind = kind;
  }
}

function failure(kind: AuthFailureKind): AuthFailure {
  return new AuthFailure(kind);
}

/** One per database: the origin key's digest (never the key itself after start) and the users. */
export class AuthService {
  readonly users: UserStore;
  private readonly originDigest: Buffer | null;
  /** Bumped when a user's token is replaced or the user deleted: older sessions end. */
  private readonly epochs = new Map<string, number>();

  constructor(db: Database) {
    this.users = new UserStore(db.engine);
    const origin = db.config.auth.originKey;
    this.originDigest = origin === null ? null : digestToken(origin);
  }

  get enabled(): boolean {
    return this.originDigest !== null;
  }

  epochOf(user: string): number {
    return this.epochs.get(user) ?? 0;
  }

  /** End every session of `user` (its token was replaced, or it was deleted). */
  revoke(user: string): void {
    this.epochs.set(user, this.epochOf(user) + 1);
  }

  /** Throws `disabled`, or `bad-credentials` for anything but the origin key. */
  verifyOrigin(candidate: Uint8Array): void {
    if (this.originDigest === null) throw failure('disabled');
    if (!tokenMatches(candidate, this.originDigest)) throw failure('bad-credentials');
  }
}

const kServices = new WeakMap<Database, AuthService>();

/** The database's auth service (made on first use, after the load installed the users). */
export function authServiceFor(db: Database): AuthService {
  let service = kServices.get(db);
  if (service === undefined) {
    service = new AuthService(db);
    kServices.set(db, service);
  }
  return service;
}

/** One connection's identity and Skytable's provider operations on it. */
export class AuthSession {
  readonly service: AuthService;
  private loggedIn: string | null = null;
  private epoch = 0;

  constructor(service: AuthService) {
    this.service = service;
  }

  /** The logged-in user, or null (anonymous, or the user's token was replaced since). */
  get user(): string | null {
    if (this.loggedIn !== null && this.service.epochOf(this.loggedIn) !== this.epoch) this.loggedIn = null;
    return this.loggedIn;
  }

  private become(user: string | null): void {
    this.loggedIn = user;
    this.epoch = user === null ? 0 : this.service.epochOf(user);
  }

  /** Whether this connection may run actions (always, while auth is off). */
  get authenticated(): boolean {
    return !this.service.enabled || this.user !== null;
  }

  private ensureEnabled(): void {
    if (!this.service.enabled) throw failure('disabled');
  }

  private ensureRoot(): void {
    this.ensureEnabled();
    if (this.user === null) throw failure('anonymous');
    if (this.user !== kRootUser) throw failure('permission');
  }

  private static userName(name: Uint8Array): string {
    if (!isLegalUserName(name)) throw failure('illegal-username');
    return Buffer.from(name).toString('latin1');
  }

  /** CLAIM: with the origin key, create root once and log in as root; returns root's token. */
  claimRoot(origin: Uint8Array): string {
    this.service.verifyOrigin(origin);
    const { token, digest } = generateToken();
    if (!this.service.users.insert(kRootUser, digest)) throw failure('already-claimed');
    this.become(kRootUser);
    return token;
  }

  /** ADDUSER (root only): a new user; returns its token. */
  claimUser(name: Uint8Array): string {
    this.ensureRoot();
    const id = AuthSession.userName(name);
    const { token, digest } = generateToken();
    if (!this.service.users.insert(id, digest)) throw failure('already-claimed');
    return token;
  }

  /** LOGIN: become `name` if `token` is its current token. */
  login(name: Uint8Array, token: Uint8Array): void {
    this.ensureEnabled();
    if (!this.service.users.verify(name, token)) throw failure('bad-credentials');
    this.become(Buffer.from(name).toString('latin1'));
  }

  logout(): void {
    this.ensureEnabled();
    if (this.user === null) throw failure('anonymous');
    this.become(null);
  }

  /** RESTORE <user> (root only): a new token for `name`; the old one stops working. */
  regenerate(name: Uint8Array): string {
    this.ensureRoot();
    return this.replaceToken(name);
  }

  /** RESTORE <origin key> <user>: the same, authorised by the origin key. */
  regenerateUsingOrigin(origin: Uint8Array, name: Uint8Array): string {
    this.service.verifyOrigin(origin);
    return this.replaceToken(name);
  }

  private replaceToken(name: Uint8Array): string {
    const id = AuthSession.userName(name);
    const { token, digest } = generateToken();
    if (!this.service.users.update(id, digest)) throw failure('bad-credentials');
    this.service.revoke(id);
    // The connection that replaced its own token holds the new one: it stays logged in.
    if (this.loggedIn === id) this.become(id);
    return token;
  }

  /** DELUSER (root only); root itself cannot be deleted. */
  deleteUser(name: Uint8Array): void {
    this.ensureRoot();
    const id = Buffer.from(name).toString('latin1');
    if (id === kRootUser) throw failure('deluser-fail');
    if (!isLegalUserName(name) || !this.service.users.delete(id)) throw failure('bad-credentials');
    this.service.revoke(id);
  }

  /** LISTUSER (root only). */
  listUsers(): string[] {
    this.ensureRoot();
    return this.service.users.names();
  }

  whoami(): string {
    this.ensureEnabled();
    if (this.user === null) throw failure('anonymous');
    return this.user;
  }
}
