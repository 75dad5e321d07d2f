/**
 * `frostkv serve`: start the server on a loaded configuration and run its lifecycle
 * (SPEC.md 3.6 and section 4): banner, logs, signals, shutdown.
 *
 * Guarantees:
 * - The first SIGINT/SIGTERM stops accepting connections, lets an in-flight snapshot finish and
 *   runs the final save (retried every 10 s). Three further signals give up: the process exits
 *   non-zero with a message saying what is lost. A clean shutdown exits 0.
 * - A configuration, data directory or port problem at startup is one clear message and a
 *   non-zero exit, never a stack trace.
 */

import { describeNonDefaults, type LoadedConfig } from '../config/load.js';
import { FrostServer } from '../server/server.js';
import { createLogger } from '../server/logger.js';
import { kVersion } from '../version.js';
import { isFrostError } from '../util/errors.js';
import type { FaultInjector } from '../persist/persistence.js';

export const kGiveUpAfterSignals = 3;

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

export async function serve(loaded: LoadedConfig, options: ServeOptions = {}): Promise<number> {
  const config = loaded.config;
  const logger = createLogger(config.log.format, config.log.level);
  const saveOnShutdown = config.bgsave.enabled;
  if (!config.server.noart && config.log.format === 'pretty') process.stdout.write(`${kArt}\n`);
  logger.info(`frostkv ${kVersion} starting (pid ${process.pid}, Node ${process.version})`, { version: kVersion, pid: process.pid });
  for (const line of describeNonDefaults(loaded)) logger.info(`setting ${line}`);
  for (const warning of loaded.warnings) logger.warn(warning);

  let server: FrostServer;
  try {
    server = await FrostServer.start(config, {
      logger,
      saveOnShutdown,
      configFile: loaded.configFile,
      ...(options.faults === undefined ? {} : { faults: options.faults }),
    });
  } catch (error) {
    const message = isFrostError(error) ? error.message : (error as { code?: string }).code === 'EADDRINUSE' ? `${(error as Error).message}: another process is listening on that port` : (error as Error).message;
    logger.error(`cannot start: ${message}`);
    return 1;
  }
  const addresses = server.addresses;
  logger.info(`Skyhash listening on ${addresses.skyhash.host}:${addresses.skyhash.port}`, { skyhash: addresses.skyhash });
  if (addresses.resp !== null) logger.info(`RESP2 listening on ${addresses.resp.host}:${addresses.resp.port} (table ${config.resp.table})`, { resp: addresses.resp });
  logger.info(`data directory ${config.server.dataDir}`, { dataDir: config.server.dataDir });
  if (!config.bgsave.enabled) logger.warn('BGSAVE is disabled: nothing is saved periodically or at shutdown; a crash or restart loses every write since start');
  logger.info('ready to accept connections');

  return new Promise<number>((resolve) => {
    const abandon = new AbortController();
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals === 1) {
        logger.info(`${signal} received: shutting down (send ${kGiveUpAfterSignals} more to give up on the final save)`);
        server.shutdown({ signal: abandon.signal }).then(
          () => {
            logger.info('shutdown complete');
            resolve(0);
          },
          (error: unknown) => {
            logger.error((error as Error).message);
            resolve(1);
          },
        );
        return;
      }
      const left = kGiveUpAfterSignals + 1 - signals;
      if (left > 0) {
        logger.warn(`${signal} received: still saving; ${left} more to give up and lose unsaved data`);
      } else {
        logger.error(`${signal} received ${kGiveUpAfterSignals} more times: giving up on the final save`);
        abandon.abort();
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
