/**
 * FrostServer: the Database plus its network listeners (Skyhash, and RESP when enabled), with
 * the connection limit and an orderly shutdown.
 *
 * Guarantees:
 * - `listen` binds every listener before any data is read, so a port in use fails at once,
 *   naming the listener (Skyhash or RESP) and its address, with the data directory untouched
 *   and unlocked. `load` then opens the database; until it resolves every request is answered
 *   "loading" (see loading.ts). `start` is both.
 * - At most `server.maxclient` connections across all listeners (lowered to what the open-files
 *   limit holds); one more is answered its protocol's error and closed (admission.ts).
 * - The request bytes all connections buffer stay within `limits.request_buffers_max_bytes`
 *   (budget.ts).
 * - With `[ssl]`, the key, chain and passphrase are read and checked before any port is bound
 *   (tls-context.ts); Skyhash listens on `ssl.port` with TLS beside its plain port, or alone
 *   with `ssl.only`, and RESP on `resp.tls_port` beside its plain port. A TLS socket reaches a
 *   driver only after its handshake, which is timed out and bounded in number (tls-gate.ts).
 * - `shutdown` stops accepting, closes client connections, lets in-flight snapshots finish and
 *   runs the final save (retried until it succeeds or the caller gives up) through
 *   Database.close; during the load it first waits for the load to end.
 */

import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import { open, type Database, type OpenOptions } from '../database.js';
import { markChecked } from '../config/object.js';
import type { FrostConfig } from '../config/types.js';
import type { ProtocolLimits } from '../protocol/limits.js';
import type { Logger } from '../util/log.js';
import { ErrorCode, FrostError } from '../util/errors.js';
import { Connection, type ProtocolDriver } from './connection.js';
import type { DatabaseSource } from './loading.js';
import { SkyhashDriver } from './skyhash/driver.js';
import { RespDriver } from './resp/driver.js';
import { ServerStats, type ServerView, type ShutdownRequest } from './stats.js';
import type { CloseOptions } from '../persist/persistence.js';
import { FdWatch, kRespMaxClientsReply, kSkyhashMaxClientsReply, planMaxclient, refuse } from './admission.js';
import { RequestBudget } from './budget.js';
import { loadTlsContext } from './tls-context.js';
import { TlsGate } from './tls-gate.js';

export interface ServerAddresses {
  /** The plain Skyhash listener; with `ssl.only`, the TLS one (then the only Skyhash listener). */
  skyhash: { host: string; port: number };
  /** The Skyhash TLS listener (`ssl.port`), when TLS is on. */
  skyhashTls: { host: string; port: number } | null;
  resp: { host: string; port: number } | null;
  /** The RESP TLS listener (`resp.tls_port`), when set. */
  respTls: { host: string; port: number } | null;
}

/** How many listening sockets a configuration opens (each holds a descriptor). */
function listenerCount(config: FrostConfig): number {
  const skyhash = config.ssl.enabled ? (config.ssl.only ? 1 : 2) : 1;
  const resp = config.resp.enabled ? (config.resp.tlsPort === null ? 1 : 2) : 0;
  return skyhash + resp;
}

export interface ServerOptions {
  logger: Logger;
  saveOnShutdown: boolean;
  configFile?: string | null;
  faults?: OpenOptions['faults'];
}

/** A listener that cannot bind, named (Skyhash or RESP) with its address. */
function listenError(name: string, host: string, port: number, error: NodeJS.ErrnoException): FrostError {
  const where = `${name} on ${host}:${port}`;
  if (error.code === 'EADDRINUSE') {
    return new FrostError(ErrorCode.addressInUse, `cannot listen for ${where}: the address is in use (another process is listening there)`, { cause: error });
  }
  return new FrostError(ErrorCode.listenFailed, `cannot listen for ${where}: ${error.message}`, { cause: error });
}

/** Warn about refused connections at most this often. */
const kRefusalWarnEveryMs = 10_000;

export class FrostServer implements DatabaseSource {
  /** Null until `load` has opened the database; the drivers answer "loading" meanwhile. */
  loadedDb: Database | null = null;
  private loading: Promise<void> | null = null;
  private readonly options: ServerOptions;
  readonly config: FrostConfig;
  private readonly logger: Logger;
  private readonly listeners: Server[] = [];
  private readonly connections = new Set<Connection<unknown>>();
  private addressesBound: ServerAddresses | null = null;
  private lastRefusalWarnMs = 0;
  /** `server.maxclient`, lowered when the open-files limit cannot hold it (admission.ts). */
  private effectiveMaxclient: number;
  private readonly fdWatch: FdWatch;
  private readonly budget: RequestBudget;
  private readonly tlsGate = new TlsGate();
  private stopping = false;
  readonly stats = new ServerStats();
  private readonly view: ServerView;
  private readonly configFile: string | null;
  private shutdownHandler: ((request: ShutdownRequest) => void) | null = null;

  private constructor(config: FrostConfig, options: ServerOptions) {
    const configFile = options.configFile ?? null;
    const logger = options.logger;
    this.options = options;
    this.config = config;
    this.logger = logger;
    this.configFile = configFile;
    // Provisional until the database (and its worker pool, which holds descriptors too) is open.
    this.effectiveMaxclient = planMaxclient(config.server.maxclient, listenerCount(config), null);
    this.fdWatch = new FdWatch(logger);
    this.budget = new RequestBudget(config.limits.requestBuffersMaxBytes, logger, this.stats);
    const server = this;
    this.view = {
      stats: this.stats,
      configFile,
      connectionCount: () => server.connections.size,
      maxclient: () => server.maxclient,
      skyhashPort: () => server.addressesBound?.skyhash.port ?? config.server.port,
      respPort: () => server.addressesBound?.resp?.port ?? config.resp.port,
      requestShutdown: (request) => server.requestShutdown(request),
    };
  }

  /**
   * Who stops the server when a client asks (RESP SHUTDOWN): `frostkv serve` routes it into
   * the same path as SIGTERM, which ends the process. Without a handler (a server embedded in
   * another program) the server shuts itself down and the host process keeps running.
   */
  onShutdownRequest(handler: (request: ShutdownRequest) => void): void {
    this.shutdownHandler = handler;
  }

  private requestShutdown(request: ShutdownRequest): void {
    if (this.stopping) return;
    this.logger.info(`${request.reason}: shutting down${request.finalSave === 'skip' ? ' without the final save' : ''}`);
    if (this.shutdownHandler !== null) {
      this.shutdownHandler(request);
      return;
    }
    this.shutdown({ finalSave: request.finalSave }).catch((error: unknown) => this.logger.error(`shutdown failed: ${(error as Error).message}`));
  }

  /** Bind the listeners and load the data set: a server ready to serve. */
  static async start(config: FrostConfig, options: ServerOptions): Promise<FrostServer> {
    const server = await FrostServer.listen(config, options);
    await server.load();
    return server;
  }

  /** The database; only once `load` has resolved. */
  get db(): Database {
    if (this.loadedDb === null) throw new FrostError(ErrorCode.loading, 'the data set is still loading');
    return this.loadedDb;
  }

  /** Bind every listener (before any data is read); requests are answered "loading" until `load`. */
  static async listen(config: FrostConfig, options: ServerOptions): Promise<FrostServer> {
    const server = new FrostServer(config, options);
    try {
      await server.bindAll();
    } catch (error) {
      await server.closeListeners();
      throw error;
    }
    return server;
  }

  /** Open the database (lock, recovery, load); on failure the listeners are closed too. */
  load(): Promise<void> {
    this.loading ??= this.openDatabase().catch(async (error: unknown) => {
      this.stopping = true;
      for (const connection of this.connections) connection.close();
      await this.closeListeners();
      throw error;
    });
    return this.loading;
  }

  private async openDatabase(): Promise<void> {
    // The CLI's config passed loadConfig's checks; open() does not run them again.
    const db = await open(markChecked(this.config), {
      logger: this.options.logger,
      saveOnShutdown: this.options.saveOnShutdown,
      ...(this.options.faults === undefined ? {} : { faults: this.options.faults }),
    });
    if (this.config.resp.enabled) {
      try {
        // Fail at startup, not on the first RESP command, when the served table is missing.
        db.engine.table(this.config.resp.table);
      } catch (error) {
        await db.close();
        throw error;
      }
    }
    this.loadedDb = db;
    this.effectiveMaxclient = planMaxclient(this.config.server.maxclient, -this.connections.size, this.logger);
  }

  /** The maxclient in force (admission.ts). */
  get maxclient(): number {
    return this.effectiveMaxclient;
  }

  private limits(): ProtocolLimits {
    const limits = this.config.limits;
    return {
      requestMaxBytes: limits.requestMaxBytes,
      queryElementsMax: limits.queryElementsMax,
      pipelineQueriesMax: limits.pipelineQueriesMax,
    };
  }

  private async bindAll(): Promise<void> {
    const limits = this.limits();
    const { server: serverConfig, ssl, resp: respConfig } = this.config;
    // The TLS files are read and checked before any port is bound: a bad key binds nothing.
    const context = ssl.enabled ? loadTlsContext({ key: ssl.key as string, chain: ssl.chain as string, passin: ssl.passin }) : null;
    const skyhashDriver = (): ProtocolDriver<unknown> => new SkyhashDriver(this, limits, this.logger);
    const plain = context !== null && ssl.only ? null : await this.bind('Skyhash', serverConfig.host, serverConfig.port, skyhashDriver, kSkyhashMaxClientsReply, null);
    const skyhashTls = context === null ? null : await this.bind('Skyhash TLS', serverConfig.host, ssl.port, skyhashDriver, kSkyhashMaxClientsReply, context);
    let resp: ServerAddresses['resp'] = null;
    let respTls: ServerAddresses['respTls'] = null;
    if (respConfig.enabled) {
      const respDriver = (): ProtocolDriver<unknown> => new RespDriver(this, limits, this.logger, respConfig.table, this.view);
      resp = await this.bind('RESP', respConfig.host, respConfig.port, respDriver, kRespMaxClientsReply, null);
      if (respConfig.tlsPort !== null && context !== null) {
        respTls = await this.bind('RESP TLS', respConfig.host, respConfig.tlsPort, respDriver, kRespMaxClientsReply, context);
      }
    }
    this.addressesBound = { skyhash: (plain ?? skyhashTls) as { host: string; port: number }, skyhashTls, resp, respTls };
    this.fdWatch.start();
  }

  /** A TLS listener's socket goes through the handshake gate first (tls-gate.ts). */
  private bind(name: string, host: string, port: number, driver: () => ProtocolDriver<unknown>, refusal: Buffer, context: SecureContext | null): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onSocket = context === null
        ? (socket: Socket): void => this.accept(socket, driver, refusal)
        : (socket: Socket): void => this.tlsGate.admit(socket, context, { secure: (secure) => this.accept(secure, driver, refusal), refused: () => this.tlsRefused() });
      const listener = createServer({ noDelay: true }, onSocket);
      const failed = (error: NodeJS.ErrnoException): void => reject(listenError(name, host, port, error));
      listener.once('error', failed);
      listener.listen(port, host, () => {
        listener.off('error', failed);
        listener.on('error', (error) => {
          if (!this.fdWatch.listenerError(error)) this.logger.error(`listener error: ${error.message}`);
        });
        this.listeners.push(listener);
        const address = listener.address() as AddressInfo;
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  /** A socket closed before its handshake because kTlsHandshakesPendingMax were in progress. */
  private tlsRefused(): void {
    this.stats.connectionsReceived++;
    this.stats.connectionsRejected++;
    const now = Date.now();
    if (now - this.lastRefusalWarnMs > kRefusalWarnEveryMs) {
      this.lastRefusalWarnMs = now;
      this.logger.warn(`refusing TLS connections: ${this.tlsGate.pending} handshakes in progress`);
    }
  }

  private accept(socket: Socket, makeDriver: () => ProtocolDriver<unknown>, refusal: Buffer): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    this.stats.connectionsReceived++;
    if (this.connections.size >= this.maxclient) {
      this.stats.connectionsRejected++;
      refuse(socket, refusal);
      const now = Date.now();
      if (now - this.lastRefusalWarnMs > kRefusalWarnEveryMs) {
        this.lastRefusalWarnMs = now;
        this.logger.warn(`refusing connections: ${this.connections.size} clients connected (maxclient is ${this.maxclient})`);
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
        budget: this.budget,
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
  async shutdown(options: CloseOptions = {}): Promise<void> {
    this.stopping = true;
    this.fdWatch.stop();
    this.tlsGate.close();
    const listenersClosed = this.closeListeners();
    for (const connection of this.connections) connection.close();
    // Stopping during the load waits for it (a half-loaded data set is never saved); the final
    // save then has nothing to do, as no write was accepted.
    if (this.loading !== null) await this.loading.catch(() => undefined);
    await this.loadedDb?.close(options);
    await listenersClosed;
  }
}
