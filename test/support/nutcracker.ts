/**
 * twemproxy (nutcracker 0.5.0) in front of frostkv shards, for the scale-out tests: render a
 * pool's YAML, run nutcracker on free loopback ports, start frostkv shards as child processes.
 *
 * Guarantees:
 * - nutcracker always gets its own `-s` stats port, `-o` log file and `-p` pid file in a fresh
 *   temporary directory, so parallel test files never collide on the default stats port 22222.
 * - `startNutcracker` checks the YAML with `nutcracker -t` first and resolves only once the
 *   listen port accepts connections; any failure (bad YAML, early exit, timeout) rejects with
 *   nutcracker's own output and log file, so a test failure says what went wrong.
 * - Every nutcracker and shard started here is SIGKILLed in afterAll if a test left it running.
 * - `kNutcrackerSkip` is true only when nutcracker is missing and CI is not set; under CI a
 *   missing nutcracker makes `startNutcracker` throw, so those tests fail instead of skipping.
 * - `ketamaServerFor` names the shard twemproxy 0.5.0 sends a key to (ketama over fnv1a_64 with
 *   `{}` hash tags), computed independently of it from nc_ketama.c and nc_fnv.c.
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { freePort, spawnCli, type ChildServer } from './server.js';
import { tempDir } from './tmp.js';

/** Debian installs nutcracker into /usr/sbin, which a non-root PATH may not hold. */
function findNutcracker(): string | null {
  const fromEnv = process.env.NUTCRACKER_BIN;
  if (fromEnv !== undefined) return existsSync(fromEnv) ? fromEnv : null;
  const found = spawnSync('sh', ['-c', 'command -v nutcracker'], { encoding: 'utf8' });
  if (found.status === 0 && found.stdout.trim() !== '') return found.stdout.trim();
  return existsSync('/usr/sbin/nutcracker') ? '/usr/sbin/nutcracker' : null;
}

export const kNutcrackerBin = findNutcracker();
const kInCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
/** Skip the nutcracker tests: only when it is missing and this is not CI. */
export const kNutcrackerSkip = kNutcrackerBin === null && !kInCi;
export const kNutcrackerNote = kNutcrackerSkip ? ' [SKIPPED: nutcracker (twemproxy) is not installed]' : '';
if (kNutcrackerSkip) {
  console.warn('SKIPPED: nutcracker is not installed; install the Debian package `nutcracker` (twemproxy 0.5.0) to run the scale-out tests');
}

/** How long nutcracker may take to open its listen port. */
const kListenTimeoutMs = 10_000;
/** How long a frostkv shard (through tsx) may take to print "ready to accept connections". */
const kShardStartTimeoutMs = 30_000;
const kPollMs = 25;
/** nutcracker's stats aggregation interval (default 30 s): short, so a test reads ejections at once. */
const kStatsIntervalMs = 200;

const processes = new Set<ChildProcess>();
afterAll(() => {
  for (const child of processes) child.kill('SIGKILL');
  processes.clear();
});

export interface ShardAddress {
  host: string;
  port: number;
  /** The ketama name: the continuum hashes `name-<i>`, so naming shards keeps keys in place when a port changes. */
  name: string;
  weight?: number;
}

export interface PoolOptions {
  servers: readonly ShardAddress[];
  listenPort: number;
  poolName?: string;
  autoEjectHosts?: boolean;
  serverRetryTimeoutMs?: number;
  serverFailureLimit?: number;
  /** Server response timeout (nutcracker `timeout`). */
  timeoutMs?: number;
  redisAuth?: string;
  redisDb?: number;
  preconnect?: boolean;
}

/** The nutcracker YAML for one Redis pool: ketama over fnv1a_64, hash tags `{}`. */
export function poolYaml(options: PoolOptions): string {
  const lines = [
    `${options.poolName ?? 'frostkv'}:`,
    `  listen: 127.0.0.1:${options.listenPort}`,
    '  redis: true',
    '  distribution: ketama',
    '  hash: fnv1a_64',
    '  hash_tag: "{}"',
    `  auto_eject_hosts: ${options.autoEjectHosts ?? true}`,
    `  server_retry_timeout: ${options.serverRetryTimeoutMs ?? 2000}`,
    `  server_failure_limit: ${options.serverFailureLimit ?? 2}`,
    `  timeout: ${options.timeoutMs ?? 2000}`,
  ];
  if (options.preconnect === true) lines.push('  preconnect: true');
  if (options.redisAuth !== undefined) lines.push(`  redis_auth: "${options.redisAuth}"`);
  if (options.redisDb !== undefined) lines.push(`  redis_db: ${options.redisDb}`);
  lines.push('  servers:');
  for (const server of options.servers) lines.push(`    - ${server.host}:${server.port}:${server.weight ?? 1} ${server.name}`);
  return `${lines.join('\n')}\n`;
}

export interface Nutcracker {
  port: number;
  statsPort: number;
  confPath: string;
  logPath: string;
  proc: ChildProcess;
  /** nutcracker's log file plus anything it printed. */
  log(): string;
  stop(): Promise<void>;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function readIfThere(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/**
 * Run nutcracker on `yaml` (whose listen port must be `listenPort`), logging at verbosity 6 (its
 * parse errors and unsupported commands) into a file `log()` returns for failure messages.
 */
export async function startNutcracker(yaml: string, listenPort: number): Promise<Nutcracker> {
  if (kNutcrackerBin === null) throw new Error('nutcracker (twemproxy) is not installed and CI is set: install the Debian package `nutcracker`');
  const dir = tempDir();
  const confPath = join(dir, 'nutcracker.yml');
  const logPath = join(dir, 'nutcracker.log');
  writeFileSync(confPath, yaml);
  const check = spawnSync(kNutcrackerBin, ['-t', '-c', confPath], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`nutcracker -t rejected the configuration:\n${check.stdout}${check.stderr}\n${yaml}`);
  const statsPort = await freePort();
  const args = ['-c', confPath, '-s', String(statsPort), '-a', '127.0.0.1', '-o', logPath, '-p', join(dir, 'nutcracker.pid'), '-i', String(kStatsIntervalMs), '-v', '6'];
  const proc = spawn(kNutcrackerBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  processes.add(proc);
  let printed = '';
  proc.stdout?.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
  proc.stderr?.on('data', (chunk: Buffer) => (printed += chunk.toString('utf8')));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  void exited.then(() => processes.delete(proc));
  const log = (): string => `${readIfThere(logPath)}${printed}`;
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      await exited;
    }
  };
  const deadline = Date.now() + kListenTimeoutMs;
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`nutcracker exited during start-up:\n${log()}`);
    if (await accepts(listenPort)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`nutcracker did not listen on ${listenPort} within ${kListenTimeoutMs} ms:\n${log()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, kPollMs));
  }
  return { port: listenPort, statsPort, confPath, logPath, proc, log, stop };
}

/** nutcracker's stats JSON (one connection to the stats port, which answers and closes). */
export function nutcrackerStats(statsPort: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const socket = connect(statsPort, '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.once('error', reject);
    socket.once('close', () => {
      try {
        resolve(JSON.parse(text) as Record<string, unknown>);
      } catch (error) {
        reject(new Error(`nutcracker stats are not JSON: ${text} (${(error as Error).message})`));
      }
    });
  });
}

export interface ShardProcess {
  child: ChildServer;
  dataDir: string;
  skyhashPort: number;
  respPort: number;
  /** SIGKILL and wait for the exit (a crash, not a shutdown). */
  kill(): Promise<void>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

/**
 * A frostkv shard as a child process (the CLI, through tsx), resolved once it is ready to
 * accept connections (its data loaded). `respPort` reuses a port, for a restart in place.
 */
export async function startShard(options: { dataDir?: string; skyhashPort?: number; respPort?: number; extraArgs?: string[] } = {}): Promise<ShardProcess> {
  const dataDir = options.dataDir ?? tempDir();
  const skyhashPort = options.skyhashPort ?? (await freePort());
  const respPort = options.respPort ?? (await freePort());
  const args = ['--noart', '--data-dir', dataDir, '--port', String(skyhashPort), '--resp-port', String(respPort), '--workers', '1', ...(options.extraArgs ?? [])];
  return startShardWithArgs(args);
}

/** A frostkv shard started with exactly `args` (which must name --data-dir, --port and --resp-port). */
export async function startShardWithArgs(args: readonly string[]): Promise<ShardProcess> {
  const value = (flag: string): string => {
    const at = args.indexOf(flag);
    if (at < 0 || at + 1 >= args.length) throw new Error(`a shard needs ${flag}: ${args.join(' ')}`);
    return args[at + 1] as string;
  };
  const dataDir = value('--data-dir');
  const skyhashPort = Number(value('--port'));
  const respPort = Number(value('--resp-port'));
  const child = spawnCli([...args]);
  processes.add(child.proc);
  void child.exited.then(() => processes.delete(child.proc));
  await child.waitFor(/ready to accept connections/, kShardStartTimeoutMs);
  const ended = (): boolean => child.proc.exitCode !== null || child.proc.signalCode !== null;
  return {
    child,
    dataDir,
    skyhashPort,
    respPort,
    async kill(): Promise<void> {
      if (!ended()) child.proc.kill('SIGKILL');
      await child.exited;
    },
    async stop(): Promise<void> {
      if (!ended()) child.proc.kill('SIGTERM');
      await child.exited;
    },
  };
}

// ------------------------------------------------------------------ ketama, as twemproxy 0.5.0 computes it

/** Points per server on the continuum, and points taken from each MD5 digest (nc_ketama.c). */
const kKetamaPointsPerServer = 160;
const kKetamaPointsPerHash = 4;

/**
 * twemproxy's `fnv1a_64`: despite the name, a 32-bit FNV-1a seeded with the low 32 bits of the
 * 64-bit offset basis and multiplied by the low 32 bits of the 64-bit prime (nc_fnv.c). Each
 * byte goes through a signed `char`, so bytes >= 0x80 are sign-extended before the xor.
 */
export function twemproxyFnv1a64(key: Buffer): number {
  let hash = 0x84222325;
  for (const byte of key) {
    const value = byte >= 0x80 ? (byte | 0xffffff00) >>> 0 : byte;
    hash = Math.imul((hash ^ value) >>> 0, 0x1b3) >>> 0;
  }
  return hash;
}

/** The part of `key` a `{}` hash tag selects (nc_server.c server_pool_idx); the whole key without one. */
export function hashTagged(key: Buffer): Buffer {
  const open = key.indexOf(0x7b);
  if (open < 0) return key;
  const close = key.indexOf(0x7d, open + 1);
  if (close < 0 || close - open <= 1) return key;
  return key.subarray(open + 1, close);
}

interface ContinuumPoint {
  value: number;
  name: string;
}

/** The ketama continuum over live servers, computed in float32 exactly as ketama_update does. */
export function ketamaContinuum(servers: ReadonlyArray<{ name: string; weight?: number }>): ContinuumPoint[] {
  const total = servers.reduce((sum, server) => sum + (server.weight ?? 1), 0);
  const points: ContinuumPoint[] = [];
  for (const server of servers) {
    const pct = Math.fround((server.weight ?? 1) / total);
    const scaled = Math.fround(Math.fround(Math.fround(pct * kKetamaPointsPerServer) / 4) * servers.length);
    const pointsOfServer = Math.floor(Math.fround(scaled + 0.0000000001)) * 4;
    for (let index = 0; index < pointsOfServer / kKetamaPointsPerHash; index++) {
      const digest = createHash('md5').update(`${server.name}-${index}`).digest();
      for (let x = 0; x < kKetamaPointsPerHash; x++) points.push({ value: digest.readUInt32LE(x * 4), name: server.name });
    }
  }
  return points.sort((a, b) => a.value - b.value);
}

/** The server name twemproxy sends `key` to (ketama, fnv1a_64, `{}` hash tags). */
export function ketamaServerFor(continuum: readonly ContinuumPoint[], key: string | Buffer): string {
  const bytes = hashTagged(typeof key === 'string' ? Buffer.from(key) : key);
  const hash = bytes.length === 0 ? 0 : twemproxyFnv1a64(bytes);
  let left = 0;
  let right = continuum.length;
  while (left < right) {
    const middle = (left + right) >>> 1;
    if ((continuum[middle] as ContinuumPoint).value < hash) left = middle + 1;
    else right = middle;
  }
  return (continuum[right === continuum.length ? 0 : right] as ContinuumPoint).name;
}
