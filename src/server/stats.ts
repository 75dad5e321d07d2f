/**
 * Server-wide counters for INFO and the startup banner (connections, commands, hits).
 *
 * Guarantees: plain counters updated on the main thread; reading them never blocks.
 */
export class ServerStats {
  readonly startedAtMs = Date.now();
  connectionsReceived = 0;
  connectionsRejected = 0;
  /** Connections closed by the bound on all connections' request buffers (INFO evicted_clients). */
  clientsEvicted = 0;
  commandsProcessed = 0;
  keyspaceHits = 0;
  keyspaceMisses = 0;
  private nextClientId = 1;

  newClientId(): number {
    return this.nextClientId++;
  }
}

/** What INFO and CONFIG GET read about the running server. */
export interface ServerView {
  readonly stats: ServerStats;
  connectionCount(): number;
  /** The maxclient in force: `server.maxclient`, or less when the open-files limit is short. */
  maxclient(): number;
  skyhashPort(): number;
  respPort(): number;
  configFile: string | null;
}
