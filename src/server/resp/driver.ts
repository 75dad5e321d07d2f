/**
 * The RESP2 side of a connection: parse commands (multibulk and inline), check arity and the
 * read-only state, run the command, write its reply.
 *
 * Guarantees: commands run in order, one reply each; a write command is refused with -MISCONF
 * before it runs while frostkv is read-only; a protocol error is answered with Redis's
 * `-ERR Protocol error: ...` text before the connection closes; GET and SET skip the command
 * lookup entirely (they are most of what redis-benchmark sends). While the data set loads,
 * every command is answered `-LOADING` as Redis does, except QUIT and INFO (which reports
 * `loading:1`, so clients such as ioredis wait for the load instead of failing).
 * With auth on, a client that has not logged in gets `-NOAUTH Authentication required.` for
 * every known command of the right arity except AUTH, HELLO and QUIT (Redis 7.0's CMD_NO_AUTH
 * commands frostkv has), checked after the unknown-command and arity errors as Redis does.
 */

import type { Database } from '../../database.js';
import type { ArgView } from '../../protocol/args.js';
import type { ProtocolError, ProtocolLimits } from '../../protocol/limits.js';
import { RespParser } from '../../protocol/resp/parser.js';
import { RespWriter } from '../../protocol/resp/writer.js';
import type { Logger } from '../../util/log.js';
import type { ProtocolDriver } from '../connection.js';
import type { ServerView } from '../stats.js';
import { kRespLoadingError, type DatabaseSource } from '../loading.js';
import { kVersion } from '../../version.js';
import { RespClient, RespContext, RespText, arityError, kCommands, kGetSpec, kSetSpec, type CommandSpec } from './commands.js';

/** The reply to a connection closed by the bound on all connections' request buffers. */
export const kRespBuffersFullText =
  'ERR request buffers full: all connections together hold more than limits.request_buffers_max_bytes of unfinished requests and this one holds the most';

/** Commands a client may run before it has authenticated (Redis 7.0.15: CMD_NO_AUTH). */
const kBeforeAuth = new Set(['AUTH', 'HELLO', 'QUIT'].map((name) => kCommands.get(name) as CommandSpec));

const kCommandNameMaxBytes = Math.max(...[...kCommands.keys()].map((name) => name.length));

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

  constructor(source: DatabaseSource, limits: ProtocolLimits, logger: Logger, tableEntity: string, view: ServerView) {
    this.source = source;
    this.logger = logger;
    this.tableEntity = tableEntity;
    this.view = view;
    this.parser = new RespParser(limits);
    this.client = new RespClient(view.stats.newClientId());
  }

  get closeRequested(): boolean {
    return this.client.quit;
  }

  execute(q: ArgView): void | Promise<void> {
    this.view.stats.commandsProcessed++;
    const db = this.source.loadedDb;
    if (db === null) return this.whileLoading(q);
    this.ctx ??= new RespContext(db, this.output, this.view, this.logger, this.client, this.tableEntity);
    return this.run(db, this.ctx, q);
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

  private run(db: Database, ctx: RespContext, q: ArgView): void | Promise<void> {
    let spec: CommandSpec | undefined;
    if (q.argIs(0, 'GET')) spec = kGetSpec;
    else if (q.argIs(0, 'SET')) spec = kSetSpec;
    else spec = q.length(0) <= kCommandNameMaxBytes ? kCommands.get(q.argString(0, 'latin1').toUpperCase()) : undefined;
    if (spec === undefined) return this.output.error(unknownCommand(q));
    const arity = spec.arity;
    if ((arity > 0 && q.count !== arity) || (arity < 0 && q.count < -arity)) {
      return this.output.error(arityError(q.argString(0, 'latin1')).text);
    }
    if (!ctx.client.authenticated && !kBeforeAuth.has(spec)) return this.output.error(RespText.authRequired);
    if (spec.write && db.engine.readOnly) return this.output.error(RespText.misconf);
    try {
      const pending = spec.run(ctx, q);
      if (pending === undefined) return undefined;
      return pending.catch((error: unknown) => ctx.fail(error, q.argString(0, 'latin1')));
    } catch (error) {
      ctx.fail(error, q.argString(0, 'latin1'));
      return undefined;
    }
  }

  protocolError(error: ProtocolError): void {
    // Redis echoes the offending byte raw; the message holds it as a latin1 character.
    this.output.raw(Buffer.from(`-ERR ${error.message.replace(/[\r\n]/g, ' ')}\r\n`, 'latin1'));
  }

  buffersFull(): void {
    this.output.error(kRespBuffersFullText);
  }

  closed(): void {
    // No per-connection engine state on the RESP side.
  }
}
