/**
 * Server-wide counters for INFO and the startup banner: connections, commands, hits, the
 * per-command and per-error statistics of RESP (INFO commandstats / errorstats), and the
 * instantaneous command rate.
 *
 * Guarantees:
 * - Plain counters updated on the main thread; reading them never blocks and never allocates
 *   per command (a command's counters object is made once, at its first call).
 * - Per command (Redis 7's meaning): `calls` counts runs, `usec` their wall time, `failed` the
 *   runs that answered an error, `rejected` the requests refused before running (arity, auth,
 *   MULTI rules, read-only). A command run inside EXEC is counted as itself.
 * - Error replies are counted by their prefix (the text up to the first space in its first
 *   32 characters, else `ERR`, as Redis), at most kErrorPrefixesMax distinct prefixes; the
 *   rest are counted in the total only.
 * - `resetStats()` (CONFIG RESETSTAT) zeroes what Redis's RESETSTAT zeroes.
 */

/** Redis reads an error's prefix from its first 32 characters. */
const kErrorPrefixScanChars = 32;
/** Distinct error prefixes kept (Redis 7.2 stops tracking past 128; frostkv keeps the first 128). */
export const kErrorPrefixesMax = 128;
/** `instantaneous_ops_per_sec` averages the last 16 intervals of 100 ms, as Redis's samples do. */
const kRateBuckets = 16;
const kRateBucketMs = 100;

export interface CommandCounters {
  calls: number;
  usec: number;
  rejected: number;
  failed: number;
}

/**
 * What one connection is running: errors it writes meanwhile fail that command. `begin` and
 * `end` bracket one run; runs nest (EXEC runs its queue inside its own run). The clock is read
 * once at each end of a run (two reads per command: at about 70 ns a read here, the four the
 * request path used to make were a tenth of a SET's cost), and the end reading also stamps the
 * command rate.
 */
export class CommandTracker {
  private readonly stats: CommandStats;
  private current: CommandCounters | null = null;
  private currentFailed = false;
  /** An error was written outside any run since the request began: a rejection. */
  private strayError = false;
  /** performance.now() at the start of the innermost run (also read by the driver for idle times). */
  startedMs = 0;
  /** `stats.resets` when the innermost run began: its counters are still the ones in force. */
  private beganResets = 0;
  /** The enclosing runs' saved state: counters, failed flag, start time, resets; four slots each. */
  private readonly outer: Array<CommandCounters | boolean | number | null> = [];

  constructor(stats: CommandStats) {
    this.stats = stats;
  }

  /** Called for every error reply the connection writes. */
  errorWritten(text: string): void {
    this.stats.countError(text);
    if (this.current !== null) this.currentFailed = true;
    else this.strayError = true;
  }

  /** A request begins: forget whether the previous one was refused. */
  beginRequest(): void {
    this.strayError = false;
  }

  /** Whether the request that began was answered an error without running. */
  get refused(): boolean {
    return this.strayError;
  }

  /** A run of command `name` begins; every `begin` is followed by exactly one `end(name)`. */
  begin(name: string): void {
    if (this.current !== null) this.outer.push(this.current, this.currentFailed, this.startedMs, this.beganResets);
    this.current = this.stats.counters(name);
    this.currentFailed = false;
    this.beganResets = this.stats.resets;
    this.startedMs = performance.now();
  }

  /** The run of `name` that began last has finished (returned, threw or settled). */
  end(name: string): void {
    const endedMs = performance.now();
    // CONFIG RESETSTAT may have dropped the counters meanwhile (Redis then counts its own call).
    const counters = this.beganResets === this.stats.resets ? (this.current as CommandCounters) : this.stats.counters(name);
    counters.calls++;
    counters.usec += Math.round((endedMs - this.startedMs) * 1000);
    if (this.currentFailed) counters.failed++;
    this.stats.countRun(endedMs);
    if (this.outer.length === 0) {
      this.current = null;
      this.currentFailed = false;
      return;
    }
    this.beganResets = this.outer.pop() as number;
    this.startedMs = this.outer.pop() as number;
    this.currentFailed = this.outer.pop() as boolean;
    this.current = this.outer.pop() as CommandCounters;
  }
}

export class CommandStats {
  private readonly byName = new Map<string, CommandCounters>();
  private readonly errors = new Map<string, number>();
  totalErrorReplies = 0;
  /** How many times the counters were reset (a tracker's cached counters are stale after one). */
  resets = 0;
  /** Commands run per 100 ms interval (`bucketEpochs` says which interval a slot holds). */
  private readonly bucketEpochs = new Float64Array(kRateBuckets).fill(-1);
  private readonly bucketRuns = new Float64Array(kRateBuckets);

  counters(name: string): CommandCounters {
    let counters = this.byName.get(name);
    if (counters === undefined) {
      counters = { calls: 0, usec: 0, rejected: 0, failed: 0 };
      this.byName.set(name, counters);
    }
    return counters;
  }

  /** A request for command `name` was refused before it ran. */
  rejected(name: string): void {
    this.counters(name).rejected++;
  }

  countError(text: string): void {
    this.totalErrorReplies++;
    const space = text.slice(0, kErrorPrefixScanChars).indexOf(' ');
    const prefix = space > 0 ? text.slice(0, space) : 'ERR';
    const count = this.errors.get(prefix);
    if (count !== undefined) this.errors.set(prefix, count + 1);
    else if (this.errors.size < kErrorPrefixesMax) this.errors.set(prefix, 1);
  }

  /** Commands with any count, in name order: [full name, counters]. */
  commandEntries(): Array<[string, CommandCounters]> {
    return [...this.byName].filter(([, c]) => c.calls > 0 || c.rejected > 0 || c.failed > 0).sort(([a], [b]) => (a < b ? -1 : 1));
  }

  /** Error prefixes in name order: [prefix, count]. */
  errorEntries(): Array<[string, number]> {
    return [...this.errors].sort(([a], [b]) => (a < b ? -1 : 1));
  }

  /** One command finished at `nowMs` (performance.now()). */
  countRun(nowMs: number): void {
    const epoch = Math.floor(nowMs / kRateBucketMs);
    const slot = epoch % kRateBuckets;
    if (this.bucketEpochs[slot] !== epoch) {
      this.bucketEpochs[slot] = epoch;
      this.bucketRuns[slot] = 0;
    }
    (this.bucketRuns[slot] as number)++;
  }

  /** Commands per second over the last 16 whole intervals of 100 ms (Redis's instantaneous_ops_per_sec). */
  opsPerSec(nowMs = performance.now()): number {
    const current = Math.floor(nowMs / kRateBucketMs);
    let runs = 0;
    for (let slot = 0; slot < kRateBuckets; slot++) {
      const epoch = this.bucketEpochs[slot] as number;
      if (epoch >= current - kRateBuckets && epoch < current) runs += this.bucketRuns[slot] as number;
    }
    return Math.round((runs * 1000) / (kRateBuckets * kRateBucketMs));
  }

  reset(): void {
    this.resets++;
    this.byName.clear();
    this.errors.clear();
    this.totalErrorReplies = 0;
  }
}

export class ServerStats {
  readonly startedAtMs = Date.now();
  connectionsReceived = 0;
  connectionsRejected = 0;
  /** Connections closed by the bound on all connections' request buffers (INFO evicted_clients). */
  clientsEvicted = 0;
  commandsProcessed = 0;
  keyspaceHits = 0;
  keyspaceMisses = 0;
  readonly commands = new CommandStats();
  private nextClientId = 1;

  newClientId(): number {
    return this.nextClientId++;
  }

  /** CONFIG RESETSTAT: the counters Redis's resetServerStats zeroes. */
  resetStats(): void {
    this.connectionsReceived = 0;
    this.connectionsRejected = 0;
    this.clientsEvicted = 0;
    this.commandsProcessed = 0;
    this.keyspaceHits = 0;
    this.keyspaceMisses = 0;
    this.commands.reset();
  }
}

/** What INFO and CONFIG GET read about the running server. */
/**
 * A client asked the server to stop (RESP SHUTDOWN). `finalSave` is how the database's close
 * treats its final live save (persist/persistence.ts CloseOptions); `reason` goes to the log.
 */
export interface ShutdownRequest {
  finalSave: 'configured' | 'always' | 'skip';
  reason: string;
}

export interface ServerView {
  readonly stats: ServerStats;
  /** Stop the server as SIGTERM does, with the final save as asked; returns at once. */
  requestShutdown(request: ShutdownRequest): void;
  connectionCount(): number;
  /** The maxclient in force: `server.maxclient`, or less when the open-files limit is short. */
  maxclient(): number;
  skyhashPort(): number;
  respPort(): number;
  configFile: string | null;
}
