/**
 * The RESP2 side of a connection: parse commands (multibulk and inline), check arity and the
 * read-only state, run the command, write its reply.
 *
 * Guarantees: commands run in order, one reply each; a write command is refused with -MISCONF
 * before it runs while frostkv is read-only; a protocol error is answered with Redis's
 * `-ERR Protocol error: ...` text before the connection closes; GET and SET skip the command
 * lookup entirely (they are most of what redis-benchmark sends).
 */

import type { Database } from '../../database.js';
import type { ArgView } from '../../protocol/args.js';
import type { ProtocolError, ProtocolLimits } from '../../protocol/limits.js';
import { RespParser } from '../../protocol/resp/parser.js';
import { RespWriter } from '../../protocol/resp/writer.js';
import type { Logger } from '../../util/log.js';
import type { ProtocolDriver } from '../connection.js';
import type { ServerView } from '../stats.js';
import { RespClient, RespContext, RespText, arityError, kCommands, kGetSpec, kSetSpec, type CommandSpec } from './commands.js';

const kCommandNameMaxBytes = Math.max(...[...kCommands.keys()].map((name) => name.length));

/** Redis 7's text: arguments are listed while the list is under 128 characters. */
function unknownCommand(q: ArgView): string {
  const name = q.argString(0);
  let args = '';
  for (let i = 1; i < q.count && args.length < 128; i++) args += `'${q.argString(i).slice(0, 128 - args.length)}' `;
  return `ERR unknown command '${name.slice(0, 128)}', with args beginning with: ${args}`;
}

export class RespDriver implements ProtocolDriver<ArgView> {
  readonly parser: RespParser;
  readonly output = new RespWriter();
  private readonly ctx: RespContext;
  private readonly db: Database;
  private readonly view: ServerView;

  constructor(db: Database, limits: ProtocolLimits, logger: Logger, tableEntity: string, view: ServerView) {
    this.db = db;
    this.view = view;
    this.parser = new RespParser(limits);
    this.ctx = new RespContext(db, this.output, view, logger, new RespClient(view.stats.newClientId()), tableEntity);
  }

  get closeRequested(): boolean {
    return this.ctx.client.quit;
  }

  execute(q: ArgView): void | Promise<void> {
    this.view.stats.commandsProcessed++;
    let spec: CommandSpec | undefined;
    if (q.argIs(0, 'GET')) spec = kGetSpec;
    else if (q.argIs(0, 'SET')) spec = kSetSpec;
    else spec = q.length(0) <= kCommandNameMaxBytes ? kCommands.get(q.argString(0, 'latin1').toUpperCase()) : undefined;
    if (spec === undefined) return this.output.error(unknownCommand(q));
    const arity = spec.arity;
    if ((arity > 0 && q.count !== arity) || (arity < 0 && q.count < -arity)) {
      return this.output.error(arityError(q.argString(0, 'latin1')).text);
    }
    if (spec.write && this.db.engine.readOnly) return this.output.error(RespText.misconf);
    try {
      const pending = spec.run(this.ctx, q);
      if (pending === undefined) return undefined;
      return pending.catch((error: unknown) => this.ctx.fail(error, q.argString(0, 'latin1')));
    } catch (error) {
      this.ctx.fail(error, q.argString(0, 'latin1'));
      return undefined;
    }
  }

  protocolError(error: ProtocolError): void {
    // Redis echoes the offending byte raw; the message holds it as a latin1 character.
    this.output.raw(Buffer.from(`-ERR ${error.message.replace(/[\r\n]/g, ' ')}\r\n`, 'latin1'));
  }

  closed(): void {
    // No per-connection engine state on the RESP side.
  }
}
