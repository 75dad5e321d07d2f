/**
 * The RESP side of a connection: parse commands (multibulk and inline), make the checks every
 * command goes through from the command table (commands/table.ts), queue commands inside
 * MULTI, run the command, write its reply in the connection's protocol (RESP2 or RESP3).
 *
 * Guarantees:
 * - Commands run in order, one reply each (none while CLIENT REPLY is OFF or SKIPs).
 * - The checks, in Redis 7.0's order: unknown command or subcommand, arity, `-NOAUTH` (every
 *   command but AUTH, HELLO, QUIT and RESET before login), `no_multi` inside MULTI, `-MISCONF`
 *   for a write while frostkv is read-only after a failed save (for EXEC: when it queued a
 *   write, answered `-EXECABORT ... because of: MISCONF ...`). A command refused by a check
 *   inside MULTI makes the transaction abort at EXEC.
 * - CLIENT PAUSE holds every command (ALL) or the writes (WRITE) of every RESP connection
 *   until it ends; held commands then run in order.
 * - Inside MULTI every command but EXEC, DISCARD, MULTI, WATCH, QUIT and RESET is copied and
 *   answered `+QUEUED`; EXEC runs the queue in one synchronous step (transactions.ts).
 * - A protocol error is answered with Redis's `-ERR Protocol error: ...` text before the
 *   connection closes. While the data set loads, every command is answered `-LOADING`
 *   as Redis does, except QUIT and INFO (which reports `loading:1`, so clients such as ioredis
 *   wait for the load instead of failing).
 * - The connection is in the server's RESP client registry (CLIENT LIST) from accept to close;
 *   closing forgets its transaction and watched keys.
 */

import type { Database } from '../../database.js';
import type { ArgView } from '../../protocol/args.js';
import type { ProtocolError, ProtocolLimits } from '../../protocol/limits.js';
import { RespParser } from '../../protocol/resp/parser.js';
import { RespWriter } from '../../protocol/resp/writer.js';
import { InvariantError } from '../../util/assert.js';
import type { Logger } from '../../util/log.js';
import type { ProtocolDriver } from '../connection.js';
import type { ServerView } from '../stats.js';
import { kRespLoadingError, type DatabaseSource } from '../loading.js';
import { kVersion } from '../../version.js';
import type { ConnectionFacts } from '../connection.js';
import { kOomText, overMaxmemory } from './oom.js';
import { RequestAccounting } from './accounting.js';
import { RespClient, clientRegistry, type RespClientRegistry } from './client.js';
import { RespContext, RespText, arityError } from './commands/context.js';
import { kCommandTable } from './commands/registry.js';
import type { CommandEntry } from './commands/table.js';
import { copyCommand } from './commands/transactions.js';

/** The reply to a connection closed by the bound on all connections' request buffers. */
export const kRespBuffersFullText =
  'ERR request buffers full: all connections together hold more than limits.request_buffers_max_bytes of unfinished requests and this one holds the most';

/** performance.timeOrigin, read once: the getter costs as much as a clock read. */
const kTimeOriginMs = performance.timeOrigin;
/** Commands that run at once inside MULTI instead of being queued (Redis 7.0's list). */
const kRunInMulti = new Set(['EXEC', 'DISCARD', 'MULTI', 'WATCH', 'QUIT', 'RESET'].map((name) => kCommandTable.get(name) as CommandEntry));
const kExecEntry = kCommandTable.get('EXEC') as CommandEntry;

/** Redis 7's text: arguments are listed while the list is under 128 characters. */
function unknownCommand(q: ArgView): string {
  const name = q.argString(0);
  let args = '';
  for (let i = 1; i < q.count && args.length < 128; i++) args += `'${q.argString(i).slice(0, 128 - args.length)}' `;
  return `ERR unknown command '${name.slice(0, 128)}', with args beginning with: ${args}`;
}

/** INFO during the load: what a client needs to see that the server is loading (Redis's fields). */
function loadingInfo(): string {
  return ['# Server', 'redis_version:7.0.0', `frostkv_version:${kVersion}`, '', '# Persistence', 'loading:1', 'async_loading:0', 'loading_eta_seconds:1', ''].join('\r\n');
}

/** The command (or subcommand) a request names, or the error text that refuses it. */
function resolve(q: ArgView): CommandEntry | string {
  const entry = kCommandTable.lookup(q);
  if (entry === undefined) return unknownCommand(q);
  if (!arityOk(entry, q.count)) return arityError(entry.fullName).text;
  if (entry.subcommands === null || q.count < 2) return entry;
  const sub = kCommandTable.lookupSubcommand(entry, q);
  if (sub === undefined) {
    return `ERR unknown subcommand '${q.argString(1).slice(0, 128)}'. Try ${entry.fullName.toUpperCase()} HELP.`;
  }
  if (!arityOk(sub, q.count)) return arityError(sub.fullName).text;
  return sub;
}

function arityOk(entry: CommandEntry, count: number): boolean {
  return entry.arity > 0 ? count === entry.arity : count >= -entry.arity;
}

export class RespDriver implements ProtocolDriver<ArgView> {
  readonly parser: RespParser;
  readonly output = new RespWriter();
  /** Built at the first command after the load (the context needs the database). */
  private ctx: RespContext | null = null;
  private readonly source: DatabaseSource;
  private readonly logger: Logger;
  private readonly tableEntity: string;
  private readonly view: ServerView;
  private readonly client: RespClient;
  private readonly clients: RespClientRegistry;
  /** The connection closed: a command held by CLIENT PAUSE is dropped. */
  private gone = false;
  /** INFO commandstats / errorstats: calls, time, failed and rejected requests (accounting.ts). */
  private readonly accounting: RequestAccounting;

  constructor(source: DatabaseSource, limits: ProtocolLimits, logger: Logger, tableEntity: string, view: ServerView) {
    this.source = source;
    this.logger = logger;
    this.tableEntity = tableEntity;
    this.view = view;
    this.parser = new RespParser(limits);
    this.client = new RespClient(view.stats.newClientId());
    this.clients = clientRegistry(view.stats);
    this.clients.add(this.client);
    this.accounting = new RequestAccounting(view.stats, this.output);
  }

  get closeRequested(): boolean {
    return this.client.quit;
  }

  /** The connection's socket, for CLIENT LIST and CLIENT KILL. */
  attach(facts: ConnectionFacts): void {
    this.client.facts = facts;
  }

  execute(q: ArgView): void | Promise<void> {
    this.accounting.beginRequest();
    const pending = this.executeRequest(q);
    if (pending === undefined) return this.accounting.endRequest(q);
    return pending.then(() => this.accounting.endRequest(q));
  }

  private executeRequest(q: ArgView): void | Promise<void> {
    this.view.stats.commandsProcessed++;
    const db = this.source.loadedDb;
    if (db === null) return this.whileLoading(q);
    if (this.ctx === null) {
      this.ctx = new RespContext(db, this.output, this.view, this.logger, this.client, this.tableEntity, kCommandTable, this.clients);
      const ctx = this.ctx;
      ctx.runQueued = (queued) => this.runQueued(ctx, queued);
    }
    return this.withReplyMode(db, this.ctx, q);
  }

  private whileLoading(q: ArgView): void {
    if (q.argIs(0, 'QUIT')) {
      this.client.quit = true;
      this.output.simple('OK');
    } else if (q.argIs(0, 'INFO')) {
      this.output.bulk(loadingInfo());
    } else {
      this.output.error(kRespLoadingError);
    }
  }

  /** Run a command, dropping its reply while CLIENT REPLY is OFF or SKIPs this one. */
  private withReplyMode(db: Database, ctx: RespContext, q: ArgView): void | Promise<void> {
    const client = this.client;
    if (client.replyMode === 'on' && !client.skipNext) {
      // The usual case, without the closure the silent modes need: only CLIENT REPLY SKIP
      // (run by this very command) has anything to settle afterwards.
      const pending = this.process(db, ctx, q);
      if (pending === undefined) return this.armSkip();
      return pending.then(() => this.armSkip());
    }
    const silent = client.replyMode === 'off' || client.skipNext;
    client.skipNext = false;
    client.replyTurnedOn = false;
    const mark = this.output.mark();
    const pending = this.process(db, ctx, q);
    const settle = (from: number): void => {
      if (silent && !client.replyTurnedOn) this.output.rewind(from);
      this.armSkip();
    };
    if (pending === undefined) return settle(mark);
    if (silent) this.output.rewind(mark);
    // The connection sends what is pending before it waits: the reply starts at 0 then.
    return pending.then(() => settle(0));
  }

  /** After CLIENT REPLY SKIP: replies are on again, but the next command's is dropped. */
  private armSkip(): void {
    const client = this.client;
    if (client.replyMode !== 'skip') return;
    client.replyMode = 'on';
    client.skipNext = true;
  }

  private process(db: Database, ctx: RespContext, q: ArgView): void | Promise<void> {
    const client = this.client;
    const resolved = resolve(q);
    if (typeof resolved === 'string') return this.reject(resolved);
    const entry = resolved;
    if (!client.authenticated && !entry.noAuth) return this.reject(RespText.authRequired);
    const multi = client.multi;
    if (multi !== null && entry.noMulti) return this.reject(RespText.notInMulti);
    const writes = entry.write || (entry === kExecEntry && multi !== null && multi.writes);
    if (writes && db.engine.readOnly) {
      if (entry === kExecEntry) {
        client.multi = null;
        ctx.shared.watch.unwatchAll(client);
        return this.output.error(`EXECABORT Transaction discarded because of: ${RespText.misconf}`);
      }
      return this.reject(RespText.misconf);
    }
    const denyOom = entry.denyOom || (entry === kExecEntry && multi !== null && multi.denyOom);
    if (denyOom && overMaxmemory(db, this.view.stats)) {
      if (entry === kExecEntry) {
        client.multi = null;
        ctx.shared.watch.unwatchAll(client);
        return this.output.error(`EXECABORT Transaction discarded because of: ${kOomText}`);
      }
      return this.reject(kOomText);
    }
    const paused = this.clients.paused;
    if (paused === 'all' || (paused === 'write' && writes)) {
      // A connection closed while held runs nothing (Redis frees a postponed client's command).
      return this.clients.whenUnpaused().then(() => (this.gone ? undefined : this.process(db, ctx, q)));
    }
    client.lastCommand = entry.fullName;
    if (multi !== null && !kRunInMulti.has(entry)) {
      client.lastCommandAtMs = Date.now();
      const queued = copyCommand(q);
      multi.queued.push(queued);
      multi.bytes += queued.buffer.length;
      if (entry.write) multi.writes = true;
      if (entry.denyOom) multi.denyOom = true;
      return this.output.simple('QUEUED');
    }
    return this.run(ctx, entry, q);
  }

  /** Answer a refused command; inside MULTI the transaction then aborts at EXEC (Redis's flagTransaction). */
  private reject(text: string): void {
    const multi = this.client.multi;
    if (multi !== null) multi.aborted = true;
    this.output.error(text);
  }

  /** Run a command (also each command EXEC runs), counted in INFO commandstats. */
  private run(ctx: RespContext, entry: CommandEntry, q: ArgView): void | Promise<void> {
    const name = entry.fullName;
    const tracker = this.accounting.tracker;
    tracker.begin(name);
    // The idle time of CLIENT LIST, from the clock reading the run just took.
    this.client.lastCommandAtMs = kTimeOriginMs + tracker.startedMs;
    let pending: void | Promise<void>;
    try {
      pending = (entry.run as NonNullable<CommandEntry['run']>)(ctx, q);
    } catch (error) {
      // ctx.fail rethrows what is not a reply (an InvariantError stops the process): the run still ends.
      try {
        ctx.fail(error, name);
      } finally {
        tracker.end(name);
      }
      return undefined;
    }
    if (pending === undefined) return tracker.end(name);
    return pending.then(
      () => tracker.end(name),
      (error: unknown) => {
        try {
          ctx.fail(error, name);
        } finally {
          tracker.end(name);
        }
      },
    );
  }

  /** A queued command at EXEC: checked when it was queued; runs now, in this turn. */
  private runQueued(ctx: RespContext, q: ArgView): void {
    const resolved = resolve(q);
    if (typeof resolved === 'string') throw new InvariantError(`a queued RESP command no longer resolves: ${resolved}`);
    this.client.lastCommand = resolved.fullName;
    const pending = this.run(ctx, resolved, q);
    if (pending !== undefined) throw new InvariantError(`RESP ${resolved.fullName} waited inside EXEC: a command that waits must be no_multi or honour ctx.atomic`);
  }

  protocolError(error: ProtocolError): void {
    // Redis echoes the offending byte raw; the message holds it as a latin1 character.
    this.output.raw(Buffer.from(`-ERR ${error.message.replace(/[\r\n]/g, ' ')}\r\n`, 'latin1'));
  }

  buffersFull(): void {
    this.output.error(kRespBuffersFullText);
  }

  closed(): void {
    this.gone = true;
    this.clients.remove(this.client);
    this.client.multi = null;
    if (this.ctx !== null) this.ctx.shared.watch.unwatchAll(this.client);
  }
}
