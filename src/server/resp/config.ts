/**
 * RESP CONFIG parameters: Redis 7.0's names, aliases, value kinds and CONFIG SET errors, over
 * three kinds of parameter (docs/decisions.md, "RESP: INFO, CONFIG, COMMAND DOCS"):
 *
 * - `fact`: frostkv's own setting under Redis's name (port, bind, maxclients, save, timeout,
 *   proto-max-bulk-len, ...). Fixed while the server runs: CONFIG SET of the value in force
 *   is accepted (nothing changes), any other value is refused as immutable.
 * - `immutable`: immutable in Redis too (daemonize, databases, replicaof): always refused.
 * - `stored`: a Redis tuning knob of internals frostkv does not have (encodings, lazyfree,
 *   rehashing, defrag, LFU, hz, ...) or a limit frostkv does not enforce (maxmemory-clients,
 *   client-query-buffer-limit): validated as Redis validates it, kept per server and answered
 *   by CONFIG GET, with no effect on frostkv. `maxmemory` is stored the same way and enforced
 *   with Redis's noeviction policy by src/server/resp/oom.ts.
 *
 * Guarantees:
 * - CONFIG SET is all or nothing: every name is looked up and every value checked before any
 *   is stored; errors use Redis 7.0's texts (unknown option, immutable, duplicate parameter,
 *   the value's own error) and name the first offending argument.
 * - CONFIG GET matches names and aliases case-insensitively (glob patterns too); hidden
 *   parameters answer only when asked by exact name, as in Redis.
 */

import type { Database } from '../../database.js';
import type { ServerStats, ServerView } from '../stats.js';
import { kRespDatabaseCount } from './databases.js';
import { globMatch } from './glob.js';

type Kind = 'fact' | 'immutable' | 'stored';

/** How a value is read and checked (Redis's numeric, bool, enum and string configs). */
type ValueSpec =
  | { readonly type: 'int'; readonly min: bigint; readonly max: bigint; readonly memory?: boolean; readonly percent?: boolean }
  | { readonly type: 'bool' }
  | { readonly type: 'enum'; readonly values: readonly string[] }
  | { readonly type: 'string' };

interface ParamDef {
  readonly name: string;
  readonly alias?: string;
  readonly kind: Kind;
  readonly spec: ValueSpec;
  /** The value at start (for `fact`: computed from frostkv's configuration). */
  readonly initial: string | ((facts: ConfigFacts) => string);
  readonly hidden?: boolean;
}

/** What the `fact` parameters are read from. */
export interface ConfigFacts {
  readonly db: Database;
  readonly view: ServerView;
}

const kIntMax = 2n ** 31n - 1n;
const kIntMin = -(2n ** 31n);
const kLongMax = 2n ** 63n - 1n;
const kUintMax = 2n ** 32n - 1n;
const kUllMax = 2n ** 64n - 1n;

const int = (min: bigint, max: bigint): ValueSpec => ({ type: 'int', min, max });
const memory = (min: bigint, max: bigint, percent = false): ValueSpec => ({ type: 'int', min, max, memory: true, percent });
const bool: ValueSpec = { type: 'bool' };
const text: ValueSpec = { type: 'string' };

const stored = (name: string, spec: ValueSpec, initial: string, alias?: string): ParamDef => ({ name, spec, initial, kind: 'stored', ...(alias === undefined ? {} : { alias }) });

/** Every parameter, in the order CONFIG GET * lists them. */
const kParams: readonly ParamDef[] = [
  // frostkv's settings under Redis's names.
  { name: 'port', kind: 'fact', spec: int(0n, 65535n), initial: ({ view }) => String(view.respPort()) },
  { name: 'bind', kind: 'fact', spec: text, initial: ({ db }) => db.config.resp.host },
  { name: 'maxclients', kind: 'fact', spec: int(1n, kUintMax), initial: ({ view }) => String(view.maxclient()) },
  { name: 'timeout', kind: 'fact', spec: int(0n, kIntMax), initial: ({ db }) => String(db.config.limits.idleTimeoutSeconds) },
  { name: 'proto-max-bulk-len', kind: 'fact', spec: memory(1024n * 1024n, kLongMax), initial: ({ db }) => String(db.config.limits.valueMaxBytes) },
  { name: 'save', kind: 'fact', spec: text, initial: ({ db }) => (db.config.bgsave.enabled ? `${db.config.bgsave.every} 1` : '') },
  { name: 'appendonly', kind: 'fact', spec: bool, initial: 'no' },
  { name: 'stop-writes-on-bgsave-error', kind: 'fact', spec: bool, initial: 'yes' },
  { name: 'dir', kind: 'fact', spec: text, initial: ({ db }) => db.persistence?.dataDir ?? '' },
  { name: 'dbfilename', kind: 'fact', spec: text, initial: 'ks' },
  // Immutable in Redis as well.
  { name: 'daemonize', kind: 'immutable', spec: bool, initial: 'no' },
  { name: 'databases', kind: 'immutable', spec: int(1n, kIntMax), initial: String(kRespDatabaseCount) },
  { name: 'replicaof', alias: 'slaveof', kind: 'immutable', spec: text, initial: '' },
  { name: 'cluster-enabled', kind: 'immutable', spec: bool, initial: 'no' },
  // Limits frostkv keeps under its own names and does not enforce under these.
  stored('maxmemory', memory(0n, kUllMax), '0'),
  { name: 'maxmemory-policy', kind: 'stored', spec: { type: 'enum', values: ['noeviction'] }, initial: 'noeviction' },
  stored('maxmemory-clients', memory(-100n, kLongMax, true), '0'),
  stored('client-query-buffer-limit', memory(1024n * 1024n, kLongMax), String(1024 * 1024 * 1024)),
  // Tuning of Redis's internals.
  stored('maxmemory-samples', int(1n, kIntMax), '5'),
  stored('maxmemory-eviction-tenacity', int(0n, 100n), '10'),
  stored('hash-max-listpack-entries', int(0n, kLongMax), '512', 'hash-max-ziplist-entries'),
  stored('hash-max-listpack-value', memory(0n, kLongMax), '64', 'hash-max-ziplist-value'),
  stored('list-max-listpack-size', int(kIntMin, kIntMax), '-2', 'list-max-ziplist-size'),
  stored('list-compress-depth', int(0n, kIntMax), '0'),
  stored('set-max-intset-entries', int(0n, kLongMax), '512'),
  stored('zset-max-listpack-entries', int(0n, kLongMax), '128', 'zset-max-ziplist-entries'),
  stored('zset-max-listpack-value', memory(0n, kLongMax), '64', 'zset-max-ziplist-value'),
  stored('hll-sparse-max-bytes', memory(0n, kLongMax), '3000'),
  stored('stream-node-max-bytes', memory(0n, kLongMax), '4096'),
  stored('stream-node-max-entries', int(0n, kLongMax), '100'),
  stored('activerehashing', bool, 'yes'),
  stored('hz', int(0n, kIntMax), '10'),
  stored('dynamic-hz', bool, 'yes'),
  stored('active-expire-effort', int(1n, 10n), '1'),
  stored('lazyfree-lazy-eviction', bool, 'no'),
  stored('lazyfree-lazy-expire', bool, 'no'),
  stored('lazyfree-lazy-server-del', bool, 'no'),
  stored('lazyfree-lazy-user-del', bool, 'no'),
  stored('lazyfree-lazy-user-flush', bool, 'no'),
  stored('activedefrag', bool, 'no'),
  stored('active-defrag-ignore-bytes', memory(1n, kLongMax), String(100 * 1024 * 1024)),
  stored('active-defrag-threshold-lower', int(0n, 1000n), '10'),
  stored('active-defrag-threshold-upper', int(0n, 1000n), '100'),
  stored('active-defrag-cycle-min', int(1n, 99n), '1'),
  stored('active-defrag-cycle-max', int(1n, 99n), '25'),
  stored('active-defrag-max-scan-fields', int(1n, kLongMax), '1000'),
  stored('jemalloc-bg-thread', bool, 'yes'),
  stored('lfu-log-factor', int(0n, kIntMax), '10'),
  stored('lfu-decay-time', int(0n, kIntMax), '1'),
  stored('tracking-table-max-keys', int(0n, kLongMax), '1000000'),
  stored('repl-backlog-size', memory(1n, kLongMax), String(1024 * 1024)),
  stored('repl-backlog-ttl', int(0n, kLongMax), '3600'),
  stored('rdbcompression', bool, 'yes'),
  stored('rdb-save-incremental-fsync', bool, 'yes'),
  stored('busy-reply-threshold', int(0n, kLongMax), '5000', 'lua-time-limit'),
  stored('slowlog-log-slower-than', int(-1n, kLongMax), '10000'),
  stored('slowlog-max-len', int(0n, kLongMax), '128'),
  stored('latency-monitor-threshold', int(0n, kLongMax), '0'),
  { ...stored('key-load-delay', int(kIntMin, kIntMax), '0'), hidden: true },
  { ...stored('rdb-key-save-delay', int(kIntMin, kIntMax), '0'), hidden: true },
];

/** Name or alias (lower case) -> parameter. */
const kByName = new Map<string, ParamDef>();
for (const param of kParams) {
  kByName.set(param.name, param);
  if (param.alias !== undefined) kByName.set(param.alias, param);
}

/** Redis's memtoull: digits, then optional b, k, kb, m, mb, g, gb (k = 1000, kb = 1024). */
function parseMemory(value: string): bigint | null {
  const match = /^(-?\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(value);
  if (match === null) return null;
  const units: Record<string, bigint> = { b: 1n, k: 1000n, kb: 1024n, m: 1000n ** 2n, mb: 1024n ** 2n, g: 1000n ** 3n, gb: 1024n ** 3n };
  const digits = BigInt(match[1] as string);
  if (digits < 0n) return null;
  return digits * (units[(match[2] ?? 'b').toLowerCase()] as bigint);
}

function parseInteger(value: string): bigint | null {
  return /^-?\d{1,20}$/.test(value) ? BigInt(value) : null;
}

/** The value as CONFIG GET answers it, or Redis's error text for it. */
export function normalize(spec: ValueSpec, value: string): { value: string } | { error: string } {
  switch (spec.type) {
    case 'bool': {
      const lower = value.toLowerCase();
      return lower === 'yes' || lower === 'no' ? { value: lower } : { error: "argument must be 'yes' or 'no'" };
    }
    case 'enum': {
      const lower = value.toLowerCase();
      return spec.values.includes(lower) ? { value: lower } : { error: `argument(s) must be one of the following: ${spec.values.join(', ')}` };
    }
    case 'string':
      return { value };
    case 'int': {
      let parsed = spec.memory === true ? parseMemory(value) : null;
      if (parsed === null && spec.percent === true && value.length > 1 && value.endsWith('%')) {
        const percent = parseInteger(value.slice(0, -1));
        if (percent !== null && percent >= 0n) {
          if (-percent < spec.min) return { error: `percentage argument must be less or equal to ${-spec.min}` };
          return { value: `${percent}%` };
        }
      }
      if (parsed === null && spec.memory !== true) parsed = parseInteger(value);
      if (parsed === null) {
        if (spec.memory === true) return { error: spec.percent === true ? 'argument must be a memory or percent value' : 'argument must be a memory value' };
        return { error: "argument couldn't be parsed into an integer" };
      }
      if (parsed < spec.min || parsed > spec.max) return { error: `argument must be between ${spec.min} and ${spec.max} inclusive` };
      return { value: parsed.toString() };
    }
  }
}

/** One server's parameter values. */
export class ConfigStore {
  private readonly values = new Map<ParamDef, string>();
  private readonly facts: ConfigFacts;
  /** `maxmemory` in bytes, kept as a number: every write command checks it (oom.ts). */
  maxmemoryBytes = 0;

  constructor(facts: ConfigFacts) {
    this.facts = facts;
  }

  private value(param: ParamDef): string {
    if (param.kind === 'fact') return typeof param.initial === 'string' ? param.initial : param.initial(this.facts);
    return this.values.get(param) ?? (typeof param.initial === 'string' ? param.initial : param.initial(this.facts));
  }

  /**
   * CONFIG GET: [name, value] pairs, names and aliases each once. An exact name is answered as
   * the client spelled it, a pattern's matches in lower case (as Redis).
   */
  get(patterns: readonly string[]): Array<[string, string]> {
    /** Lower-case name -> [name as answered, value]. */
    const out = new Map<string, [string, string]>();
    for (const asked of patterns) {
      const lower = asked.toLowerCase();
      if (!/[*?[]/.test(asked)) {
        const param = kByName.get(lower);
        if (param !== undefined && !out.has(lower)) out.set(lower, [asked, this.value(param)]);
        continue;
      }
      const pattern = Buffer.from(lower);
      for (const [name, param] of kByName) {
        if (param.hidden === true || out.has(name)) continue;
        if (globMatch(pattern, Buffer.from(name))) out.set(name, [name, this.value(param)]);
      }
    }
    return [...out.values()];
  }

  /** CONFIG SET name value [name value ...]: null when stored, else Redis's error text. */
  set(pairs: ReadonlyArray<readonly [string, string]>): string | null {
    const chosen: Array<[ParamDef, string]> = [];
    for (const [name] of pairs) {
      if (!kByName.has(name.toLowerCase())) return `ERR Unknown option or number of arguments for CONFIG SET - '${name}'`;
    }
    for (const [name, raw] of pairs) {
      const param = kByName.get(name.toLowerCase()) as ParamDef;
      if (param.kind === 'immutable') return failed(name, "can't set immutable config");
      if (chosen.some(([seen]) => seen === param)) return failed(name, 'duplicate parameter');
      chosen.push([param, raw]);
    }
    const next: Array<[ParamDef, string]> = [];
    for (const [param, raw] of chosen) {
      const checked = normalize(param.spec, raw);
      if ('error' in checked) return failed(param.name, checked.error);
      if (param.kind === 'fact' && checked.value !== normalizedCurrent(param, this.value(param))) return failed(param.name, "can't set immutable config");
      next.push([param, checked.value]);
    }
    for (const [param, value] of next) if (param.kind === 'stored') this.values.set(param, value);
    this.maxmemoryBytes = Number(this.current('maxmemory'));
    return null;
  }

  /** The value in force of a parameter by its canonical name. */
  current(name: string): string {
    const param = kByName.get(name);
    if (param === undefined) throw new Error(`no CONFIG parameter ${name}`);
    return this.value(param);
  }
}

function normalizedCurrent(param: ParamDef, current: string): string {
  const checked = normalize(param.spec, current);
  return 'value' in checked ? checked.value : current;
}

function failed(name: string, why: string): string {
  return `ERR CONFIG SET failed (possibly related to argument '${name}') - ${why}`;
}

const kStores = new WeakMap<ServerStats, ConfigStore>();

/** The parameter store of the server `view` describes (one per server). */
export function configStore(facts: ConfigFacts): ConfigStore {
  let store = kStores.get(facts.view.stats);
  if (store === undefined) {
    store = new ConfigStore(facts);
    kStores.set(facts.view.stats, store);
  }
  return store;
}

/** `maxmemory` in bytes (0: no limit), without a string lookup: the request path reads it. */
export function maxmemoryBytes(stats: ServerStats): number {
  return kStores.get(stats)?.maxmemoryBytes ?? 0;
}

/** A stored parameter's value for INFO, before or without any CONFIG command (its default then). */
export function configValue(stats: ServerStats, name: string): string {
  const store = kStores.get(stats);
  if (store !== undefined) return store.current(name);
  const param = kByName.get(name);
  if (param === undefined || typeof param.initial !== 'string') throw new Error(`no stored CONFIG parameter ${name}`);
  return param.initial;
}
