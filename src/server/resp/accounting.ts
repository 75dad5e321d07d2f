/**
 * Per-connection command accounting for INFO commandstats / errorstats: ties a connection's
 * reply writer to the server's CommandStats (src/server/stats.ts).
 *
 * Guarantees:
 * - Every error reply the connection writes is counted by prefix; one written while a command
 *   runs fails that command (`failed_calls`); one written for a request that never ran is a
 *   rejection (`rejected_calls`) of the command it named, when that command exists (Redis
 *   counts no command for an unknown name or subcommand).
 * - One accounting per connection, made with its driver; the request path allocates nothing
 *   for it (the driver brackets requests and runs with the begin/end calls below instead of
 *   passing closures).
 */

import type { ArgView } from '../../protocol/args.js';
import type { RespWriter } from '../../protocol/resp/writer.js';
import { CommandTracker, type ServerStats } from '../stats.js';
import { kCommandTable } from './commands/registry.js';

/** The command or subcommand a request names, or null when it names none that exists. */
function requestedName(q: ArgView): string | null {
  if (q.count === 0) return null;
  const top = kCommandTable.lookup(q);
  if (top === undefined) return null;
  if (top.subcommands === null || q.count < 2) return top.fullName;
  return kCommandTable.lookupSubcommand(top, q)?.fullName ?? null;
}

export class RequestAccounting {
  private readonly stats: ServerStats;
  readonly tracker: CommandTracker;

  constructor(stats: ServerStats, output: RespWriter) {
    this.stats = stats;
    this.tracker = new CommandTracker(stats.commands);
    output.onError = (text) => this.tracker.errorWritten(text);
  }

  /** A request begins (before any check). */
  beginRequest(): void {
    this.tracker.beginRequest();
  }

  /** The request `q` is answered: if it was refused without running, count the rejection. */
  endRequest(q: ArgView): void {
    if (!this.tracker.refused) return;
    const name = requestedName(q);
    if (name !== null) this.stats.commands.rejected(name);
  }
}
