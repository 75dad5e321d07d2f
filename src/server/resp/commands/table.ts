/**
 * The declarative RESP command table: every command's name, Redis arity, flags, key positions,
 * group, ACL categories, tips, optional COMMAND DOCS data, subcommands and handler, and the
 * COMMAND INFO / COMMAND DOCS replies generated from it.
 *
 * Guarantees:
 * - One definition per command (family files: strings.ts, keyspace.ts, expiry.ts, hashes.ts,
 *   transactions.ts, connection.ts, server.ts); the driver checks arity, auth (`no_auth`),
 *   the read-only state (`write`), MULTI (`no_multi`) and CLIENT PAUSE from this table alone.
 * - A name is registered once (a duplicate throws at start-up); lookups are case-insensitive
 *   and also accept Redis 7's `container|sub` full names (COMMAND INFO client|list).
 * - COMMAND INFO entries have Redis 7's ten fields (name, arity, flags, first key, last key,
 *   step, ACL categories, tips, key specs, subcommands), flags and categories in Redis's order,
 *   categories completed as Redis does (write, read, admin + dangerous, fast, else slow).
 */

import type { ArgView } from '../../../protocol/args.js';
import type { RespWriter } from '../../../protocol/resp/writer.js';
import type { RespCommand } from './context.js';

/** Redis 7 command flags, in the order COMMAND INFO lists them. */
const kFlagOrder = [
  'write', 'readonly', 'denyoom', 'admin', 'pubsub', 'noscript', 'blocking', 'loading', 'stale',
  'skip_monitor', 'skip_slowlog', 'asking', 'fast', 'no_auth', 'no_mandatory_keys', 'no_async_loading',
  'no_multi', 'movablekeys', 'allow_busy',
] as const;
export type CommandFlag = (typeof kFlagOrder)[number];

/** Redis 7 ACL categories, in the order COMMAND INFO lists them. */
const kCategoryOrder = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog',
  'geo', 'stream', 'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection', 'transaction',
  'scripting',
] as const;
export type AclCategory = (typeof kCategoryOrder)[number];

/** Redis 7 key-spec flags (COMMAND INFO lists them in this order). */
const kKeyFlagOrder = ['RO', 'RW', 'OW', 'RM', 'access', 'update', 'insert', 'delete', 'not_key', 'incomplete', 'variable_flags'] as const;
export type KeyFlag = (typeof kKeyFlagOrder)[number];

/** Redis 7's command groups (COMMAND DOCS `group`). */
export type CommandGroup =
  | 'bitmap' | 'cluster' | 'connection' | 'generic' | 'geo' | 'hash' | 'hyperloglog' | 'list' | 'pubsub'
  | 'scripting' | 'sentinel' | 'server' | 'set' | 'sorted-set' | 'stream' | 'string' | 'transactions';

/** Where a command's keys are: from argument `first` to `last` (negative: from the end) every `step`. */
export interface KeyPositions {
  readonly first: number;
  readonly last: number;
  readonly step: number;
  readonly flags: readonly KeyFlag[];
}

/** COMMAND DOCS data: strings are bulk strings, numbers integers, arrays arrays, objects maps. */
export type DocValue = string | number | readonly DocValue[] | { readonly [field: string]: DocValue };

export interface CommandDocs {
  readonly summary?: string;
  readonly since?: string;
  readonly complexity?: string;
  readonly history?: DocValue;
  readonly arguments?: DocValue;
}

/** What a family file writes for one command (or subcommand). */
export interface CommandDefinition {
  /** Lower case, as Redis reports it; a subcommand's own name (`list` under `client`). */
  readonly name: string;
  /** Redis arity: positive is the exact argument count including the name, negative a minimum. */
  readonly arity: number;
  readonly flags: readonly CommandFlag[];
  readonly group: CommandGroup;
  /** Categories beyond the ones Redis derives from the flags (its JSON `acl_categories`). */
  readonly acl?: readonly AclCategory[];
  readonly keys?: KeyPositions;
  /** COMMAND INFO's key specs when a command's keys differ in flags (RENAME, COPY); else `keys`. */
  readonly keySpecs?: readonly KeyPositions[];
  readonly tips?: readonly string[];
  readonly docs?: CommandDocs;
  /** The handler; a container command (CLIENT, CONFIG) has subcommands instead, or both (COMMAND runs alone). */
  readonly run?: RespCommand;
  readonly subcommands?: readonly CommandDefinition[];
}

/** A resolved table entry, with the checks the driver makes precomputed. */
export interface CommandEntry {
  /** `get`, `client|list`. */
  readonly fullName: string;
  readonly definition: CommandDefinition;
  readonly arity: number;
  readonly write: boolean;
  readonly noAuth: boolean;
  readonly noMulti: boolean;
  /** Refused with -OOM while memory in use is above maxmemory (Redis's CMD_DENYOOM). */
  readonly denyOom: boolean;
  /** Held by CLIENT PAUSE WRITE (Redis: write or may-replicate). */
  readonly pausedByWrite: boolean;
  readonly categories: readonly AclCategory[];
  readonly run: RespCommand | null;
  /** Upper-case subcommand name -> entry. */
  readonly subcommands: ReadonlyMap<string, CommandEntry> | null;
  readonly parent: CommandEntry | null;
}

/** Spell a key spec (the common cases: one key; every key to the end; pairs). */
export function keyAt(first: number, flags: readonly KeyFlag[], last = first, step = 1): KeyPositions {
  return { first, last, step, flags };
}

function categoriesOf(definition: CommandDefinition): AclCategory[] {
  const set = new Set<AclCategory>(definition.acl ?? []);
  const flags = new Set(definition.flags);
  if (flags.has('write')) set.add('write');
  if (flags.has('readonly')) set.add('read');
  if (flags.has('admin')) {
    set.add('admin');
    set.add('dangerous');
  }
  if (flags.has('pubsub')) set.add('pubsub');
  if (flags.has('fast')) set.add('fast');
  if (flags.has('blocking')) set.add('blocking');
  if (!set.has('fast')) set.add('slow');
  return kCategoryOrder.filter((category) => set.has(category));
}

function resolve(definition: CommandDefinition, parent: CommandEntry | null): CommandEntry {
  const fullName = parent === null ? definition.name : `${parent.fullName}|${definition.name}`;
  const flags = new Set(definition.flags);
  for (const flag of flags) if (!kFlagOrder.includes(flag)) throw new Error(`command ${fullName}: unknown flag ${flag}`);
  if (definition.run === undefined && definition.subcommands === undefined) throw new Error(`command ${fullName}: needs run or subcommands`);
  const subcommands = definition.subcommands === undefined ? null : new Map<string, CommandEntry>();
  const entry: CommandEntry = {
    fullName,
    definition,
    arity: definition.arity,
    write: flags.has('write'),
    noAuth: flags.has('no_auth'),
    noMulti: flags.has('no_multi'),
    denyOom: flags.has('denyoom'),
    pausedByWrite: flags.has('write'),
    categories: categoriesOf(definition),
    run: definition.run ?? null,
    subcommands,
    parent,
  };
  for (const sub of definition.subcommands ?? []) {
    const key = sub.name.toUpperCase();
    if (subcommands?.has(key)) throw new Error(`command ${fullName}: subcommand ${sub.name} defined twice`);
    subcommands?.set(key, resolve(sub, entry));
  }
  return entry;
}

/** ASCII letters folded to upper case; every other byte as it is (Redis compares names this way). */
function foldUpper(byte: number): number {
  return byte >= 0x61 && byte <= 0x7a ? byte - 0x20 : byte;
}

/** FNV-1a over the folded bytes: equal names in any letter case hash alike. */
function foldedHash(bytes: Uint8Array, offset: number, length: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < length; i++) hash = Math.imul(hash ^ foldUpper(bytes[offset + i] as number), 0x01000193);
  return hash >>> 0;
}

/**
 * Names found straight from a request's bytes, case-insensitively, with no string made per
 * lookup (decoding and upper-casing the name was a tenth of the dispatch cost of a GET).
 */
class NameIndex<T> {
  private readonly buckets = new Map<number, Array<{ upper: Uint8Array; value: T }>>();

  add(upperName: string, value: T): void {
    const upper = Buffer.from(upperName, 'latin1');
    const hash = foldedHash(upper, 0, upper.length);
    const bucket = this.buckets.get(hash);
    if (bucket === undefined) this.buckets.set(hash, [{ upper, value }]);
    else bucket.push({ upper, value });
  }

  find(bytes: Uint8Array, offset: number, length: number): T | undefined {
    const bucket = this.buckets.get(foldedHash(bytes, offset, length));
    if (bucket === undefined) return undefined;
    for (const { upper, value } of bucket) {
      if (upper.length !== length) continue;
      let i = 0;
      while (i < length && foldUpper(bytes[offset + i] as number) === upper[i]) i++;
      if (i === length) return value;
    }
    return undefined;
  }
}

export class CommandTable {
  private readonly byName = new Map<string, CommandEntry>();
  private readonly index = new NameIndex<CommandEntry>();
  private readonly subIndexes = new Map<CommandEntry, NameIndex<CommandEntry>>();
  /** The longest command or subcommand name in bytes: a longer name is unknown without a lookup. */
  readonly nameMaxBytes: number;

  constructor(families: ReadonlyArray<readonly CommandDefinition[]>) {
    for (const family of families) {
      for (const definition of family) {
        const key = definition.name.toUpperCase();
        if (this.byName.has(key)) throw new Error(`command ${definition.name} defined twice`);
        this.byName.set(key, resolve(definition, null));
      }
    }
    // Subcommand names count too (`getkeysandflags` is longer than any command name).
    const names = [...this.byName.values()].flatMap((entry) => [entry.fullName, ...[...(entry.subcommands?.keys() ?? [])]]);
    this.nameMaxBytes = Math.max(...names.map((name) => name.length));
    for (const [upper, entry] of this.byName) {
      this.index.add(upper, entry);
      if (entry.subcommands === null) continue;
      const subs = new NameIndex<CommandEntry>();
      for (const [subUpper, sub] of entry.subcommands) subs.add(subUpper, sub);
      this.subIndexes.set(entry, subs);
    }
  }

  /** Top-level commands, in name order. */
  get entries(): CommandEntry[] {
    return [...this.byName.values()].sort((a, b) => (a.fullName < b.fullName ? -1 : 1));
  }

  get size(): number {
    return this.byName.size;
  }

  /** A top-level command by its (upper-case) name. */
  get(upperName: string): CommandEntry | undefined {
    return this.byName.get(upperName);
  }

  /** The command a request names (argument 0, case-insensitive). */
  lookup(q: ArgView): CommandEntry | undefined {
    const length = q.length(0);
    return length <= this.nameMaxBytes ? this.index.find(q.buffer, q.offset(0), length) : undefined;
  }

  /** The subcommand of `entry` that argument 1 of a request names (case-insensitive). */
  lookupSubcommand(entry: CommandEntry, q: ArgView): CommandEntry | undefined {
    const subs = this.subIndexes.get(entry);
    const length = q.length(1);
    return subs !== undefined && length <= this.nameMaxBytes ? subs.find(q.buffer, q.offset(1), length) : undefined;
  }

  /** A command or subcommand by a name as COMMAND INFO takes it: `get`, `client|list`. */
  byFullName(name: string): CommandEntry | undefined {
    const [top, sub, ...rest] = name.toUpperCase().split('|');
    if (rest.length > 0 || top === undefined) return undefined;
    const entry = this.byName.get(top);
    if (sub === undefined) return entry;
    return entry?.subcommands?.get(sub);
  }

  /** Every command and subcommand, in name order (COMMAND LIST). */
  allNames(): string[] {
    const names: string[] = [];
    for (const entry of this.entries) {
      names.push(entry.fullName);
      for (const sub of entry.subcommands?.values() ?? []) names.push(sub.fullName);
    }
    return names;
  }
}

/** The legacy first/last/step triple COMMAND INFO answers (0 0 0 without keys). */
function legacyKeys(keys: KeyPositions | undefined): [number, number, number] {
  return keys === undefined ? [0, 0, 0] : [keys.first, keys.last, keys.step];
}

function writeKeySpec(w: RespWriter, keys: KeyPositions): void {
  w.map(3);
  w.bulk('flags');
  const flags = kKeyFlagOrder.filter((flag) => keys.flags.includes(flag));
  w.set(flags.length);
  for (const flag of flags) w.simple(flag);
  w.bulk('begin_search');
  w.map(2);
  w.bulk('type');
  w.bulk('index');
  w.bulk('spec');
  w.map(1);
  w.bulk('index');
  w.integer(keys.first);
  w.bulk('find_keys');
  w.map(2);
  w.bulk('type');
  w.bulk('range');
  w.bulk('spec');
  w.map(3);
  w.bulk('lastkey');
  // The key spec's lastkey is relative to the first key (negative: from the end).
  w.integer(keys.last < 0 ? keys.last : keys.last - keys.first);
  w.bulk('keystep');
  w.integer(keys.step);
  w.bulk('limit');
  w.integer(0);
}

/** One COMMAND INFO entry: Redis 7's ten fields. */
export function writeCommandInfo(w: RespWriter, entry: CommandEntry): void {
  const definition = entry.definition;
  w.array(10);
  w.bulk(entry.fullName);
  w.integer(entry.arity);
  const flags = kFlagOrder.filter((flag) => definition.flags.includes(flag));
  w.set(flags.length);
  for (const flag of flags) w.simple(flag);
  const [first, last, step] = legacyKeys(definition.keys);
  w.integer(first);
  w.integer(last);
  w.integer(step);
  w.set(entry.categories.length);
  for (const category of entry.categories) w.simple(`@${category}`);
  const tips = definition.tips ?? [];
  w.set(tips.length);
  for (const tip of tips) w.bulk(tip);
  const specs = definition.keySpecs ?? (definition.keys === undefined ? [] : [definition.keys]);
  w.set(specs.length);
  for (const spec of specs) writeKeySpec(w, spec);
  const subs = [...(entry.subcommands?.values() ?? [])];
  w.array(subs.length);
  for (const sub of subs) writeCommandInfo(w, sub);
}

function writeDocValue(w: RespWriter, value: DocValue): void {
  if (typeof value === 'string') return w.bulk(value);
  if (typeof value === 'number') return w.integer(value);
  if (Array.isArray(value)) {
    w.array(value.length);
    for (const item of value as readonly DocValue[]) writeDocValue(w, item);
    return;
  }
  const fields = Object.entries(value as { readonly [field: string]: DocValue });
  w.map(fields.length);
  for (const [name, item] of fields) {
    w.bulk(name);
    writeDocValue(w, item);
  }
}

/** One COMMAND DOCS value: a map of the entry's docs, with its group (always) and subcommands. */
export function writeCommandDocs(w: RespWriter, entry: CommandEntry): void {
  const docs = entry.definition.docs ?? {};
  const fields: Array<[string, DocValue]> = [];
  if (docs.summary !== undefined) fields.push(['summary', docs.summary]);
  if (docs.since !== undefined) fields.push(['since', docs.since]);
  fields.push(['group', entry.definition.group]);
  if (docs.complexity !== undefined) fields.push(['complexity', docs.complexity]);
  if (docs.history !== undefined) fields.push(['history', docs.history]);
  if (docs.arguments !== undefined) fields.push(['arguments', docs.arguments]);
  const subs = [...(entry.subcommands?.values() ?? [])];
  w.map(fields.length + (subs.length > 0 ? 1 : 0));
  for (const [name, value] of fields) {
    w.bulk(name);
    writeDocValue(w, value);
  }
  if (subs.length === 0) return;
  w.bulk('subcommands');
  w.map(subs.length);
  for (const sub of subs) {
    w.bulk(sub.fullName);
    writeCommandDocs(w, sub);
  }
}
