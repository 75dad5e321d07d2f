/**
 * RESP SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT], with Redis 7.0's rules mapped onto
 * frostkv's shutdown (the one SIGTERM runs: stop accepting, close every connection, finish
 * in-flight snapshots, final live save, exit 0).
 *
 * Guarantees:
 * - The final save is Redis's: by default only when saves are on (frostkv: unless --nosave);
 *   SAVE saves even then, NOSAVE never. The save runs before anything stops: if it fails,
 *   SHUTDOWN answers "-ERR Errors trying to SHUTDOWN. Check logs." and the server keeps serving
 *   (the failure is logged, and failsafe refuses writes as after any failed save), unless FORCE
 *   is given, which stops without it and logs that the writes since the last save are lost.
 *   Writes that land between that save and the stop are saved by the shutdown's own final save.
 * - On success there is no reply: the connection closes as the server stops (redis-cli expects
 *   exactly that). `frostkv serve` then exits as on SIGTERM; a server embedded in another
 *   program stops listening and closes its database, and the host process keeps running.
 * - NOW is accepted and changes nothing (no replicas to wait for); ABORT answers "No shutdown
 *   in progress." (frostkv never waits before stopping, so there is nothing to abort). Other
 *   arguments, SAVE with NOSAVE, and ABORT with anything answer Redis's syntax error.
 * - Admin and refused inside MULTI, as Redis's (`no_multi`): EXEC then answers EXECABORT.
 */

import type { ArgView } from '../../../protocol/args.js';
import type { ShutdownRequest } from '../../stats.js';
import { RespText, fail, type RespCommand } from './context.js';
import type { CommandDefinition } from './table.js';

const kShutdownFailed = 'ERR Errors trying to SHUTDOWN. Check logs.';

interface ShutdownArgs {
  save: 'default' | 'save' | 'nosave';
  force: boolean;
  abort: boolean;
}

function shutdownArgs(q: ArgView): ShutdownArgs {
  const args: ShutdownArgs = { save: 'default', force: false, abort: false };
  let saveFlags = 0;
  let otherFlags = 0;
  for (let i = 1; i < q.count; i++) {
    if (q.argIs(i, 'NOSAVE')) {
      args.save = 'nosave';
      saveFlags |= 1;
    } else if (q.argIs(i, 'SAVE')) {
      args.save = 'save';
      saveFlags |= 2;
    } else if (q.argIs(i, 'NOW')) {
      otherFlags++;
    } else if (q.argIs(i, 'FORCE')) {
      args.force = true;
      otherFlags++;
    } else if (q.argIs(i, 'ABORT')) {
      args.abort = true;
    } else {
      throw fail(RespText.syntax);
    }
  }
  if (saveFlags === 3 || (args.abort && (saveFlags !== 0 || otherFlags !== 0))) throw fail(RespText.syntax);
  return args;
}

const shutdown: RespCommand = (ctx, q) => {
  const args = shutdownArgs(q);
  if (args.abort) throw fail('ERR No shutdown in progress.');
  const persistence = ctx.db.persistence;
  const wantsSave = args.save === 'save' || (args.save === 'default' && persistence !== null && persistence.savesOnShutdown);
  const who = `SHUTDOWN from client ${ctx.client.id}`;
  const stop = (finalSave: ShutdownRequest['finalSave']): void => ctx.view.requestShutdown({ finalSave, reason: who });
  if (!wantsSave) {
    stop('skip');
    return undefined;
  }
  if (persistence === null) {
    ctx.logger.warn(`${who}: cannot save: this frostkv has no data directory`);
    if (!args.force) throw fail(kShutdownFailed);
    stop('skip');
    return undefined;
  }
  return persistence.liveSave('shutdown').then((result) => {
    if (result.ok) {
      stop('always');
      return;
    }
    const why = result.report?.failure?.message ?? 'the save failed';
    if (!args.force) {
      ctx.logger.warn(`${who}: the save before stopping failed, so frostkv keeps serving: ${why}`);
      ctx.w.error(kShutdownFailed);
      return;
    }
    ctx.logger.warn(`${who} FORCE: the save before stopping failed (${why}); stopping anyway: writes since the last successful save are lost`);
    stop('skip');
  });
};

export const kShutdownCommands: readonly CommandDefinition[] = [
  {
    name: 'shutdown',
    arity: -1,
    flags: ['admin', 'noscript', 'loading', 'stale', 'no_multi', 'allow_busy'],
    group: 'server',
    run: shutdown,
  },
];
