/**
 * RESP connection commands: PING ECHO QUIT SELECT AUTH HELLO RESET CLIENT (LIST INFO KILL
 * SETNAME GETNAME ID SETINFO NO-EVICT NO-TOUCH REPLY PAUSE UNPAUSE HELP), with Redis 7.0's
 * replies and texts.
 *
 * Guarantees:
 * - HELLO 2|3 switches the connection's protocol after its options (AUTH, SETNAME) succeeded;
 *   a failed HELLO changes nothing. RESET puts the connection back as it was when it connected
 *   (RESP2, database 0, no name, no transaction or watched keys, replies on, logged out when
 *   auth is on).
 * - CLIENT LIST / INFO / KILL see every RESP connection of the server (client.ts), whatever
 *   its state; a killed connection closes at once, the calling one after its reply.
 * - With auth on, AUTH and HELLO AUTH log in with the same users as Skyhash; any failure is
 *   WRONGPASS and leaves the client as it was.
 */

import type { ArgView } from '../../../protocol/args.js';
import { AuthFailure, type AuthSession } from '../../../auth/provider.js';
import { kRootUser } from '../../../auth/users.js';
import { kRedisCompatVersion } from '../info.js';
import type { RespClient } from '../client.js';
import { kRespDatabaseCount } from '../databases.js';
import { RespText, arityError, fail, intArg, kRedisDefaultUser, parseInt64, type RespCommand, type RespContext, type RespReply, writeHelp } from './context.js';
import type { CommandDefinition, CommandFlag } from './table.js';

const ping: RespCommand = (ctx, q) => {
  if (q.count > 2) throw arityError('ping');
  if (q.count === 2) ctx.w.bulk(q.buffer, q.offset(1), q.length(1));
  else ctx.w.simple('PONG');
};

const echo: RespCommand = (ctx, q) => {
  ctx.w.bulk(q.buffer, q.offset(1), q.length(1));
};

const quit: RespCommand = (ctx) => {
  ctx.client.quit = true;
  ctx.w.ok();
};

const select: RespCommand = (ctx, q) => {
  const index = intArg(q, 1);
  if (index < 0n || index >= BigInt(kRespDatabaseCount)) throw fail(RespText.dbIndex);
  const next = Number(index);
  // The table behind a database is created on first use; creating it can fail (read-only).
  ctx.shared.databases.table(next);
  ctx.client.db = next;
  ctx.w.ok();
};

/**
 * Without auth configured Redis 7's `default` user has no password: `AUTH <pw>` complains that
 * no password is set, `AUTH default <anything>` succeeds, any other user is WRONGPASS.
 */
function checkAuth(q: ArgView, from: number, count: number): void {
  if (count === 1) throw fail(RespText.noAuth);
  if (count !== 2) throw fail(RespText.syntax);
  if (!q.argIs(from, kRedisDefaultUser)) throw fail(RespText.wrongPass);
}

/**
 * With auth on: log in as `user` (or as root for `AUTH <token>` and for Redis's `default` user
 * when no user of that name exists). Any failure is WRONGPASS and leaves the client as it was.
 */
function login(ctx: RespContext, q: ArgView, userAt: number | null, tokenAt: number): void {
  const session = ctx.client.auth as AuthSession;
  let user: Buffer = userAt === null ? Buffer.from(kRootUser) : Buffer.from(q.arg(userAt));
  if (userAt !== null && q.argIs(userAt, kRedisDefaultUser) && !session.service.users.has(kRedisDefaultUser)) user = Buffer.from(kRootUser);
  try {
    session.login(user, q.arg(tokenAt));
  } catch (error) {
    if (error instanceof AuthFailure) throw fail(RespText.wrongPass);
    throw error;
  }
}

function authOn(ctx: RespContext): boolean {
  return ctx.client.auth?.service.enabled === true;
}

const auth: RespCommand = (ctx, q) => {
  if (!authOn(ctx)) {
    checkAuth(q, 1, q.count - 1);
    return ctx.w.ok();
  }
  if (q.count > 3) throw fail(RespText.syntax);
  login(ctx, q, q.count === 3 ? 1 : null, q.count - 1);
  ctx.w.ok();
};

/** HELLO [protover [AUTH user pass] [SETNAME name]]: Redis 7.0's order of checks. */
const hello: RespCommand = (ctx, q) => {
  let version: 2 | 3 = ctx.client.protocol;
  if (q.count >= 2) {
    const asked = parseInt64(q.argString(1, 'latin1'));
    if (asked === null) throw fail('ERR Protocol version is not an integer or out of range');
    if (asked !== 2n && asked !== 3n) throw fail(RespText.noProto);
    version = asked === 3n ? 3 : 2;
  }
  let authAt: number | null = null;
  let nameAt: number | null = null;
  for (let i = 2; i < q.count; i++) {
    const more = q.count - 1 - i;
    if (q.argIs(i, 'AUTH') && more >= 2) {
      authAt = i + 1;
      i += 2;
    } else if (q.argIs(i, 'SETNAME') && more >= 1) {
      nameAt = ++i;
    } else {
      throw fail(`ERR Syntax error in HELLO option '${q.argString(i)}'`);
    }
  }
  if (authAt !== null) {
    if (authOn(ctx)) login(ctx, q, authAt, authAt + 1);
    else checkAuth(q, authAt, 2);
  }
  if (!ctx.client.authenticated) throw fail(RespText.helloNoAuth);
  if (nameAt !== null) ctx.client.name = clientName(q.argString(nameAt));
  setProtocol(ctx, version);
  ctx.w.map(7);
  ctx.w.bulk('server');
  ctx.w.bulk('redis');
  ctx.w.bulk('version');
  ctx.w.bulk(kRedisCompatVersion);
  ctx.w.bulk('proto');
  ctx.w.integer(version);
  ctx.w.bulk('id');
  ctx.w.integer(ctx.client.id);
  ctx.w.bulk('mode');
  ctx.w.bulk('standalone');
  ctx.w.bulk('role');
  ctx.w.bulk('master');
  ctx.w.bulk('modules');
  ctx.w.array(0);
};

function setProtocol(ctx: RespContext, version: 2 | 3): void {
  ctx.client.protocol = version;
  ctx.w.protocol = version;
}

/** RESET: the connection as it was when it connected; answers `+RESET`. */
const reset: RespCommand = (ctx) => {
  const client = ctx.client;
  client.multi = null;
  ctx.shared.watch.unwatchAll(client);
  client.db = 0;
  client.name = null;
  client.replyMode = 'on';
  client.skipNext = false;
  // Replies are back on for RESET's own reply (Redis clears REPLY OFF before answering).
  client.replyTurnedOn = true;
  client.noEvict = false;
  client.noTouch = false;
  setProtocol(ctx, 2);
  if (authOn(ctx) && client.auth?.user != null) client.auth.logout();
  ctx.w.simple('RESET');
};

// ---------------------------------------------------------------- CLIENT

/** CLIENT LIST's `user=`: Redis's `default` while auth is off, the logged-in user, or empty. */
function clientUser(client: RespClient): string {
  if (client.auth?.service.enabled !== true) return kRedisDefaultUser;
  return client.auth.user ?? '';
}

/** A client name as Redis accepts it: printable ASCII without spaces; empty clears it. */
function clientName(text: string): string | null {
  if (!/^[\x21-\x7e]*$/.test(text)) throw fail(RespText.badClientName);
  return text.length === 0 ? null : text;
}

function subSyntax(q: ArgView): RespReply {
  return fail(`ERR unknown subcommand or wrong number of arguments for '${q.argString(1).slice(0, 128)}'. Try CLIENT HELP.`);
}

/** Redis's client types: frostkv's RESP clients are all `normal`. */
function clientTypeMatches(name: string): boolean {
  const type = name.toLowerCase();
  if (type === 'normal') return true;
  if (type === 'master' || type === 'replica' || type === 'slave' || type === 'pubsub') return false;
  throw fail(`ERR Unknown client type '${name}'`);
}

function writeLines(ctx: RespContext, clients: readonly RespClient[]): void {
  const now = Date.now();
  let text = '';
  for (const client of clients) text += `${client.line(clientUser(client), now)}\n`;
  ctx.w.verbatim(text);
}

/** CLIENT LIST [TYPE type] [ID id [id ...]]. */
const clientList: RespCommand = (ctx, q) => {
  let clients = ctx.shared.clients.all();
  if (q.count === 4 && q.argIs(2, 'TYPE')) {
    if (!clientTypeMatches(q.argString(3))) clients = [];
  } else if (q.count > 3 && q.argIs(2, 'ID')) {
    const ids = new Set<number>();
    for (let i = 3; i < q.count; i++) {
      const id = parseInt64(q.argString(i, 'latin1'));
      if (id === null || id < 1n) throw fail('ERR Invalid client ID');
      ids.add(Number(id));
    }
    clients = clients.filter((client) => ids.has(client.id));
  } else if (q.count !== 2) {
    throw fail(RespText.syntax);
  }
  writeLines(ctx, clients);
};

interface KillFilter {
  id: number | null;
  normal: boolean;
  addr: string | null;
  laddr: string | null;
  user: string | null;
  skipMe: boolean;
}

function killFilter(ctx: RespContext, q: ArgView): KillFilter {
  const filter: KillFilter = { id: null, normal: true, addr: null, laddr: null, user: null, skipMe: true };
  for (let i = 2; i < q.count; i += 2) {
    if (i + 1 >= q.count) throw fail(RespText.syntax);
    const value = q.argString(i + 1);
    if (q.argIs(i, 'ID')) {
      const id = parseInt64(q.argString(i + 1, 'latin1'));
      if (id === null || id < 1n) throw fail('ERR client-id should be greater than 0');
      filter.id = Number(id);
    } else if (q.argIs(i, 'TYPE')) filter.normal = clientTypeMatches(value);
    else if (q.argIs(i, 'ADDR')) filter.addr = value;
    else if (q.argIs(i, 'LADDR')) filter.laddr = value;
    else if (q.argIs(i, 'USER')) {
      if (!knownUser(ctx, value)) throw fail(`ERR No such user '${value}'`);
      filter.user = value;
    } else if (q.argIs(i, 'SKIPME')) {
      if (q.argIs(i + 1, 'YES')) filter.skipMe = true;
      else if (q.argIs(i + 1, 'NO')) filter.skipMe = false;
      else throw fail(RespText.syntax);
    } else throw fail(RespText.syntax);
  }
  return filter;
}

/** Whether `name` is a user CLIENT KILL USER can name: `default` without auth, else a frostkv user. */
function knownUser(ctx: RespContext, name: string): boolean {
  if (!authOn(ctx)) return name === kRedisDefaultUser;
  return (ctx.client.auth as AuthSession).service.users.has(name);
}

function matches(client: RespClient, filter: KillFilter): boolean {
  if (!filter.normal) return false;
  if (filter.id !== null && client.id !== filter.id) return false;
  if (filter.addr !== null && client.addr !== filter.addr) return false;
  if (filter.laddr !== null && client.laddr !== filter.laddr) return false;
  if (filter.user !== null && clientUser(client) !== filter.user) return false;
  return true;
}

/** Close `client`: the caller after its reply is written, any other at once. */
function kill(ctx: RespContext, client: RespClient): void {
  if (client === ctx.client) client.quit = true;
  else client.facts?.kill();
}

/** CLIENT KILL addr:port (old form, OK or an error) | CLIENT KILL <filter> <value> ... (a count). */
const clientKill: RespCommand = (ctx, q) => {
  const clients = ctx.shared.clients.all();
  if (q.count === 3) {
    const addr = q.argString(2);
    const target = clients.find((client) => client.addr === addr);
    if (target === undefined) throw fail(RespText.noSuchClient);
    kill(ctx, target);
    return ctx.w.ok();
  }
  const filter = killFilter(ctx, q);
  let killed = 0;
  for (const client of clients) {
    if (client === ctx.client && filter.skipMe) continue;
    if (!matches(client, filter)) continue;
    kill(ctx, client);
    killed++;
  }
  ctx.w.integer(killed);
};

const clientNoEvict: RespCommand = (ctx, q) => {
  if (q.argIs(2, 'ON')) ctx.client.noEvict = true;
  else if (q.argIs(2, 'OFF')) ctx.client.noEvict = false;
  else throw fail(RespText.syntax);
  ctx.w.ok();
};

const clientNoTouch: RespCommand = (ctx, q) => {
  if (q.argIs(2, 'ON')) ctx.client.noTouch = true;
  else if (q.argIs(2, 'OFF')) ctx.client.noTouch = false;
  else throw fail(RespText.syntax);
  ctx.w.ok();
};

/** CLIENT REPLY ON answers OK; OFF and SKIP answer nothing (the driver drops the replies). */
const clientReply: RespCommand = (ctx, q) => {
  if (q.argIs(2, 'ON')) {
    ctx.client.replyMode = 'on';
    ctx.client.skipNext = false;
    ctx.client.replyTurnedOn = true;
    return ctx.w.ok();
  }
  if (q.argIs(2, 'OFF')) ctx.client.replyMode = 'off';
  else if (q.argIs(2, 'SKIP')) ctx.client.replyMode = 'skip';
  else throw fail(RespText.syntax);
};

/** CLIENT PAUSE timeout-ms [WRITE|ALL]. */
const clientPause: RespCommand = (ctx, q) => {
  if (q.count > 4) throw subSyntax(q);
  let kind: 'write' | 'all' = 'all';
  if (q.count === 4) {
    if (q.argIs(3, 'WRITE')) kind = 'write';
    else if (!q.argIs(3, 'ALL')) throw fail('ERR CLIENT PAUSE mode must be WRITE or ALL');
  }
  const timeout = intArg(q, 2, 'ERR timeout is not an integer or out of range');
  if (timeout < 0n) throw fail('ERR timeout is negative');
  ctx.shared.clients.pause(kind, Number(timeout > BigInt(kPauseMaxMs) ? BigInt(kPauseMaxMs) : timeout), Date.now());
  ctx.w.ok();
};

/** setTimeout's longest delay; a longer pause lasts this long (about 24.8 days). */
const kPauseMaxMs = 2 ** 31 - 1;

const kClientHelp = [
  'GETNAME',
  '    Answer the name of this connection.',
  'ID',
  '    Answer the id of this connection.',
  'INFO',
  '    Describe this connection (one CLIENT LIST line).',
  'KILL <ip:port>',
  '    Close the connection at <ip:port>.',
  'KILL <option> <value> [<option> <value> [...]]',
  '    Close the connections matching every option: ID <id>, TYPE <type>, USER <name>,',
  '    ADDR <ip:port>, LADDR <ip:port>, SKIPME (YES|NO) (YES unless given).',
  'LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)] [ID <id> [<id> ...]]',
  '    Describe the connections.',
  'NO-EVICT (ON|OFF)',
  '    Mark this connection exempt from client eviction.',
  'NO-TOUCH (ON|OFF)',
  '    Mark this connection as not changing the last access time of keys.',
  'PAUSE <timeout-ms> [WRITE|ALL]',
  '    Hold the commands of every client (or their writes) for <timeout-ms>.',
  'REPLY (ON|OFF|SKIP)',
  '    Switch replies to this connection on or off, or skip the next one.',
  'SETNAME <name>',
  '    Name this connection.',
  'UNPAUSE',
  '    End a CLIENT PAUSE.',
];

const kConnFlags: readonly CommandFlag[] = ['noscript', 'loading', 'stale'];
const kAdminConn: readonly CommandFlag[] = ['admin', 'noscript', 'loading', 'stale'];
const kConnAcl = ['connection'] as const;

function sub(name: string, arity: number, flags: readonly CommandFlag[], run: RespCommand, tips?: readonly string[]): CommandDefinition {
  return { name, arity, flags, group: 'connection', acl: kConnAcl, run, ...(tips === undefined ? {} : { tips }) };
}

export const kConnectionCommands: readonly CommandDefinition[] = [
  { name: 'ping', arity: -1, flags: ['fast'], group: 'connection', acl: kConnAcl, tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], run: ping },
  { name: 'echo', arity: 2, flags: ['loading', 'stale', 'fast'], group: 'connection', acl: kConnAcl, run: echo },
  { name: 'quit', arity: -1, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], group: 'connection', acl: kConnAcl, run: quit },
  { name: 'select', arity: 2, flags: ['loading', 'stale', 'fast'], group: 'connection', acl: kConnAcl, run: select },
  { name: 'auth', arity: -2, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], group: 'connection', acl: kConnAcl, run: auth },
  { name: 'hello', arity: -1, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], group: 'connection', acl: kConnAcl, run: hello },
  { name: 'reset', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], group: 'connection', acl: kConnAcl, run: reset },
  {
    name: 'client',
    arity: -2,
    flags: [],
    group: 'connection',
    subcommands: [
      sub('getname', 2, kConnFlags, (ctx) => (ctx.client.name === null ? ctx.w.nullBulk() : ctx.w.bulk(ctx.client.name))),
      sub('setname', 3, kConnFlags, (ctx, q) => {
        ctx.client.name = clientName(q.argString(2));
        ctx.w.ok();
      }),
      sub('id', 2, kConnFlags, (ctx) => ctx.w.integer(ctx.client.id)),
      sub('info', 2, kConnFlags, (ctx) => writeLines(ctx, [ctx.client]), ['nondeterministic_output']),
      sub('list', -2, kAdminConn, clientList, ['nondeterministic_output']),
      sub('kill', -3, kAdminConn, clientKill),
      sub('setinfo', 4, kConnFlags, (ctx, q) => {
        if (!q.argIs(2, 'LIB-NAME') && !q.argIs(2, 'LIB-VER')) throw fail(`ERR Unrecognized option '${q.argString(2)}'`);
        ctx.w.ok();
      }),
      sub('no-evict', 3, kAdminConn, clientNoEvict),
      sub('no-touch', 3, ['noscript', 'loading', 'stale'], clientNoTouch),
      sub('reply', 3, kConnFlags, clientReply),
      sub('pause', -3, kAdminConn, clientPause),
      sub('unpause', 2, kAdminConn, (ctx) => {
        ctx.shared.clients.unpause();
        ctx.w.ok();
      }),
      sub('help', 2, ['loading', 'stale'], (ctx) => writeHelp(ctx, 'CLIENT', kClientHelp)),
    ],
  },
];
