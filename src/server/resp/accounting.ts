/**
 * Per-connection command accounting for INFO commandstats / errorstats: ties a connection's
 * reply writer to the server's CommandStats (src/server/stats.ts).
 *
 * Guarantees:
 * - Every error reply the connection writes is counted by prefix; one written while a command
 *   runs fails that command (`failed_calls`); one written for a request that never ran is a
 *   rejection (`rejected_calls`) of the command it named, when that command exists (Redis
 *   counts no command for an unknown name or subcommand).
 * - One tracker per writer, made at the connection's first request; nothing is allocated per
 *   command beyond the closure the driver passes.
 */

import type { ArgView } from '../../protocol/args.js';
import type { RespWriter } from '../../protocol/resp/writer.js';
import { CommandTracker, type ServerStats } from '../stats.js';
import { kCommandTable } from './commands/registry.js';

const kTrackers = new WeakMap<RespWriter, RequestAccounting>();

/** The command or subcommand a request names, or null when it names none that exists. */
function requestedName(q: ArgView): string | null {
  if (q.count === 0) return null;
  const top = kCommandTable.lookup(q);
  if (top === undefined) return null;
  if (top.subcommands === null || q.count < 2) return top.fullName;
  const sub = q.length(1) <= kCommandTable.nameMaxBytes ? top.subcommands.get(q.argString(1, 'latin1').toUpperCase()) : undefined;
  return sub?.fullName ?? null;
}

export class RequestAccounting {
  private readonly stats: ServerStats;
  private readonly tracker: CommandTracker;

  constructor(stats: ServerStats, output: RespWriter) {
    this.stats = stats;
    this.tracker = new CommandTracker(stats.commands);
    output.onError = (text) => this.tracker.errorWritten(text);
  }

  /** One request: after it, a request answered an error without running counts as rejected. */
  request(q: ArgView, body: () => void | Promise<void>): void | Promise<void> {
    this.tracker.beginRequest();
    const settle = (): void => {
      if (!this.tracker.refused) return;
      const name = requestedName(q);
      if (name !== null) this.stats.commands.rejected(name);
    };
    const pending = body();
    if (pending === undefined) return settle();
    return pending.then(settle);
  }

  /** One command run (also each command EXEC runs). */
  run(name: string, body: () => void | Promise<void>): void | Promise<void> {
    return this.tracker.run(name, body);
  }
}

/** The accounting of the connection that owns `output`. */
export function respAccounting(stats: ServerStats, output: RespWriter): RequestAccounting {
  let accounting = kTrackers.get(output);
  if (accounting === undefined) {
    accounting = new RequestAccounting(stats, output);
    kTrackers.set(output, accounting);
  }
  return accounting;
}
