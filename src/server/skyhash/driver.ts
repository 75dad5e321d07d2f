/**
 * The Skyhash side of a connection: parse requests, dispatch each query to its action, and
 * write `*n` followed by one reply element per query, errors included.
 *
 * Guarantees: queries of a pipeline run in order and each gets exactly one element; an action
 * that waits (MKSNAP) delays the queries after it, not other connections; a protocol error is
 * answered `*1` + its response code (4, or 7 for a non-digit size) before the connection closes.
 */

import type { Database } from '../../database.js';
import type { ArgView } from '../../protocol/args.js';
import type { ProtocolError, ProtocolLimits } from '../../protocol/limits.js';
import { SkyhashParser, type SkyhashRequest } from '../../protocol/skyhash/parser.js';
import { SkyhashWriter } from '../../protocol/skyhash/writer.js';
import type { Logger } from '../../util/log.js';
import type { ProtocolDriver } from '../connection.js';
import { Session } from '../session.js';
import { SkyContext, SkyError } from './context.js';
import { kvActions } from './kv.js';
import { listActions } from './lists.js';
import { adminActions } from './admin.js';

type Action = (ctx: SkyContext, q: ArgView) => void | Promise<void>;

const kActions = new Map<string, Action>([...kvActions, ...listActions, ...adminActions]);
/** Longest action name: anything longer is unknown without building a string. */
const kActionNameMaxBytes = Math.max(...[...kActions.keys()].map((name) => name.length));

export class SkyhashDriver implements ProtocolDriver<SkyhashRequest> {
  readonly parser: SkyhashParser;
  readonly output = new SkyhashWriter();
  readonly session: Session;
  private readonly ctx: SkyContext;
  readonly closeRequested = false;

  constructor(db: Database, limits: ProtocolLimits, logger: Logger) {
    this.parser = new SkyhashParser(limits);
    this.session = new Session(db.engine);
    this.ctx = new SkyContext(db, this.session, this.output, logger);
  }

  execute(request: SkyhashRequest): void | Promise<void> {
    this.output.response(request.count);
    for (let i = 0; i < request.count; i++) {
      const pending = this.runQuery(request.query(i));
      if (pending !== undefined) return this.finishAfter(pending, request, i + 1);
    }
    return undefined;
  }

  private async finishAfter(pending: Promise<void>, request: SkyhashRequest, from: number): Promise<void> {
    await pending;
    for (let i = from; i < request.count; i++) {
      const next = this.runQuery(request.query(i));
      if (next !== undefined) await next;
    }
  }

  private runQuery(q: ArgView): Promise<void> | undefined {
    const action = q.length(0) <= kActionNameMaxBytes ? kActions.get(q.argString(0, 'latin1').toUpperCase()) : undefined;
    if (action === undefined) {
      this.output.error(SkyError.unknownAction);
      return undefined;
    }
    try {
      const pending = action(this.ctx, q);
      if (pending === undefined) return undefined;
      return pending.catch((error: unknown) => this.ctx.fail(error));
    } catch (error) {
      this.ctx.fail(error);
      return undefined;
    }
  }

  protocolError(error: ProtocolError): void {
    this.output.response(1);
    this.output.code(error.responseCode);
  }

  closed(): void {
    this.session.close();
  }
}
