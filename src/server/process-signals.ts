/**
 * The server process's signals and exit codes.
 *
 * Guarantees:
 * - SIGHUP (the terminal or ssh session closed) and SIGPIPE never stop the process, as in
 *   Redis: SIGHUP is logged once, at info level; SIGPIPE is ignored silently (a peer that went
 *   away is an error on that one socket, and a closed log output is handled by the logger).
 * - The first SIGINT or SIGTERM calls `stop`; each further one is counted in the log, and the
 *   `kGiveUpAfterSignals`th further one calls `giveUp`, once. Later ones are ignored.
 * - The handlers stay installed until the process exits (a late signal must never fall back
 *   to the default action, which ends the process); the returned function removes them.
 */

import type { Logger } from '../util/log.js';

/** Signals after the first SIGINT/SIGTERM that give up on the final save. */
export const kGiveUpAfterSignals = 3;

/** `frostkv serve` stopped cleanly: every acknowledged write is in the final save. */
export const kExitOk = 0;
/** Start-up failed (configuration in use, port in use, data directory), or the final save failed. */
export const kExitFailure = 1;
/** The user gave up on the final save: writes since the last successful live save are lost. */
export const kExitShutdownAbandoned = 3;

export interface SignalHandlers {
  stop(signal: NodeJS.Signals): void;
  giveUp(signal: NodeJS.Signals): void;
}

export function installProcessSignals(logger: Logger, handlers: SignalHandlers): () => void {
  let hangupLogged = false;
  let stopSignals = 0;
  const onHangup = (): void => {
    if (hangupLogged) return;
    hangupLogged = true;
    logger.info('SIGHUP received: ignored (the terminal or session closed; frostkv keeps serving; SIGINT or SIGTERM stops it)');
  };
  const onPipe = (): void => undefined;
  const onStop = (signal: NodeJS.Signals): void => {
    stopSignals++;
    if (stopSignals === 1) {
      logger.info(`${signal} received: shutting down (send ${kGiveUpAfterSignals} more to give up on the final save)`);
      handlers.stop(signal);
      return;
    }
    const left = kGiveUpAfterSignals + 1 - stopSignals;
    if (left > 0) logger.warn(`${signal} received: still shutting down; ${left} more to give up and lose unsaved data`);
    else if (left === 0) handlers.giveUp(signal);
  };
  process.on('SIGHUP', onHangup);
  process.on('SIGPIPE', onPipe);
  process.on('SIGINT', onStop);
  process.on('SIGTERM', onStop);
  return () => {
    process.off('SIGHUP', onHangup);
    process.off('SIGPIPE', onPipe);
    process.off('SIGINT', onStop);
    process.off('SIGTERM', onStop);
  };
}
