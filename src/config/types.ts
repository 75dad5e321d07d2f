/**
 * The configuration object: one normalized shape shared by the server (built from TOML file,
 * environment and flags by src/config/load.ts) and the embedded API (`open(config)`).
 *
 * Guarantees: every field has a default (kDefaultConfig); every time is in seconds and every
 * size in bytes. New keys say their unit in their name (`idleTimeoutSeconds`, `keyMaxBytes`);
 * Skytable's own keys keep Skytable's names (`bgsave.every`, `snapshot.every`, both seconds) so
 * a Skytable 0.7 config file still loads, and their comments and docs state the unit. Nothing
 * here reads files or the environment.
 */

export type ServerMode = 'dev' | 'prod';
export type LogFormat = 'pretty' | 'json';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface FrostConfig {
  server: {
    host: string;
    port: number;
    noart: boolean;
    /** Maximum simultaneous client connections (Skytable's `maxclient`; `maxcon` is accepted too). */
    maxclient: number;
    mode: ServerMode;
    /** Data directory; relative paths resolve against the working directory. */
    dataDir: string;
  };
  bgsave: {
    enabled: boolean;
    /** Seconds from the start of one live save to the start of the next. */
    every: number;
  };
  snapshot: {
    /** False unless a [snapshot] section (or --snapevery/--snapkeep) configures snapshots. */
    enabled: boolean;
    /** Seconds between periodic local snapshots. */
    every: number;
    /** Local snapshots to keep; 0 keeps all. */
    atmost: number;
    /** Enter the read-only state when a periodic snapshot fails. */
    failsafe: boolean;
  };
  ssl: {
    enabled: boolean;
    /** Path of the PEM private key. */
    key: string | null;
    /** Path of the PEM certificate chain. */
    chain: string | null;
    port: number;
    /** Serve TLS only (no plain-text listener). */
    only: boolean;
    /** Path of a file holding the key's passphrase. */
    passin: string | null;
  };
  auth: {
    /** Skytable 0.7.5 origin key (enables auth when set). */
    originKey: string | null;
  };
  resp: {
    enabled: boolean;
    host: string;
    port: number;
    /** Port of the RESP TLS listener (with `[ssl]`'s key and chain), or null for none. */
    tlsPort: number | null;
    /** The entity the RESP listener serves (`ks:tbl`). */
    table: string;
  };
  limits: {
    keyMaxBytes: number;
    valueMaxBytes: number;
    /** Largest request (one Skyhash packet or one RESP command) accepted, in bytes. */
    requestMaxBytes: number;
    /** Most elements in one query / arguments in one RESP command. */
    queryElementsMax: number;
    /** Most queries in one Skyhash pipeline. */
    pipelineQueriesMax: number;
    /** Close a connection that sent nothing for this long; 0 never closes idle connections. */
    idleTimeoutSeconds: number;
    /** Close a connection whose request is still incomplete after this long. */
    requestTimeoutSeconds: number;
    /** Request bytes all connections together may buffer; past it the largest holders are closed. */
    requestBuffersMaxBytes: number;
  };
  workers: {
    /** Persistence worker threads; 0 means one per core. */
    threads: number;
  };
  log: {
    format: LogFormat;
    level: LogLevel;
  };
  /** `--restore <dir>`: install this save folder as the live save before starting. */
  restore: string | null;
}

export const kDefaultConfig: FrostConfig = {
  server: { host: '127.0.0.1', port: 2003, noart: false, maxclient: 50_000, mode: 'dev', dataDir: './data' },
  bgsave: { enabled: true, every: 120 },
  snapshot: { enabled: false, every: 3600, atmost: 0, failsafe: true },
  ssl: { enabled: false, key: null, chain: null, port: 2004, only: false, passin: null },
  auth: { originKey: null },
  resp: { enabled: false, host: '127.0.0.1', port: 6379, tlsPort: null, table: 'default:default' },
  limits: {
    keyMaxBytes: 1024 * 1024,
    valueMaxBytes: 64 * 1024 * 1024,
    requestMaxBytes: 128 * 1024 * 1024,
    queryElementsMax: 1_048_576,
    pipelineQueriesMax: 65_536,
    idleTimeoutSeconds: 0,
    requestTimeoutSeconds: 60,
    requestBuffersMaxBytes: 1024 * 1024 * 1024,
  },
  workers: { threads: 0 },
  log: { format: 'pretty', level: 'info' },
  restore: null,
};

/** A partial config, as `open()` accepts it: anything left out takes its default. */
export type PartialConfig = {
  [Section in keyof FrostConfig]?: FrostConfig[Section] extends object ? Partial<FrostConfig[Section]> : FrostConfig[Section];
};

/**
 * Fill a partial config with defaults, without validation (open() validates with
 * src/config/object.ts; the server's sources with load.ts).
 */
export function withDefaults(partial: PartialConfig = {}): FrostConfig {
  const base = structuredClone(kDefaultConfig);
  const merged = base as unknown as Record<string, unknown>;
  for (const [section, value] of Object.entries(partial)) {
    if (value === undefined) continue;
    const current = merged[section];
    if (value !== null && typeof value === 'object' && current !== null && typeof current === 'object') {
      merged[section] = { ...(current as object), ...(value as object) };
    } else {
      merged[section] = value;
    }
  }
  return base;
}
