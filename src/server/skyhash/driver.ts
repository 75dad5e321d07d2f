/**
 * The Skyhash side of a connection: parse requests, dispatch each query to its action, and
 * write `*n` followed by one reply element per query, errors included.
 *
 * Guarantees: queries of a pipeline run in order and each gets exactly one element; an action
 * that waits (MKSNAP) delays the queries after it, not other connections; a protocol error is
 * answered `*1` + its response code (4, or 7 for a non-digit size) before the connection closes.
 * While the data set loads, every query is answered with the `err-loading` element; the
 * session (and its current entity) starts with the first request after the load.
 * With auth on, an anonymous connection's pipeline is answered `*1` + code 10 and its queries
 * other than AUTH are code 10, as Skytable 0.7.7's execute_unauth (auth.ts has the rest).
 */

import type { ArgView } from '../../protocol/args.js';
import type { ProtocolError, ProtocolLimits } from '../../protocol/limits.js';
import { SkyhashParser, type SkyhashRequest } from '../../protocol/skyhash/parser.js';
import { SkyhashWriter } from '../../protocol/skyhash/writer.js';
import type { Logger } from '../../util/log.js';
import type { ProtocolDriver } from '../connection.js';
import { Session } from '../session.js';
import { Code, SkyContext, SkyError } from './context.js';
import { auth, authAnonymous } from './auth.js';
import { authServiceFor } from '../../auth/provider.js';
import { kvActions } from './kv.js';
import { listActions } from './lists.js';
import { adminActions } from './admin.js';
import { kSkyhashLoadingError, type DatabaseSource } from '../loading.js';

/**
 * The error element sent to a connection closed by the bound on all connections' request
 * buffers (Skytable had no such bound, so no code of its own).
 */
export const kSkyhashBuffersFullError = 'err-request-buffers-full';

type Action = (ctx: SkyContext, q: ArgView) => void | Promise<void>;

/** What an anonymous connection gets for any action but AUTH. */
const kBadCredentials: Action = (ctx) => ctx.w.code(Code.badCredentials);

const kActions = new Map<string, Action>([...kvActions, ...listActions, ...adminActions, ['AUTH', auth]]);
/** Longest action name: anything longer is unknown without building a string. */
const kActionNameMaxBytes = Math.max(...[...kActions.keys()].map((name) => name.length));

export class SkyhashDriver implements ProtocolDriver<SkyhashRequest> {
  readonly parser: SkyhashParser;
  readonly output = new SkyhashWriter();
  private readonly source: DatabaseSource;
  private readonly logger: Logger;
  /** Built at the first request after the load (a session needs the engine). */
  private state: { session: Session; ctx: SkyContext } | null = null;
  readonly closeRequested = false;

  constructor(source: DatabaseSource, limits: ProtocolLimits, logger: Logger) {
    this.source = source;
    this.logger = logger;
    this.parser = new SkyhashParser(limits);
  }

  /** This connection's session; null until its first request after the load. */
  get session(): Session | null {
    return this.state?.session ?? null;
  }

  execute(request: SkyhashRequest): void | Promise<void> {
    const db = this.source.loadedDb;
    if (db === null) {
      this.output.response(request.count);
      for (let i = 0; i < request.count; i++) this.output.error(kSkyhashLoadingError);
      return undefined;
    }
    if (this.state === null) {
      const session = new Session(db.engine, authServiceFor(db));
      this.state = { session, ctx: new SkyContext(db, session, this.output, this.logger) };
    }
    if (request.count > 1 && !this.state.session.authenticated) {
      // Skytable answers an anonymous pipeline as one simple query: bad credentials.
      this.output.response(1);
      this.output.code(Code.badCredentials);
      return undefined;
    }
    this.output.response(request.count);
    for (let i = 0; i < request.count; i++) {
      const pending = this.runQuery(this.state.ctx, request.query(i));
      if (pending !== undefined) return this.finishAfter(this.state.ctx, pending, request, i + 1);
    }
    return undefined;
  }

  private async finishAfter(ctx: SkyContext, pending: Promise<void>, request: SkyhashRequest, from: number): Promise<void> {
    await pending;
    for (let i = from; i < request.count; i++) {
      const next = this.runQuery(ctx, request.query(i));
      if (next !== undefined) await next;
    }
  }

  /** The action for `q`; anonymous connections get only AUTH's login subset (anything else: code 10). */
  private actionFor(ctx: SkyContext, q: ArgView): Action | undefined {
    if (!ctx.session.authenticated) return q.argIs(0, 'AUTH') ? authAnonymous : kBadCredentials;
    return q.length(0) <= kActionNameMaxBytes ? kActions.get(q.argString(0, 'latin1').toUpperCase()) : undefined;
  }

  private runQuery(ctx: SkyContext, q: ArgView): Promise<void> | undefined {
    const action = this.actionFor(ctx, q);
    if (action === undefined) {
      this.output.error(SkyError.unknownAction);
      return undefined;
    }
    try {
      const pending = action(ctx, q);
      if (pending === undefined) return undefined;
      return pending.catch((error: unknown) => ctx.fail(error));
    } catch (error) {
      ctx.fail(error);
      return undefined;
    }
  }

  protocolError(error: ProtocolError): void {
    this.output.response(1);
    this.output.code(error.responseCode);
  }

  buffersFull(): void {
    this.output.response(1);
    this.output.error(kSkyhashBuffersFullError);
  }

  closed(): void {
    this.state?.session.close();
  }
}
