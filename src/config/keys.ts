/**
 * The registry of configuration keys: for every key, its path in the TOML file, its place in
 * FrostConfig, its value kind, its environment variable and flag, and its documentation.
 *
 * Guarantees: this table is the single source for the file reader, the environment reader, the
 * flag parser, the help text and the provenance lines, so those can never disagree about a
 * key's name. Key paths use the TOML names (`server.data_dir`, `limits.key_max_bytes`).
 *
 * Where a key comes from Skytable 0.7 (`doc.origin: 'skytable'`) its names are spelled exactly
 * as skyd 0.7 spelled them: file keys as in server/src/config/cfgfile.rs, variables as in
 * cfgenv.rs, flags as in cfgcli.rs and cli.yml. frostkv's additions follow the pattern
 * `SKY_<SECTION>_<KEY>` for variables and `--<section>-<key>` for flags, with SKY_DATA_DIR and
 * --data-dir, --workers, --resp as the short exceptions.
 */

import { kRecordHardMaxBytes } from '../table/table.js';
import { kRequestMaxBytesCeiling } from '../protocol/limits.js';
import type { FrostConfig } from './types.js';
import {
  enumKind,
  integerKind,
  kBoolKind,
  kEntityKind,
  kHostKind,
  kOriginKeyKind,
  kPathKind,
  kPortKind,
  type ValueKind,
} from './values.js';

// ---- limits on configuration values (each tested at the limit and one past it) ----

/**
 * Longest period or timeout, in seconds. Node's timers hold at most 2^31-1 milliseconds and
 * silently fire after 1 ms when given more, so a longer period would make BGSAVE run
 * continuously instead of rarely.
 */
export const kSecondsMax = Math.floor((2 ** 31 - 1) / 1000);
/** Largest count (connections, elements, snapshots kept): counts index int32-sized arrays. */
export const kCountMax = 2 ** 31 - 1;
/** docs/behaviour.md (Data model): keys of at least 64 KiB must work (Skytable's bench sends 65,536 bytes). */
export const kKeyMaxBytesMin = 64 * 1024;
/** docs/behaviour.md (Data model): values of up to 64 MiB must work. */
export const kValueMaxBytesMin = 64 * 1024 * 1024;
/** A key and its value are stored as one record, which must fit one SharedArrayBuffer. */
export const kRecordBytesMax = kRecordHardMaxBytes;
/** Bytes of Skyhash/RESP framing a request needs around one key and one value (sizes, counts, action). */
export const kRequestFramingBytes = 1024;
/** The protocol parsers keep offsets in Int32Arrays and cap requests at 1 GiB. */
export const kRequestMaxBytesMax = kRequestMaxBytesCeiling;
/** The bound on request bytes buffered by all connections together: 1 MiB to 1 TiB. */
export const kRequestBuffersMaxBytesMin = 1024 * 1024;
export const kRequestBuffersMaxBytesMax = 1024 * 1024 * 1024 * 1024;
/** The fewest elements that still let SET/UPDATE (action, key, value) through. */
export const kQueryElementsMin = 3;
/**
 * Most persistence worker threads. Each worker reserves its own V8 heap (tens of MiB); past a
 * few hundred the pool costs more memory than any machine we target can use for encoding.
 */
export const kWorkerThreadsMax = 256;

// ---- the registry ----

export interface FlagSpec {
  /** `--snapevery`. */
  long: string;
  /** `-S`. */
  short?: string;
  /** Placeholder in the help text (`SECONDS`); absent for switches. */
  valueName?: string;
  /** A switch takes no value and sets this one (`--nosave` sets `bgsave.enabled` to false). */
  switchValue?: boolean;
}

export interface KeySpec {
  /** The key path, with TOML names: `snapshot.every`. */
  path: string;
  /** Where the value lives in FrostConfig: `['snapshot', 'every']`. */
  target: readonly [keyof FrostConfig] | readonly [keyof FrostConfig, string];
  kind: ValueKind<unknown>;
  /** False for settings that only a flag can give (`--restore`). */
  inFile: boolean;
  env?: string;
  flag?: FlagSpec;
  /** Never echo the value (in errors, provenance lines or logs). */
  secret?: boolean;
  /** Setting this key (in file section, env or flags) turns RESP on unless `resp.enabled` is given at that level. */
  impliesResp?: boolean;
  /** Holds a path that load.ts resolves against the working directory. */
  isPath?: boolean;
  doc: {
    meaning: string;
    /** The unit of a number ("seconds", "bytes"), when it has one. */
    unit?: string;
    /** How the default reads in docs ("2003", "none", "off"). */
    defaultText: string;
    /** Where Skytable 0.7 had this key, or that it is frostkv's own. */
    origin: 'skytable' | 'frostkv';
  };
}

const seconds = (min: number) => integerKind({ min, max: kSecondsMax, unit: 'seconds' });
const count = (min: number) => integerKind({ min, max: kCountMax });

export const kKeys: readonly KeySpec[] = [
  // [server]
  {
    path: 'server.host',
    target: ['server', 'host'],
    kind: kHostKind as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_SYSTEM_HOST',
    flag: { long: '--host', valueName: 'HOST' },
    doc: { meaning: 'Address the Skyhash listeners (plain and TLS) bind to.', defaultText: '127.0.0.1', origin: 'skytable' },
  },
  {
    path: 'server.port',
    target: ['server', 'port'],
    kind: kPortKind as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_SYSTEM_PORT',
    flag: { long: '--port', short: '-p', valueName: 'PORT' },
    doc: {
      unit: 'TCP port',
      meaning: 'TCP port of the plain-text Skyhash listener.',
      defaultText: '2003',
      origin: 'skytable',
    },
  },
  {
    path: 'server.noart',
    target: ['server', 'noart'],
    kind: kBoolKind as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_SYSTEM_NOART',
    flag: { long: '--noart', switchValue: true },
    doc: { meaning: 'Do not print the startup artwork (use when running as a service).', defaultText: 'false', origin: 'skytable' },
  },
  {
    path: 'server.maxclient',
    target: ['server', 'maxclient'],
    kind: count(1) as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_SYSTEM_MAXCON',
    flag: { long: '--maxcon', valueName: 'N' },
    doc: {
      unit: 'connections',
      meaning: 'Most client connections served at once (all listeners together); one more gets an error (RESP `-ERR max number of clients reached`, Skyhash `err-max-clients-reached`) and is closed. Lowered at start-up, and logged, when the open-files limit (raised toward its hard limit first) cannot hold it. The file also accepts `maxcon`.',
      defaultText: '50000',
      origin: 'skytable',
    },
  },
  {
    path: 'server.mode',
    target: ['server', 'mode'],
    kind: enumKind(['dev', 'prod'] as const) as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_DEPLOY_MODE',
    flag: { long: '--mode', valueName: 'dev|prod' },
    doc: { meaning: 'Deployment mode; `prod` refuses to start unless the production rules hold (frostkv --help lists them).', defaultText: 'dev', origin: 'skytable' },
  },
  {
    path: 'server.data_dir',
    target: ['server', 'dataDir'],
    kind: kPathKind as ValueKind<unknown>,
    inFile: true,
    isPath: true,
    env: 'SKY_DATA_DIR',
    flag: { long: '--data-dir', valueName: 'DIR' },
    doc: { meaning: 'Data directory (live save, snapshots, backups, lock file); relative to the working directory.', defaultText: './data', origin: 'frostkv' },
  },
  // [bgsave]
  {
    path: 'bgsave.enabled',
    target: ['bgsave', 'enabled'],
    kind: kBoolKind as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_BGSAVE_ENABLED',
    flag: { long: '--nosave', switchValue: false },
    doc: {
      meaning: 'Periodic live save to data/ks, and the final save at shutdown. Disabled, a crash or restart loses everything written since start.',
      defaultText: 'true',
      origin: 'skytable',
    },
  },
  {
    path: 'bgsave.every',
    target: ['bgsave', 'every'],
    kind: seconds(1) as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_BGSAVE_DURATION',
    flag: { long: '--saveduration', short: '-S', valueName: 'SECONDS' },
    doc: {
      unit: 'seconds',
      meaning: 'Seconds from the start of one live save to the start of the next.',
      defaultText: '120',
      origin: 'skytable',
    },
  },
  // [snapshot]
  {
    path: 'snapshot.every',
    target: ['snapshot', 'every'],
    kind: seconds(1) as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_SNAPSHOT_DURATION',
    flag: { long: '--snapevery', valueName: 'SECONDS' },
    doc: {
      unit: 'seconds',
      meaning: 'Seconds between periodic local snapshots (data/snaps/<YYYYMMDD-HHMMSS>). Snapshots are on only when this and `snapshot.atmost` are both set.',
      defaultText: 'none (snapshots off)',
      origin: 'skytable',
    },
  },
  {
    path: 'snapshot.atmost',
    target: ['snapshot', 'atmost'],
    kind: count(0) as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_SNAPSHOT_KEEP',
    flag: { long: '--snapkeep', valueName: 'N' },
    doc: {
      unit: 'snapshots',
      meaning: 'Local snapshots to keep (oldest pruned first); 0 keeps all. Named snapshots (MKSNAP name) are never pruned.',
      defaultText: 'none (snapshots off)',
      origin: 'skytable',
    },
  },
  {
    path: 'snapshot.failsafe',
    target: ['snapshot', 'failsafe'],
    kind: kBoolKind as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_SNAPSHOT_FAILSAFE',
    flag: { long: '--stop-write-on-fail', valueName: 'BOOL' },
    doc: { meaning: 'Refuse writes (read-only state) after a periodic snapshot fails, until one succeeds.', defaultText: 'true', origin: 'skytable' },
  },
  // [ssl]
  {
    path: 'ssl.key',
    target: ['ssl', 'key'],
    kind: kPathKind as ValueKind<unknown>,
    inFile: true,
    isPath: true,
    env: 'SKY_TLS_KEY',
    flag: { long: '--sslkey', short: '-k', valueName: 'FILE' },
    doc: { meaning: 'PEM private key (unencrypted, or encrypted with its passphrase in `ssl.passin`). TLS is on when this and `ssl.chain` are both set: Skyhash then also listens with TLS on `ssl.port`, and RESP on `resp.tls_port` when set.', defaultText: 'none (TLS off)', origin: 'skytable' },
  },
  {
    path: 'ssl.chain',
    target: ['ssl', 'chain'],
    kind: kPathKind as ValueKind<unknown>,
    inFile: true,
    isPath: true,
    env: 'SKY_TLS_CERT',
    flag: { long: '--sslchain', short: '-z', valueName: 'FILE' },
    doc: { meaning: 'PEM certificate chain.', defaultText: 'none (TLS off)', origin: 'skytable' },
  },
  {
    path: 'ssl.port',
    target: ['ssl', 'port'],
    kind: kPortKind as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_TLS_PORT',
    flag: { long: '--sslport', valueName: 'PORT' },
    doc: {
      unit: 'TCP port',
      meaning: 'TCP port of the TLS Skyhash listener.',
      defaultText: '2004',
      origin: 'skytable',
    },
  },
  {
    path: 'ssl.only',
    target: ['ssl', 'only'],
    kind: kBoolKind as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_TLS_ONLY',
    flag: { long: '--sslonly', switchValue: true },
    doc: { meaning: 'Serve TLS only: no plain-text Skyhash listener.', defaultText: 'false', origin: 'skytable' },
  },
  {
    path: 'ssl.passin',
    target: ['ssl', 'passin'],
    kind: kPathKind as ValueKind<unknown>,
    inFile: true,
    isPath: true,
    env: 'SKY_TLS_PASSIN',
    flag: { long: '--tlspassin', valueName: 'FILE' },
    doc: { meaning: 'File whose first line is the passphrase of an encrypted `ssl.key` (read at start-up; Skytable 0.7.3+ ignored this flag, frostkv honours it).', defaultText: 'none', origin: 'skytable' },
  },
  // [auth]
  {
    path: 'auth.origin_key',
    target: ['auth', 'originKey'],
    kind: kOriginKeyKind as ValueKind<unknown>,
    inFile: true,
    secret: true,
    env: 'SKY_AUTH_ORIGIN_KEY',
    flag: { long: '--auth-origin-key', valueName: 'KEY' },
    doc: { meaning: 'Origin key (exactly 40 ASCII letters and digits) used to claim root (AUTH CLAIM) and to restore lost tokens; setting it turns auth on for Skyhash and RESP.', defaultText: 'none (auth off)', origin: 'skytable' },
  },
  // [resp]
  {
    path: 'resp.enabled',
    target: ['resp', 'enabled'],
    kind: kBoolKind as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_RESP_ENABLED',
    flag: { long: '--resp', switchValue: true },
    doc: {
      meaning: 'Serve RESP2 (redis-cli, ioredis, ...). A [resp] section, or any other RESP variable or flag, turns it on unless this says false.',
      defaultText: 'false',
      origin: 'frostkv',
    },
  },
  {
    path: 'resp.host',
    target: ['resp', 'host'],
    kind: kHostKind as ValueKind<unknown>,
    inFile: true,
    impliesResp: true,
    env: 'SKY_RESP_HOST',
    flag: { long: '--resp-host', valueName: 'HOST' },
    doc: { meaning: 'Address the RESP listeners (plain and TLS) bind to.', defaultText: '127.0.0.1', origin: 'frostkv' },
  },
  {
    path: 'resp.port',
    target: ['resp', 'port'],
    kind: kPortKind as ValueKind<unknown>,
    inFile: true,
    impliesResp: true,
    env: 'SKY_RESP_PORT',
    flag: { long: '--resp-port', valueName: 'PORT' },
    doc: {
      unit: 'TCP port',
      meaning: 'TCP port of the RESP listener.',
      defaultText: '6379',
      origin: 'frostkv',
    },
  },
  {
    path: 'resp.tls_port',
    target: ['resp', 'tlsPort'],
    kind: kPortKind as ValueKind<unknown>,
    inFile: true,
    impliesResp: true,
    env: 'SKY_RESP_TLS_PORT',
    flag: { long: '--resp-tls-port', valueName: 'PORT' },
    doc: {
      unit: 'TCP port',
      meaning: "TCP port of the RESP TLS listener (Redis's `tls-port`), serving with `[ssl]`'s key and chain, which must be set. The plain `resp.port` stays open beside it.",
      defaultText: 'none (no RESP TLS listener)',
      origin: 'frostkv',
    },
  },
  {
    path: 'resp.table',
    target: ['resp', 'table'],
    kind: kEntityKind as ValueKind<unknown>,
    inFile: true,
    impliesResp: true,
    env: 'SKY_RESP_TABLE',
    flag: { long: '--resp-table', valueName: 'KS:TBL' },
    doc: { meaning: 'The one table RESP commands read and write, as `keyspace:table`.', defaultText: 'default:default', origin: 'frostkv' },
  },
  // [limits]
  {
    path: 'limits.key_max_bytes',
    target: ['limits', 'keyMaxBytes'],
    kind: integerKind({ min: kKeyMaxBytesMin, max: kRecordBytesMax, unit: 'bytes' }) as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_LIMITS_KEY_MAX_BYTES',
    doc: {
      unit: 'bytes',
      meaning: 'Largest key accepted, in bytes (at least 65536).',
      defaultText: '1048576 (1 MiB)',
      origin: 'frostkv',
    },
  },
  {
    path: 'limits.value_max_bytes',
    target: ['limits', 'valueMaxBytes'],
    kind: integerKind({ min: kValueMaxBytesMin, max: kRecordBytesMax, unit: 'bytes' }) as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_LIMITS_VALUE_MAX_BYTES',
    doc: {
      unit: 'bytes',
      meaning: 'Largest value accepted, in bytes (at least 67108864 = 64 MiB).',
      defaultText: '67108864 (64 MiB)',
      origin: 'frostkv',
    },
  },
  {
    path: 'limits.request_max_bytes',
    target: ['limits', 'requestMaxBytes'],
    kind: integerKind({ min: kKeyMaxBytesMin + kValueMaxBytesMin + kRequestFramingBytes, max: kRequestMaxBytesMax, unit: 'bytes' }) as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_LIMITS_REQUEST_MAX_BYTES',
    doc: {
      unit: 'bytes',
      meaning: `Largest request (one Skyhash packet or one RESP command), in bytes; at least key_max_bytes + value_max_bytes + ${kRequestFramingBytes}.`,
      defaultText: '134217728 (128 MiB)',
      origin: 'frostkv',
    },
  },
  {
    path: 'limits.query_elements_max',
    target: ['limits', 'queryElementsMax'],
    kind: count(kQueryElementsMin) as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_LIMITS_QUERY_ELEMENTS_MAX',
    doc: {
      unit: 'elements',
      meaning: 'Most elements in one query (action included) or arguments in one RESP command.',
      defaultText: '1048576',
      origin: 'frostkv',
    },
  },
  {
    path: 'limits.pipeline_queries_max',
    target: ['limits', 'pipelineQueriesMax'],
    kind: count(1) as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_LIMITS_PIPELINE_QUERIES_MAX',
    doc: {
      unit: 'queries',
      meaning: 'Most queries in one Skyhash pipeline.',
      defaultText: '65536',
      origin: 'frostkv',
    },
  },
  {
    path: 'limits.request_buffers_max_bytes',
    target: ['limits', 'requestBuffersMaxBytes'],
    kind: integerKind({ min: kRequestBuffersMaxBytesMin, max: kRequestBuffersMaxBytesMax, unit: 'bytes' }) as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_LIMITS_REQUEST_BUFFERS_MAX_BYTES',
    doc: {
      unit: 'bytes',
      meaning: 'Most request bytes all connections together may hold while their requests arrive; past it the connections holding the most are closed with an error.',
      defaultText: '1073741824 (1 GiB)',
      origin: 'frostkv',
    },
  },
  {
    path: 'limits.idle_timeout_seconds',
    target: ['limits', 'idleTimeoutSeconds'],
    kind: seconds(0) as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_LIMITS_IDLE_TIMEOUT_SECONDS',
    doc: {
      unit: 'seconds',
      meaning: 'Close a connection that sent nothing for this long; 0 never closes idle connections.',
      defaultText: '0 (never)',
      origin: 'frostkv',
    },
  },
  {
    path: 'limits.request_timeout_seconds',
    target: ['limits', 'requestTimeoutSeconds'],
    kind: seconds(1) as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_LIMITS_REQUEST_TIMEOUT_SECONDS',
    doc: {
      unit: 'seconds',
      meaning: 'Close a connection whose request is still incomplete after this long.',
      defaultText: '60',
      origin: 'frostkv',
    },
  },
  // [workers]
  {
    path: 'workers.threads',
    target: ['workers', 'threads'],
    kind: integerKind({ min: 0, max: kWorkerThreadsMax }) as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_WORKERS_THREADS',
    flag: { long: '--workers', valueName: 'N' },
    doc: {
      unit: 'threads',
      meaning: 'Persistence worker threads (encode/decode of saves); 0 means one per CPU core.',
      defaultText: '0 (one per core)',
      origin: 'frostkv',
    },
  },
  // [log]
  {
    path: 'log.format',
    target: ['log', 'format'],
    kind: enumKind(['pretty', 'json'] as const) as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_LOG_FORMAT',
    flag: { long: '--log-format', valueName: 'pretty|json' },
    doc: { meaning: 'Log line format: `pretty` for people, `json` (one object per line) for collectors.', defaultText: 'pretty', origin: 'frostkv' },
  },
  {
    path: 'log.level',
    target: ['log', 'level'],
    kind: enumKind(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const) as ValueKind<unknown>,
    inFile: true,
    env: 'SKY_LOG_LEVEL',
    flag: { long: '--log-level', valueName: 'LEVEL' },
    doc: { meaning: 'Least severe level logged: fatal, error, warn, info, debug, trace, or silent.', defaultText: 'info', origin: 'frostkv' },
  },
  // flag only
  {
    path: 'restore',
    target: ['restore'],
    kind: kPathKind as ValueKind<unknown>,
    inFile: false,
    isPath: true,
    flag: { long: '--restore', short: '-r', valueName: 'DIR' },
    doc: {
      meaning: 'Verify save folder DIR completely, move data/ks to data/backups/<time>, install DIR as the live save, and start on it.',
      defaultText: 'none',
      origin: 'skytable',
    },
  },
];

/** The sections a config file may have, in documentation order. */
export const kSections = ['server', 'bgsave', 'snapshot', 'ssl', 'auth', 'resp', 'limits', 'workers', 'log'] as const;

/** `[server] maxcon`: the name Skytable's docs and template used, which skyd itself silently ignored. */
export const kMaxconAlias = 'server.maxcon';

/**
 * Skytable 0.7.6 added a protocol switch (Skyhash 1.0/1.1/1.2/2.0): `[server] protocol`,
 * `--protover`, SKY_PROTOCOL_VERSION. frostkv speaks Skyhash 1.x only, so these are refused
 * (or, for the variable, warned about) with this explanation rather than as plain typos.
 */
export const kProtocolNote = "Skytable 0.7.6's protocol switch is not supported: frostkv speaks Skyhash 1.x only; remove it";
export const kUnsupportedSkytableNames: ReadonlySet<string> = new Set(['server.protocol', '--protover', 'SKY_PROTOCOL_VERSION']);

export const kKeysByPath: ReadonlyMap<string, KeySpec> = new Map(kKeys.map((spec) => [spec.path, spec]));
export const kKeysByEnv: ReadonlyMap<string, KeySpec> = new Map(
  kKeys.filter((spec) => spec.env !== undefined).map((spec) => [spec.env as string, spec]),
);

export function getAt(config: FrostConfig, spec: KeySpec): unknown {
  const [section, field] = spec.target;
  const top = config[section] as unknown;
  if (field === undefined) return top;
  return (top as Record<string, unknown>)[field];
}

export function setAt(config: FrostConfig, spec: KeySpec, value: unknown): void {
  const [section, field] = spec.target;
  if (field === undefined) {
    (config as unknown as Record<string, unknown>)[section] = value;
    return;
  }
  (config[section] as unknown as Record<string, unknown>)[field] = value;
}

/** The closest of `candidates` to `name` by edit distance, if it is close enough to be a typo. */
export function suggest(name: string, candidates: Iterable<string>): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const allowed = Math.max(2, Math.floor(name.length / 3));
  return bestDistance <= allowed ? best : null;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
