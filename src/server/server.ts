/**
 * FrostServer: the Database plus its network listeners (Skyhash, and RESP when enabled), with
 * the connection limit and an orderly shutdown.
 *
 * Guarantees:
 * - `start` resolves once the data is loaded and every listener is bound; a port in use fails
 *   the start (after releasing the data directory).
 * - At most `server.maxclient` connections across all listeners; one more is closed at once.
 * - `shutdown` stops accepting, closes client connections, lets in-flight snapshots finish and
 *   runs the final save (SPEC.md 3.6) through Database.close.
 */

import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { open, type Database, type OpenOptions } from '../database.js';
import type { FrostConfig } from '../config/types.js';
import type { ProtocolLimits } from '../protocol/limits.js';
import type { Logger } from '../util/log.js';
import { FrostError } from '../util/errors.js';
import { Connection, type ProtocolDriver } from './connection.js';
import { SkyhashDriver } from './skyhash/driver.js';
import { RespDriver } from './resp/driver.js';
import { ServerStats, type ServerView } from './stats.js';

export interface ServerAddresses {
  skyhash: { host: string; port: number };
  resp: { host: string; port: number } | null;
}

export interface ServerOptions {
  logger: Logger;
  saveOnShutdown: boolean;
  configFile?: string | null;
  faults?: OpenOptions['faults'];
}

/** Warn about refused connections at most this often. */
const kRefusalWarnEveryMs = 10_000;

export class FrostServer {
  readonly db: Database;
  readonly config: FrostConfig;
  private readonly logger: Logger;
  private readonly listeners: Server[] = [];
  private readonly connections = new Set<Connection<unknown>>();
  private addressesBound: ServerAddresses | null = null;
  private lastRefusalWarnMs = 0;
  private stopping = false;
  readonly stats = new ServerStats();
  private readonly view: ServerView;
  private readonly configFile: string | null;

  private constructor(db: Database, config: FrostConfig, logger: Logger, configFile: string | null) {
    this.db = db;
    this.config = config;
    this.logger = logger;
    this.configFile = configFile;
    const server = this;
    this.view = {
      stats: this.stats,
      configFile,
      connectionCount: () => server.connections.size,
      skyhashPort: () => server.addressesBound?.skyhash.port ?? config.server.port,
      respPort: () => server.addressesBound?.resp?.port ?? config.resp.port,
    };
  }

  static async start(config: FrostConfig, options: ServerOptions): Promise<FrostServer> {
    // Auth and TLS (SPEC.md section 9) come in a later issue. Until then a configured origin
    // key or TLS must stop the start: serving without them would leave the data open.
    if (config.auth.originKey !== null) {
      throw new FrostError('ERR_AUTH_UNAVAILABLE', 'auth (`auth.origin_key`) is not available in this version of frostkv yet; remove it to start without auth');
    }
    if (config.ssl.enabled) {
      throw new FrostError('ERR_TLS_UNAVAILABLE', 'TLS (`[ssl]`) is not available in this version of frostkv yet; remove it to serve plain TCP on loopback');
    }
    const db = await open(config, {
      logger: options.logger,
      saveOnShutdown: options.saveOnShutdown,
      ...(options.faults === undefined ? {} : { faults: options.faults }),
    });
    const server = new FrostServer(db, config, options.logger, options.configFile ?? null);
    try {
      await server.listen();
    } catch (error) {
      await server.closeListeners();
      await db.close();
      throw error;
    }
    return server;
  }

  private limits(): ProtocolLimits {
    const limits = this.config.limits;
    return {
      requestMaxBytes: limits.requestMaxBytes,
      queryElementsMax: limits.queryElementsMax,
      pipelineQueriesMax: limits.pipelineQueriesMax,
    };
  }

  private async listen(): Promise<void> {
    const limits = this.limits();
    const skyhash = await this.bind(this.config.server.host, this.config.server.port, () => new SkyhashDriver(this.db, limits, this.logger));
    let resp: ServerAddresses['resp'] = null;
    if (this.config.resp.enabled) {
      // Fail at startup, not on the first RESP connection, when the served table is missing.
      this.db.engine.table(this.config.resp.table);
      resp = await this.bind(this.config.resp.host, this.config.resp.port, () => new RespDriver(this.db, limits, this.logger, this.config.resp.table, this.view));
    }
    this.addressesBound = { skyhash, resp };
  }

  private bind(host: string, port: number, driver: () => ProtocolDriver<unknown>): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const listener = createServer({ noDelay: true }, (socket) => this.accept(socket, driver));
      listener.once('error', reject);
      listener.listen(port, host, () => {
        listener.off('error', reject);
        listener.on('error', (error) => this.logger.error(`listener error: ${error.message}`));
        this.listeners.push(listener);
        const address = listener.address() as AddressInfo;
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  private accept(socket: Socket, makeDriver: () => ProtocolDriver<unknown>): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    this.stats.connectionsReceived++;
    if (this.connections.size >= this.config.server.maxclient) {
      this.stats.connectionsRejected++;
      socket.destroy();
      const now = Date.now();
      if (now - this.lastRefusalWarnMs > kRefusalWarnEveryMs) {
        this.lastRefusalWarnMs = now;
        this.logger.warn(`refusing connections: ${this.connections.size} clients connected (maxclient is ${this.config.server.maxclient})`);
      }
      return;
    }
    const connection = new Connection(
      socket,
      makeDriver(),
      {
        idleTimeoutMs: this.config.limits.idleTimeoutSeconds * 1000,
        requestTimeoutMs: this.config.limits.requestTimeoutSeconds * 1000,
        logger: this.logger,
      },
      (closed) => this.connections.delete(closed),
    );
    this.connections.add(connection);
  }

  get addresses(): ServerAddresses {
    if (this.addressesBound === null) throw new Error('the server is not listening');
    return this.addressesBound;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  private closeListeners(): Promise<void> {
    return Promise.all(
      this.listeners.map((listener) => new Promise<void>((resolve) => listener.close(() => resolve()))),
    ).then(() => undefined);
  }

  /**
   * Stop accepting and serving, then close the database (in-flight snapshots finish, then the
   * final save, retried every 10 s until it succeeds or `signal` aborts).
   */
  async shutdown(options: { signal?: AbortSignal; retryEveryMs?: number } = {}): Promise<void> {
    this.stopping = true;
    const listenersClosed = this.closeListeners();
    for (const connection of this.connections) connection.close();
    await this.db.close(options);
    await listenersClosed;
  }
}
