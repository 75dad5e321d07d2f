/**
 * Cluster-wide named snapshots across frostkv shards (for example behind twemproxy):
 * `frostkv snapshots create --hosts H:P,... --name NAME`, `frostkv snapshots list --hosts
 * H:P,...` and `frostkv snapshots restore --name NAME --data-dirs D1,D2,...`.
 *
 * Guarantees:
 * - Consistency: every shard's snapshot is an exact cut of that shard (the save protocol's
 *   guarantee), but the cuts are not one instant across shards: MKSNAP is sent to every
 *   shard at once and each cuts when it receives it, so a write landing between two shards'
 *   cuts is in one snapshot and not the other, and a write to one shard can be kept while an
 *   earlier write to another is not (docs/persistence.md, "Cluster-wide named snapshots").
 * - create sends MKSNAP <name> to every shard in parallel, waits for all, prints one line per
 *   shard and exits 0 only when every shard succeeded. Shards that succeeded keep their
 *   snapshot when others fail; the summary names both sets and the command that completes
 *   the set. A shard that is unreachable, refuses AUTH or does not answer in time is
 *   reported, never waited on past its timeout (a timed-out shard may still finish).
 * - list asks every shard for LSSNAP and prints names x shards, marking names not on every
 *   shard; it exits 1 when a shard could not be asked (then no name can be called complete).
 * - restore (shards stopped, all data directories on this machine) takes every data
 *   directory's lock first, then verifies every shard's rsnap/<name>, and changes nothing
 *   anywhere unless every lock was taken and every snapshot verifies; only then restores each
 *   shard (restoreSave: the live save moves to backups/, the snapshot becomes the live save).
 * - Bad input (a malformed host:port, an empty or repeated entry, a missing or unsafe
 *   --name, a flag that does not apply) is a FrostError ERR_CONFIG_USAGE thrown by
 *   `parseClusterCommand` before anything is contacted; main.ts exits 2 on it.
 */

import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCode, FrostError } from '../util/errors.js';
import { acquireDataDirLock, type DataDirLock } from '../persist/lock.js';
import { createWorkerPool } from '../persist/worker-pool.js';
import { restoreSave, verifySave } from '../persist/restore.js';
import { isSafeSnapshotName, kRsnapDirName } from '../persist/format.js';
import { RespCallError, RespConnection, isErrorReply, type RespValue } from './resp-client.js';
import { consoleOutput, type Output } from './snapshots.js';
import { countOf } from '../util/words.js';

/** How long a shard may take to accept the connection. */
export const kConnectTimeoutMs = 5_000;
/** How long AUTH and LSSNAP may take to answer. */
export const kReplyTimeoutMs = 10_000;
/** How long MKSNAP may take by default: it answers once a whole shard is on disk. */
export const kSnapshotTimeoutMs = 600_000;
/** The environment variable `--password` falls back to. */
export const kPasswordEnv = 'FROSTKV_PASSWORD';

export interface ShardAddress {
  /** As written (`host:port`), for the output. */
  label: string;
  host: string;
  port: number;
}

export interface ShardOptions {
  password: string | null;
  /** Reply timeout of the shard's main command (MKSNAP or LSSNAP). */
  replyTimeoutMs: number;
}

export type ClusterCommand =
  | { kind: 'create'; hosts: ShardAddress[]; name: string; options: ShardOptions }
  | { kind: 'list'; hosts: ShardAddress[]; options: ShardOptions }
  | { kind: 'restore'; name: string; dataDirs: string[] };

// ---------------------------------------------------------------- the command line

function usage(message: string): FrostError {
  return new FrostError(ErrorCode.configUsage, message);
}

const kAllowed: Readonly<Record<ClusterCommand['kind'], ReadonlySet<string>>> = {
  create: new Set(['--hosts', '--name', '--password', '--timeout']),
  list: new Set(['--hosts', '--password', '--timeout']),
  restore: new Set(['--name', '--data-dirs']),
};

/** The flags only the cluster forms take: one of them turns `snapshots list|restore` into its cluster form. */
export const kClusterSnapshotFlags: readonly string[] = ['--hosts', '--name', '--password', '--timeout', '--data-dirs'];

/**
 * Whether `argv` is a cluster form of `frostkv snapshots` (`create`, or `list` / `restore`
 * with one of the cluster flags); help and version stay with the normal command line.
 */
export function isClusterCommandLine(argv: readonly string[]): boolean {
  if (argv[0] !== 'snapshots') return false;
  if (argv.some((token) => ['-h', '--help', '-v', '-V', '--version'].includes(token))) return false;
  if (argv[1] === 'create') return true;
  if (argv[1] !== 'list' && argv[1] !== 'restore') return false;
  return argv.some((token) => kClusterSnapshotFlags.some((flag) => token === flag || token.startsWith(`${flag}=`)));
}

/** `--flag value` / `--flag=value` pairs after `snapshots <sub>`; operands and repeats are usage errors. */
function readFlags(kind: ClusterCommand['kind'], tokens: readonly string[]): Map<string, string> {
  const flags = new Map<string, string>();
  const command = `frostkv snapshots ${kind}`;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (!token.startsWith('--')) {
      const hint = kind === 'restore' ? ` (restore takes either a folder, \`frostkv snapshots restore DIR\`, or --name with --data-dirs)` : '';
      throw usage(`unexpected argument \`${token}\`: \`${command}\` takes flags only${hint}`);
    }
    const eq = token.indexOf('=');
    const flag = eq < 0 ? token : token.slice(0, eq);
    if (!kAllowed[kind].has(flag)) {
      throw usage(`\`${flag}\` does not apply to \`${command}\` (it takes ${[...kAllowed[kind]].join(', ')})`);
    }
    if (flags.has(flag)) throw usage(`\`${flag}\` given more than once`);
    let value = eq < 0 ? tokens[i + 1] : token.slice(eq + 1);
    if (eq < 0) {
      if (value === undefined || value.startsWith('--')) throw usage(`flag \`${flag}\` needs a value`);
      i++;
    }
    value = value as string;
    if (value === '') throw usage(`flag \`${flag}\` needs a non-empty value`);
    flags.set(flag, value);
  }
  return flags;
}

/** `host:port` or `[ipv6]:port`, port 1-65535. */
export function parseShardAddress(text: string): ShardAddress {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(text);
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || port < 1 || port > 65_535) {
    throw usage(`\`${text}\` is not a shard address: expected host:port (the RESP address a nutcracker YAML lists), port 1-65535, e.g. 10.0.0.5:6379`);
  }
  return { label: text, host: (match[1] ?? match[2]) as string, port };
}

/** A comma-separated list: no empty entries, no repeats (compared by `key`). */
function listOf(flag: string, text: string, key: (entry: string) => string): string[] {
  const entries = text.split(',').map((entry) => entry.trim());
  if (entries.some((entry) => entry === '')) throw usage(`\`${flag}\` has an empty entry in \`${text}\`: write ${flag} a,b,c`);
  const seen = new Map<string, string>();
  for (const entry of entries) {
    const previous = seen.get(key(entry));
    if (previous !== undefined) throw usage(`\`${flag}\` names the same ${flag === '--hosts' ? 'shard' : 'data directory'} twice: \`${previous}\` and \`${entry}\``);
    seen.set(key(entry), entry);
  }
  return entries;
}

function required(flags: Map<string, string>, flag: string, kind: string, example: string): string {
  const value = flags.get(flag);
  if (value === undefined) throw usage(`\`frostkv snapshots ${kind}\` needs ${flag}: ${example}`);
  return value;
}

function snapshotName(flags: Map<string, string>, kind: string, example: string): string {
  const name = required(flags, '--name', kind, example);
  if (!isSafeSnapshotName(name)) {
    throw usage(`unsafe snapshot name ${JSON.stringify(name)}: a name is /-separated parts of [A-Za-z0-9][A-Za-z0-9._-]*, at most 128 bytes each and 255 in all`);
  }
  return name;
}

function shardOptions(flags: Map<string, string>, env: NodeJS.ProcessEnv, defaultTimeoutMs: number): ShardOptions {
  const password = flags.get('--password') ?? (env[kPasswordEnv] === undefined || env[kPasswordEnv] === '' ? null : (env[kPasswordEnv] as string));
  const timeout = flags.get('--timeout');
  let replyTimeoutMs = defaultTimeoutMs;
  if (timeout !== undefined) {
    const seconds = Number(timeout);
    if (!/^\d+(\.\d+)?$/.test(timeout) || !(seconds > 0)) throw usage(`\`--timeout ${timeout}\`: expected a number of seconds greater than 0`);
    replyTimeoutMs = Math.ceil(seconds * 1000);
  }
  return { password, replyTimeoutMs };
}

/** Parse a cluster command line (isClusterCommandLine said yes); throws ERR_CONFIG_USAGE. */
export function parseClusterCommand(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): ClusterCommand {
  const kind = argv[1] as ClusterCommand['kind'];
  const flags = readFlags(kind, argv.slice(2));
  const hostsExample = 'frostkv snapshots ' + kind + ' --hosts 10.0.0.5:6379,10.0.0.6:6379' + (kind === 'create' ? ' --name NAME' : '');
  if (kind === 'restore') {
    const example = 'frostkv snapshots restore --name NAME --data-dirs /srv/shard1/data,/srv/shard2/data';
    const name = snapshotName(flags, kind, example);
    const dirs = listOf('--data-dirs', required(flags, '--data-dirs', kind, example), (dir) => resolve(cwd, dir)).map((dir) => resolve(cwd, dir));
    return { kind, name, dataDirs: dirs };
  }
  const hosts = listOf('--hosts', required(flags, '--hosts', kind, hostsExample), (entry) => entry.toLowerCase()).map(parseShardAddress);
  if (kind === 'create') {
    const name = snapshotName(flags, kind, hostsExample);
    return { kind, hosts, name, options: shardOptions(flags, env, kSnapshotTimeoutMs) };
  }
  return { kind, hosts, options: shardOptions(flags, env, kReplyTimeoutMs) };
}

// ---------------------------------------------------------------- talking to shards

/** What one shard answered: its reply, or why there is none. */
export type ShardReply = { ok: true; value: RespValue } | { ok: false; why: string };

/**
 * Connect, AUTH when a password is given, send `command`, close. An error reply is a
 * failure carrying its text (its first word is the stable prefix: SNAPEXISTS, NOAUTH, ...).
 */
export async function askShard(shard: ShardAddress, command: readonly string[], options: ShardOptions): Promise<ShardReply> {
  let connection: RespConnection;
  try {
    connection = await RespConnection.open(shard.host, shard.port, Math.min(kConnectTimeoutMs, options.replyTimeoutMs));
  } catch (error) {
    return { ok: false, why: describeCallError(error) };
  }
  try {
    if (options.password !== null) {
      const auth = await connection.call(['AUTH', options.password], Math.min(kReplyTimeoutMs, options.replyTimeoutMs));
      if (isErrorReply(auth)) return { ok: false, why: `AUTH refused: ${auth.error}` };
    }
    const value = await connection.call(command, options.replyTimeoutMs);
    if (isErrorReply(value)) {
      const hint = value.error.startsWith('NOAUTH') ? ` (give the shards' password with --password or ${kPasswordEnv})` : '';
      return { ok: false, why: `${value.error}${hint}` };
    }
    return { ok: true, value };
  } catch (error) {
    return { ok: false, why: describeCallError(error) };
  } finally {
    connection.close();
  }
}

function describeCallError(error: unknown): string {
  if (!(error instanceof RespCallError)) throw error;
  return `${error.kind === 'timeout' ? 'TIMEOUT' : error.kind === 'unreachable' ? 'UNREACHABLE' : 'PROTOCOL'} ${error.message}`;
}

function table(rows: readonly string[][]): string[] {
  const widths = (rows[0] as string[]).map((_, column) => Math.max(...rows.map((row) => (row[column] as string).length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] as number)).join('  ').trimEnd());
}

// ---------------------------------------------------------------- create

export async function createClusterSnapshot(hosts: readonly ShardAddress[], name: string, options: ShardOptions, output: Output = consoleOutput): Promise<number> {
  output.out(`taking snapshot ${name} on ${hosts.length} shard(s) at once (each shard is an exact cut of itself; the cuts are not one instant across shards)`);
  const replies = await Promise.all(hosts.map((shard) => askShard(shard, ['MKSNAP', name], options)));
  const outcomes = hosts.map((shard, i) => ({ shard, reply: replies[i] as ShardReply }));
  for (const line of table(outcomes.map(({ shard, reply }) => [shard.label, reply.ok ? 'OK' : 'FAILED', reply.ok ? `${kRsnapDirName}/${name}` : reply.why]))) output.out(line);
  const done = outcomes.filter(({ reply }) => reply.ok).map(({ shard }) => shard.label);
  const failed = outcomes.flatMap(({ shard, reply }) => (reply.ok ? [] : [{ shard: shard.label, why: reply.why }]));
  if (failed.length === 0) {
    output.out(`snapshot ${name} is complete: on all ${hosts.length} shard(s)`);
    return 0;
  }
  output.out(`snapshot ${name} is INCOMPLETE: on ${done.length} of ${hosts.length} shard(s)${done.length > 0 ? ` (${done.join(', ')})` : ''}; not on ${failed.map((f) => f.shard).join(', ')}`);
  if (done.length > 0) output.out(`the shards that succeeded keep their snapshot ${name}; nothing was removed`);
  const existing = failed.filter((f) => f.why.startsWith('SNAPEXISTS ')).map((f) => f.shard);
  if (existing.length > 0) output.out(`${existing.join(', ')} already held a snapshot named ${name} from before: it is not part of this set`);
  if (failed.some((f) => f.why.startsWith('TIMEOUT no reply'))) {
    output.out('a shard that timed out may still finish its snapshot: `frostkv snapshots list --hosts ...` shows what each shard holds');
  }
  const retry = failed.filter((f) => !existing.includes(f.shard)).map((f) => f.shard);
  if (done.length === 0 && existing.length === 0) {
    output.out('next: fix the shards and run the same command again (no shard took this snapshot)');
  } else {
    const completable = done.length > 0 && retry.length > 0;
    output.out(`next: take a new set under another name on every shard${completable ? ', or complete this one once the failed shards are fixed' : ''}`);
    if (completable) output.out(`  (their cuts will be later than the others'): frostkv snapshots create --hosts ${retry.join(',')} --name ${name}`);
  }
  return 1;
}

// ---------------------------------------------------------------- list

export async function listClusterSnapshots(hosts: readonly ShardAddress[], options: ShardOptions, output: Output = consoleOutput): Promise<number> {
  const replies = await Promise.all(hosts.map((shard) => askShard(shard, ['LSSNAP'], options)));
  const held: Array<Set<string> | null> = replies.map((reply) => {
    if (!reply.ok) return null;
    const names = Array.isArray(reply.value) ? reply.value.filter((name): name is string => typeof name === 'string') : [];
    return new Set(names);
  });
  const failed = hosts.filter((_, i) => held[i] === null);
  for (const shard of failed) output.err(`error: ${shard.label}: ${(replies[hosts.indexOf(shard)] as { why: string }).why}`);
  const names = [...new Set(held.flatMap((set) => [...(set ?? [])]))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  if (names.length === 0) {
    output.out(failed.length === hosts.length ? '(no shard answered)' : '(no named snapshots on any shard that answered)');
    return failed.length === 0 ? 0 : 1;
  }
  const rows = [['NAME', ...hosts.map((shard) => shard.label), 'SET']];
  for (const name of names) {
    const cells = held.map((set) => (set === null ? '?' : set.has(name) ? 'yes' : '-'));
    const count = held.filter((set) => set?.has(name) === true).length;
    const state = count === hosts.length ? 'complete' : failed.length > 0 && count + failed.length === hosts.length ? `unknown (${count}/${hosts.length}, ${failed.length} not answering)` : `INCOMPLETE (${count}/${hosts.length})`;
    rows.push([name, ...cells, state]);
  }
  for (const line of table(rows)) output.out(line);
  return failed.length === 0 ? 0 : 1;
}

// ---------------------------------------------------------------- restore

/** Take every data directory's lock, or none: a running shard (or a missing directory) refuses the whole restore. */
function lockAll(dataDirs: readonly string[], output: Output): DataDirLock[] | null {
  const locks: DataDirLock[] = [];
  let refused = false;
  for (const dir of dataDirs) {
    const stats = statSync(dir, { throwIfNoEntry: false });
    if (stats === undefined || !stats.isDirectory()) {
      output.out(`${dir}  REFUSED  ${stats === undefined ? 'does not exist' : 'is not a directory'}`);
      refused = true;
      continue;
    }
    try {
      locks.push(acquireDataDirLock(dir));
      output.out(`${dir}  locked`);
    } catch (error) {
      output.out(`${dir}  REFUSED  ${(error as Error).message}`);
      refused = true;
    }
  }
  if (!refused) return locks;
  for (const lock of locks) lock.release();
  return null;
}

export async function restoreClusterSnapshot(name: string, dataDirs: readonly string[], output: Output = consoleOutput): Promise<number> {
  const locks = lockAll(dataDirs, output);
  if (locks === null) {
    output.out(`refusing to restore ${name}: every shard must be stopped and its data directory present; nothing was changed on any shard`);
    return 1;
  }
  const pool = createWorkerPool();
  try {
    const sources = dataDirs.map((dir) => join(dir, kRsnapDirName, ...name.split('/')));
    const reports = await Promise.all(sources.map((source) => (existsSync(source) ? verifySave(pool, source) : null)));
    let bad = 0;
    reports.forEach((report, i) => {
      const source = sources[i] as string;
      if (report === null) output.out(`${source}  MISSING`);
      else if (report.ok && report.manifest !== null) output.out(`${source}  verified (${countOf(report.records, 'key')}, cut at ${report.manifest.cutTime})`);
      else output.out(`${source}  BAD  ${report.problems.map((problem) => problem.message).join('; ')}`);
      if (report === null || !report.ok) bad++;
    });
    if (bad > 0) {
      output.out(`refusing to restore ${name}: ${bad} of ${dataDirs.length} shard(s) lack a good snapshot; nothing was changed on any shard`);
      return 1;
    }
    return await restoreEach(pool, name, dataDirs, sources, output);
  } finally {
    await pool.destroy();
    for (const lock of locks) lock.release();
  }
}

/** Every shard verified and locked: install each one's snapshot as its live save, in order. */
async function restoreEach(pool: ReturnType<typeof createWorkerPool>, name: string, dataDirs: readonly string[], sources: readonly string[], output: Output): Promise<number> {
  for (let i = 0; i < dataDirs.length; i++) {
    const dir = dataDirs[i] as string;
    try {
      const report = await restoreSave(pool, dir, sources[i] as string);
      output.out(`${dir}  restored ${name} (${countOf(report.manifest.totals.records, 'key')})${report.backup === null ? '' : `; the previous live save is in ${report.backup}`}`);
    } catch (error) {
      output.out(`${dir}  FAILED  ${(error as Error).message}`);
      const restored = dataDirs.slice(0, i);
      output.out(`restore of ${name} stopped: ${restored.length > 0 ? `restored ${restored.join(', ')}; ` : ''}not restored ${dataDirs.slice(i).join(', ')}. Rerun the same command once the cause is fixed (a restored shard's live save is then its snapshot again).`);
      return 1;
    }
  }
  output.out(`restored ${name} on all ${dataDirs.length} shard(s); start each shard on its data directory`);
  return 0;
}

/** Run a parsed cluster command; the exit code: 0 success, 1 a failure on some shard. */
export function runClusterCommand(command: ClusterCommand, output: Output = consoleOutput): Promise<number> {
  switch (command.kind) {
    case 'create':
      return createClusterSnapshot(command.hosts, command.name, command.options, output);
    case 'list':
      return listClusterSnapshots(command.hosts, command.options, output);
    case 'restore':
      return restoreClusterSnapshot(command.name, command.dataDirs, output);
  }
}
