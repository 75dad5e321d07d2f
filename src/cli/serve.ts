/**
 * `frostkv serve`: start the server on a loaded configuration and run its lifecycle: banner,
 * logs, listeners, load, signals, shutdown, exit code.
 *
 * Guarantees:
 * - The listeners open before the data set loads: a port in use is one message naming the
 *   listener and address, at once, with the data directory untouched. During the load clients
 *   are answered "loading"; progress is logged.
 * - SIGHUP and SIGPIPE are ignored (SIGHUP logged once): closing the terminal loses nothing.
 * - The first SIGINT/SIGTERM stops accepting connections, lets an in-flight snapshot finish and
 *   runs the final save (retried every 10 s); exit 0 once it is done (kExitOk). Three further
 *   signals give up: the process stops waiting at once, logs which writes are lost (those since
 *   the last successful live save, with its time) and exits kExitShutdownAbandoned (3).
 * - A configuration, data directory or port problem at startup is one clear message and exit
 *   kExitFailure (1), never a stack trace; so is a final save that fails for good.
 */

import { writeSync } from 'node:fs';
import { describeNonDefaults, type LoadedConfig } from '../config/load.js';
import type { FrostConfig } from '../config/types.js';
import { FrostServer } from '../server/server.js';
import { createLogger } from '../server/logger.js';
import { installProcessSignals, kExitFailure, kExitOk, kExitShutdownAbandoned, type SignalHandlers } from '../server/process-signals.js';
import { kVersion } from '../version.js';
import { isFrostError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { CloseOptions, FaultInjector } from '../persist/persistence.js';

export { kGiveUpAfterSignals } from '../server/process-signals.js';

const kArt = String.raw`
   __                _   _
  / _|_ __ ___  ___| |_| | ____   __
 | |_| '__/ _ \/ __| __| |/ /\ \ / /
 |  _| | | (_) \__ \ |_|   <  \ V /
 |_| |_|  \___/|___/\__|_|\_\  \_/
`;

export interface ServeOptions {
  /** Testing hook: make the file-system seam fail (see src/persist/fs-seam.ts). */
  faults?: FaultInjector;
}

function startError(error: unknown): string {
  return isFrostError(error) ? error.message : (error as Error).message;
}

/** What giving up loses: the writes since the last successful live save (or since start). */
function lostWrites(server: FrostServer): string {
  const db = server.loadedDb;
  if (db === null) return 'nothing is lost: the data set was still loading, so no write had been accepted';
  const persistence = db.status().persistence;
  if (persistence === null) return 'this server has no data directory';
  const changes = persistence.changesSinceLastSave;
  const since =
    persistence.lastSaveTimeMs === null
      ? 'since start (no live save had completed)'
      : `since the last successful live save (${new Date(persistence.lastSaveTimeMs).toISOString()}, kept in ${persistence.dataDir}/ks)`;
  return `${changes} changes ${since} are lost`;
}

function logReady(logger: Logger, config: FrostConfig): void {
  logger.info(`data directory ${config.server.dataDir}`, { dataDir: config.server.dataDir });
  if (!config.bgsave.enabled) logger.warn('BGSAVE is disabled: nothing is saved periodically or at shutdown; a crash or restart loses every write since start');
  logger.info('ready to accept connections');
}

function logListening(logger: Logger, server: FrostServer, config: FrostConfig): void {
  const addresses = server.addresses;
  if (!(config.ssl.enabled && config.ssl.only)) logger.info(`Skyhash listening on ${addresses.skyhash.host}:${addresses.skyhash.port}`, { skyhash: addresses.skyhash });
  if (addresses.skyhashTls !== null) logger.info(`Skyhash TLS listening on ${addresses.skyhashTls.host}:${addresses.skyhashTls.port}${config.ssl.only ? ' (TLS only: no plain Skyhash port)' : ''}`, { skyhashTls: addresses.skyhashTls });
  if (addresses.resp !== null) logger.info(`RESP2 listening on ${addresses.resp.host}:${addresses.resp.port} (table ${config.resp.table})`, { resp: addresses.resp });
  if (addresses.respTls !== null) logger.info(`RESP2 TLS listening on ${addresses.respTls.host}:${addresses.respTls.port}`, { respTls: addresses.respTls });
  logger.info(`loading the data set from ${config.server.dataDir} (clients are answered "loading" until it is in memory)`);
}

/**
 * SIGINT/SIGTERM/SIGHUP handlers installed before anything else, routed to `handlers` once the
 * server exists; a stop requested before that runs as soon as it does.
 */
class SignalRouter {
  handlers: SignalHandlers | null = null;
  private stopRequested: NodeJS.Signals | null = null;

  constructor(logger: Logger) {
    installProcessSignals(logger, {
      stop: (signal) => {
        if (this.handlers === null) this.stopRequested = signal;
        else this.handlers.stop(signal);
      },
      giveUp: (signal) => this.handlers?.giveUp(signal),
    });
  }

  route(handlers: SignalHandlers): void {
    this.handlers = handlers;
    if (this.stopRequested !== null) handlers.stop(this.stopRequested);
  }
}

/** Load, serve, and resolve with the exit code once the process should end. */
function run(server: FrostServer, logger: Logger, config: FrostConfig, signals: SignalRouter): Promise<number> {
  return new Promise<number>((resolve) => {
    const abandon = new AbortController();
    let stopping = false;
    // Loading starts first, so a stop requested meanwhile waits for it (shutdown sees it).
    server.load().then(
      () => {
        if (!stopping) logReady(logger, config);
      },
      (error: unknown) => {
        logger.error(`cannot start: ${startError(error)}`);
        resolve(kExitFailure);
      },
    );
    const stop = (finalSave: CloseOptions['finalSave'] = 'configured'): void => {
      // A signal after a client's SHUTDOWN (or the reverse) finds the shutdown under way.
      if (stopping) return;
      stopping = true;
      server.shutdown({ signal: abandon.signal, finalSave }).then(
          () => {
            logger.info('shutdown complete');
            resolve(kExitOk);
          },
          (error: unknown) => {
            // After a give-up the exit code and the message are already settled.
            if (abandon.signal.aborted) return;
            logger.error((error as Error).message);
            resolve(kExitFailure);
          },
        );
    };
    server.onShutdownRequest((request) => stop(request.finalSave));
    signals.route({
      stop: () => stop(),
      giveUp: (signal) => {
        logger.error(`${signal} received: giving up on the final save: ${lostWrites(server)}; exiting with code ${kExitShutdownAbandoned}`);
        abandon.abort();
        resolve(kExitShutdownAbandoned);
      },
    });
  });
}

export async function serve(loaded: LoadedConfig, options: ServeOptions = {}): Promise<number> {
  const config = loaded.config;
  const logger = createLogger(config.log.format, config.log.level);
  if (!config.server.noart && config.log.format === 'pretty') {
    try {
      writeSync(1, `${kArt}\n`);
    } catch {
      // No terminal: no banner.
    }
  }
  logger.info(`frostkv ${kVersion} starting (pid ${process.pid}, Node ${process.version})`, { version: kVersion });
  for (const line of describeNonDefaults(loaded)) logger.info(`setting ${line}`);
  for (const warning of loaded.warnings) logger.warn(warning);
  // Before anything can take long: a closed terminal must never end the process.
  const signals = new SignalRouter(logger);

  let server: FrostServer;
  try {
    server = await FrostServer.listen(config, {
      logger,
      saveOnShutdown: config.bgsave.enabled,
      configFile: loaded.configFile,
      ...(options.faults === undefined ? {} : { faults: options.faults }),
    });
  } catch (error) {
    logger.error(`cannot start: ${startError(error)}`);
    return kExitFailure;
  }
  logListening(logger, server, config);
  return run(server, logger, config, signals);
}
