/**
 * RESP server commands: DBSIZE FLUSHDB FLUSHALL SWAPDB BGSAVE SAVE LASTSAVE TIME INFO CONFIG
 * (GET SET RESETSTAT REWRITE HELP) COMMAND (COUNT LIST INFO DOCS GETKEYS GETKEYSANDFLAGS HELP).
 *
 * Guarantees:
 * - COMMAND, COMMAND COUNT / LIST / INFO / GETKEYS answer from the command table (table.ts),
 *   so they always agree with what the driver runs; COMMAND DOCS adds the docs of docs.ts.
 * - INFO is info.ts; CONFIG's parameters and their rules are config.ts.
 * - FLUSHALL empties every numbered database; SWAPDB exchanges two (databases.ts).
 * - SAVE answers once the live save is durable; it is refused inside MULTI (Redis's
 *   `no_multi`), so a transaction never waits on the disk.
 * - Replies use RESP3 types when the connection speaks RESP3 (INFO a verbatim string, CONFIG
 *   GET a map) and Redis 7's RESP2 fallbacks otherwise.
 */

import type { ArgView } from '../../../protocol/args.js';
import { globMatch } from '../glob.js';
import { configStore } from '../config.js';
import { infoText } from '../info.js';
import { kRespDatabaseCount } from '../databases.js';
import { RespText, fail, parseInt64, writeHelp, type RespCommand, type RespContext } from './context.js';
import { writeDocs } from './docs.js';
import { writeCommandInfo, type CommandDefinition, type CommandEntry, type KeyFlag, type KeyPositions } from './table.js';

const dbsize: RespCommand = (ctx) => {
  ctx.w.integer(ctx.table().size);
};

function flushOption(q: ArgView): void {
  if (q.count > 2 || (q.count === 2 && !q.argIs(1, 'ASYNC') && !q.argIs(1, 'SYNC'))) throw fail(RespText.syntax);
}

const flushdb: RespCommand = (ctx, q) => {
  flushOption(q);
  ctx.table().clear();
  ctx.w.ok();
};

const flushall: RespCommand = (ctx, q) => {
  flushOption(q);
  const tables = ctx.shared.databases.existing();
  for (const t of tables) t.checkWritable();
  for (const t of tables) t.clear();
  ctx.w.ok();
};

function dbIndexArg(q: ArgView, i: number, notInteger: string): number {
  const index = parseInt64(q.argString(i, 'latin1'));
  if (index === null || index < -(2n ** 31n) || index >= 2n ** 31n) throw fail(notInteger);
  if (index < 0n || index >= BigInt(kRespDatabaseCount)) throw fail(RespText.dbIndex);
  return Number(index);
}

const swapdb: RespCommand = (ctx, q) => {
  const a = dbIndexArg(q, 1, 'ERR invalid first DB index');
  const b = dbIndexArg(q, 2, 'ERR invalid second DB index');
  ctx.shared.databases.swap(a, b);
  ctx.w.ok();
};

const bgsave: RespCommand = (ctx, q) => {
  const persistence = ctx.db.persistence;
  if (persistence === null) throw fail(RespText.noDataDir);
  const schedule = q.count === 2 && q.argIs(1, 'SCHEDULE');
  if (q.count > 2 || (q.count === 2 && !schedule)) throw fail(RespText.syntax);
  if (persistence.liveSaveInProgress) {
    if (!schedule) throw fail(RespText.bgsaveRunning);
    void persistence.liveSave('manual');
    return ctx.w.simple('Background saving scheduled');
  }
  void persistence.liveSave('manual');
  ctx.w.simple('Background saving started');
};

const save: RespCommand = (ctx) => {
  const persistence = ctx.db.persistence;
  if (persistence === null) throw fail(RespText.noDataDir);
  return persistence.liveSave('manual').then((result) => {
    if (result.ok) ctx.w.ok();
    else ctx.w.error(`ERR ${result.report?.failure?.message ?? 'the save failed'}`);
  });
};

/** LASTSAVE: the last successful live save; before any, the server's start time (as Redis). */
const lastsave: RespCommand = (ctx) => {
  const last = ctx.db.persistence?.status().lastSaveTimeMs ?? null;
  ctx.w.integer(Math.floor((last ?? ctx.view.stats.startedAtMs) / 1000));
};

/** TIME: Unix seconds and the microseconds within that second, as two bulk strings. */
const time: RespCommand = (ctx) => {
  const usec = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  ctx.w.array(2);
  ctx.w.bulk(String(Math.floor(usec / 1e6)));
  ctx.w.bulk(String(usec % 1e6));
};

const info: RespCommand = (ctx, q) => {
  const sections: string[] = [];
  for (let i = 1; i < q.count; i++) sections.push(q.argString(i, 'latin1'));
  const source = { db: ctx.db, view: ctx.view, databases: ctx.shared.databases, tableEntity: ctx.shared.databases.entity(0) };
  ctx.w.verbatim(infoText(source, sections));
};

/** CONFIG GET parameter [parameter ...]: a map (RESP3) or flat array of name, value. */
const configGet: RespCommand = (ctx, q) => {
  const patterns: string[] = [];
  for (let i = 2; i < q.count; i++) patterns.push(q.argString(i));
  const pairs = configStore(ctx).get(patterns);
  ctx.w.map(pairs.length);
  for (const [name, value] of pairs) {
    ctx.w.bulk(name);
    ctx.w.bulk(value);
  }
};

/** CONFIG SET parameter value [parameter value ...]: all or nothing (config.ts). */
const configSet: RespCommand = (ctx, q) => {
  if (q.count % 2 !== 0) throw fail(RespText.syntax);
  const pairs: Array<[string, string]> = [];
  for (let i = 2; i < q.count; i += 2) pairs.push([q.argString(i), q.argString(i + 1)]);
  const error = configStore(ctx).set(pairs);
  if (error !== null) throw fail(error);
  ctx.w.ok();
};

const configResetStat: RespCommand = (ctx) => {
  ctx.view.stats.resetStats();
  ctx.w.ok();
};

/** CONFIG REWRITE: frostkv's configuration is TOML, SKY_* variables and flags; it never rewrites it. */
const configRewrite: RespCommand = (ctx) => {
  if (ctx.view.configFile === null) throw fail('ERR The server is running without a config file');
  throw fail(`ERR CONFIG REWRITE is not supported: ${ctx.view.configFile} is frostkv's TOML configuration, which frostkv never rewrites`);
};

const kConfigHelp = [
  'GET <pattern>',
  '    Answer every parameter whose name matches the glob-like <pattern>, with its value.',
  'SET <directive> <value> [<directive> <value> ...]',
  "    Change parameters, all or none. frostkv's own settings (port, save, maxclients, ...) accept",
  '    only the value in force; Redis tuning parameters are kept and answered but change nothing.',
  'RESETSTAT',
  '    Zero the counters INFO reports (commands, errors, connections, hits and misses).',
  'REWRITE',
  "    Refused: frostkv's configuration is its TOML file, SKY_* variables and flags.",
];

// ---------------------------------------------------------------- COMMAND

function describeAll(ctx: RespContext, entries: readonly CommandEntry[]): void {
  ctx.w.array(entries.length);
  for (const entry of entries) writeCommandInfo(ctx.w, entry);
}

const commandAll: RespCommand = (ctx) => describeAll(ctx, ctx.shared.commands.entries);

const commandCount: RespCommand = (ctx) => ctx.w.integer(ctx.shared.commands.size);

/** COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]. */
const commandList: RespCommand = (ctx, q) => {
  const table = ctx.shared.commands;
  let keep = (_entry: CommandEntry): boolean => true;
  if (q.count > 2) {
    if (q.count !== 5 || !q.argIs(2, 'FILTERBY')) throw fail(RespText.syntax);
    const value = q.argString(4);
    if (q.argIs(3, 'MODULE')) keep = () => false;
    else if (q.argIs(3, 'ACLCAT')) keep = (entry) => entry.categories.includes(value.toLowerCase() as never);
    else if (q.argIs(3, 'PATTERN')) {
      const pattern = Buffer.from(value.toLowerCase());
      keep = (entry) => globMatch(pattern, Buffer.from(entry.fullName));
    } else throw fail(RespText.syntax);
  }
  const names = table.allNames().filter((name) => keep(table.byFullName(name) as CommandEntry));
  ctx.w.array(names.length);
  for (const name of names) ctx.w.bulk(name);
};

const commandInfo: RespCommand = (ctx, q) => {
  if (q.count === 2) return commandAll(ctx, q);
  ctx.w.array(q.count - 2);
  for (let i = 2; i < q.count; i++) {
    const entry = ctx.shared.commands.byFullName(q.argString(i, 'latin1'));
    if (entry === undefined) ctx.w.null();
    else writeCommandInfo(ctx.w, entry);
  }
};

/** COMMAND DOCS [name ...]: a map of name -> docs (docs.ts); unknown names are left out, as Redis. */
const commandDocs: RespCommand = (ctx, q) => {
  const table = ctx.shared.commands;
  const entries: CommandEntry[] = [];
  if (q.count === 2) entries.push(...table.entries);
  for (let i = 2; i < q.count; i++) {
    const entry = table.byFullName(q.argString(i, 'latin1'));
    if (entry !== undefined) entries.push(entry);
  }
  ctx.w.map(entries.length);
  for (const entry of entries) {
    ctx.w.bulk(entry.fullName);
    writeDocs(ctx.w, entry);
  }
};

/** The argument positions of a command's keys, from its table entry. */
export function keyPositions(entry: CommandEntry, count: number): number[] {
  const keys = entry.definition.keys;
  if (keys === undefined) return [];
  const last = keys.last < 0 ? count + keys.last : keys.last;
  const out: number[] = [];
  for (let i = keys.first; i <= last && i < count; i += keys.step) out.push(i);
  return out;
}

/** Key-spec flags in the order Redis lists them. */
const kKeyFlagOrder: readonly KeyFlag[] = ['RO', 'RW', 'OW', 'RM', 'access', 'update', 'insert', 'delete', 'not_key', 'incomplete', 'variable_flags'];

/** The key positions one key spec finds in a command line of `count` arguments. */
function specPositions(spec: KeyPositions, count: number): number[] {
  const last = spec.last < 0 ? count + spec.last : spec.last;
  const out: number[] = [];
  for (let i = spec.first; i <= last && i < count; i += spec.step) out.push(i);
  return out;
}

/**
 * A key spec's flags for a command line. A spec marked `variable_flags` depends on the line:
 * SET overwrites its key (OW update) unless it has GET, which reads it too (RW access update).
 */
function specFlags(entry: CommandEntry, spec: KeyPositions, q: ArgView): KeyFlag[] {
  if (entry.fullName === 'set' && spec.flags.includes('variable_flags')) {
    let get = false;
    for (let i = 5; i < q.count && !get; i++) get = q.argIs(i, 'GET');
    return get ? ['RW', 'access', 'update'] : ['OW', 'update'];
  }
  return kKeyFlagOrder.filter((flag) => spec.flags.includes(flag));
}

/** COMMAND GETKEYS command [arg ...]: the keys the command would touch. */
const commandGetKeys: RespCommand = (ctx, q) => getKeys(ctx, q, false);

/** COMMAND GETKEYSANDFLAGS command [arg ...]: each key with its key-spec flags. */
const commandGetKeysAndFlags: RespCommand = (ctx, q) => getKeys(ctx, q, true);

/** GETKEYS / GETKEYSANDFLAGS: the command line starts at argument 2; keys come spec by spec, as Redis. */
function getKeys(ctx: RespContext, q: ArgView, withFlags: boolean): void {
  const table = ctx.shared.commands;
  let entry = table.get(q.argString(2, 'latin1').toUpperCase());
  const argc = q.count - 2;
  if (entry?.subcommands != null && argc >= 2) entry = entry.subcommands.get(q.argString(3, 'latin1').toUpperCase());
  if (entry === undefined) throw fail('ERR Invalid command specified');
  const keys = entry.definition.keys;
  if (keys === undefined) throw fail('ERR The command has no key arguments');
  if ((entry.arity > 0 && entry.arity !== argc) || argc < -entry.arity) throw fail('ERR Invalid number of arguments specified for command');
  if (keys.step > 1 && (argc - keys.first) % keys.step !== 0) throw fail('ERR Invalid arguments specified for command');
  const found: Array<[number, KeyFlag[]]> = [];
  for (const spec of entry.definition.keySpecs ?? [keys]) {
    const flags = specFlags(entry, spec, q);
    for (const at of specPositions(spec, argc)) found.push([at, flags]);
  }
  ctx.w.array(found.length);
  for (const [at, flags] of found) {
    if (withFlags) ctx.w.array(2);
    ctx.w.bulk(q.buffer, q.offset(at + 2), q.length(at + 2));
    if (!withFlags) continue;
    ctx.w.set(flags.length);
    for (const flag of flags) ctx.w.simple(flag);
  }
}

const kCommandHelp = [
  '(no subcommand)',
  '    Describe every command.',
  'COUNT',
  '    Answer how many commands there are.',
  'LIST [FILTERBY (MODULE <name>|ACLCAT <category>|PATTERN <pattern>)]',
  '    List the command names, optionally filtered.',
  'INFO [<command-name> ...]',
  '    Describe the named commands (all of them without names).',
  'DOCS [<command-name> ...]',
  '    Documentation of the named commands (all of them without names).',
  'GETKEYS <full-command>',
  '    Answer the keys a full command names.',
  'GETKEYSANDFLAGS <full-command>',
  '    Answer the keys a full command names, each with its key-spec flags.',
];

/** COMMAND without a subcommand describes every command; with one, the driver dispatches it. */
const commandNoSub: RespCommand = (ctx, q) => {
  if (q.count === 1) return commandAll(ctx, q);
  throw fail(`ERR unknown subcommand '${q.argString(1).slice(0, 128)}'. Try COMMAND HELP.`);
};

const kServerFlags = ['loading', 'stale'] as const;

export const kServerCommands: readonly CommandDefinition[] = [
  { name: 'dbsize', arity: 1, flags: ['readonly', 'fast'], group: 'server', acl: ['keyspace'], tips: ['request_policy:all_shards', 'response_policy:agg_sum'], run: dbsize },
  { name: 'flushdb', arity: -1, flags: ['write'], group: 'server', acl: ['keyspace', 'dangerous'], tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], run: flushdb },
  { name: 'flushall', arity: -1, flags: ['write'], group: 'server', acl: ['keyspace', 'dangerous'], tips: ['request_policy:all_shards', 'response_policy:all_succeeded'], run: flushall },
  { name: 'swapdb', arity: 3, flags: ['write', 'fast'], group: 'server', acl: ['keyspace', 'dangerous'], run: swapdb },
  { name: 'bgsave', arity: -1, flags: ['admin', 'noscript', 'no_async_loading'], group: 'server', run: bgsave },
  { name: 'save', arity: 1, flags: ['admin', 'noscript', 'no_async_loading', 'no_multi'], group: 'server', run: save },
  { name: 'time', arity: 1, flags: ['loading', 'stale', 'fast'], group: 'server', tips: ['nondeterministic_output'], run: time },
  { name: 'lastsave', arity: 1, flags: ['loading', 'stale', 'fast'], group: 'server', acl: ['admin', 'dangerous'], tips: ['nondeterministic_output'], run: lastsave },
  { name: 'info', arity: -1, flags: ['loading', 'stale'], group: 'server', acl: ['dangerous'], tips: ['nondeterministic_output', 'request_policy:all_shards', 'response_policy:special'], run: info },
  {
    name: 'config',
    arity: -2,
    flags: [],
    group: 'server',
    subcommands: [
      { name: 'get', arity: -3, flags: ['admin', 'noscript', ...kServerFlags], group: 'server', run: configGet },
      { name: 'set', arity: -4, flags: ['admin', 'noscript', ...kServerFlags], group: 'server', tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'], run: configSet },
      { name: 'resetstat', arity: 2, flags: ['admin', 'noscript', ...kServerFlags], group: 'server', tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'], run: configResetStat },
      { name: 'rewrite', arity: 2, flags: ['admin', 'noscript', ...kServerFlags], group: 'server', tips: ['request_policy:all_nodes', 'response_policy:all_succeeded'], run: configRewrite },
      { name: 'help', arity: 2, flags: [...kServerFlags], group: 'server', run: (ctx) => writeHelp(ctx, 'CONFIG', kConfigHelp) },
    ],
  },
  {
    name: 'command',
    arity: -1,
    flags: [...kServerFlags],
    group: 'server',
    acl: ['connection'],
    tips: ['nondeterministic_output_order'],
    run: commandNoSub,
    subcommands: [
      { name: 'count', arity: 2, flags: [...kServerFlags], group: 'server', acl: ['connection'], run: commandCount },
      { name: 'list', arity: -2, flags: [...kServerFlags], group: 'server', acl: ['connection'], tips: ['nondeterministic_output_order'], run: commandList },
      { name: 'info', arity: -2, flags: [...kServerFlags], group: 'server', acl: ['connection'], tips: ['nondeterministic_output_order'], run: commandInfo },
      { name: 'docs', arity: -2, flags: [...kServerFlags], group: 'server', acl: ['connection'], tips: ['nondeterministic_output_order'], run: commandDocs },
      { name: 'getkeys', arity: -4, flags: [...kServerFlags], group: 'server', acl: ['connection'], run: commandGetKeys },
      { name: 'getkeysandflags', arity: -4, flags: [...kServerFlags], group: 'server', acl: ['connection'], run: commandGetKeysAndFlags },
      { name: 'help', arity: 2, flags: [...kServerFlags], group: 'server', acl: ['connection'], run: (ctx) => writeHelp(ctx, 'COMMAND', kCommandHelp) },
    ],
  },
];
