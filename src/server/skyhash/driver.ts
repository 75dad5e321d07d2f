/**
 * The Skyhash side of a connection: parse requests, dispatch each query to its action, and
 * write `*n` followed by one reply element per query, errors included.
 *
 * Guarantees: queries of a pipeline run in order and each gets exactly one element; an action
 * that waits (MKSNAP) delays the queries after it, not other connections; a protocol error is
 * answered `*1` + its response code (4, or 7 for a non-digit size) before the connection closes.
 * While the data set loads, every query is answered with the `err-loading` element; the
 * session (and its current entity) starts with the first request after the load.
 * With auth on, an anonymous connection's pipeline is answered `*1` + code 10, as Skytable
 * 0.7.7's execute_unauth. Each query goes through dispatch.ts: the action table and the checks
 * made from it (auth, arity, table scope, read-only state) before its handler.
 */

import type { ProtocolError, ProtocolLimits } from '../../protocol/limits.js';
import { SkyhashParser, type SkyhashRequest } from '../../protocol/skyhash/parser.js';
import { SkyhashWriter } from '../../protocol/skyhash/writer.js';
import type { Logger } from '../../util/log.js';
import type { ProtocolDriver } from '../connection.js';
import { Session } from '../session.js';
import { Code, SkyContext } from './context.js';
import { authServiceFor } from '../../auth/provider.js';
import { dispatch } from './dispatch.js';
import { kSkyhashLoadingError, type DatabaseSource } from '../loading.js';

/**
 * The error element sent to a connection closed by the bound on all connections' request
 * buffers (Skytable had no such bound, so no code of its own).
 */
export const kSkyhashBuffersFullError = 'err-request-buffers-full';

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
      const pending = dispatch(this.state.ctx, request.query(i));
      if (pending !== undefined) return this.finishAfter(this.state.ctx, pending, request, i + 1);
    }
    return undefined;
  }

  private async finishAfter(ctx: SkyContext, pending: Promise<void>, request: SkyhashRequest, from: number): Promise<void> {
    await pending;
    for (let i = from; i < request.count; i++) {
      const next = dispatch(ctx, request.query(i));
      if (next !== undefined) await next;
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
