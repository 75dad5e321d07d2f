/**
 * Throughput through twemproxy (nutcracker) over 1, 2 and 3 shards, frostkv against Redis, in
 * one run, alternating frostkv and Redis at each shard count (docs/scale-out.md):
 *
 *   node --import tsx bench/scale-out.ts            # 3 rounds, redis-benchmark -n 1000000
 *   node --import tsx bench/scale-out.ts --smoke    # tiny, seconds (run by the tests)
 *   options: --rounds R (3), --requests N (1000000), --shards 1,2,3
 *
 * Each measurement is `redis-benchmark -t set,get -c 50 -P 16 -n <N> -r 1000000 -d 64 --csv`
 * against nutcracker's port, with N shards behind it (ketama, fnv1a_64, named shards, the YAML of
 * docs/scale-out.md); the same against one server directly (`direct`, no proxy) shows what the
 * proxy itself costs. Redis shards run with `--save "" --appendonly no`, frostkv shards with
 * `--nosave`, both on free loopback ports; frostkv from the compiled dist/ when it exists.
 *
 * Output (stdout, one JSON line each; notes on stderr):
 *   env                machine, commit, nutcracker version, frostkv entry, options
 *   peer               whether redis-server is installed (without it, frostkv only)
 *   throughput         one line per system x shards x command x round: rps, p50/p99/max ms
 *   summary            per shards x command: median rps of the rounds for both, ratio
 *
 * What the figures mean on a small machine: nutcracker is one single-threaded process, every
 * shard is one more, and redis-benchmark is another; on 2 cores they share two cores, so adding
 * shards cannot add throughput beyond what the cores allow (env carries `cores`).
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { argValue, emit, machineFacts, median, modeOf, note, sleep, type JsonValue } from './support.js';
import { freePort, RedisServer, redisInstalled } from './redis-peer.js';
import { FrostServerProcess, canConnect, frostEntry } from './net-frostkv.js';
import { kBenchmarkBin, runBenchmark, type BenchmarkCsvRow } from './redis-benchmark.js';

const kBench = 'scale-out';
const kNutcrackerBin = process.env.NUTCRACKER_BIN ?? 'nutcracker';
const kClients = 50;
const kPipeline = 16;
const kKeyspace = 1_000_000;
const kValueBytes = 64;
const kListenTimeoutMs = 10_000;

type SystemName = 'frostkv' | 'redis';

interface Options {
  rounds: number;
  requests: number;
  shardCounts: number[];
}

function positiveInt(raw: string, name: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}

function parseOptions(argv: readonly string[]): Options {
  const smoke = modeOf(argv) === 'smoke';
  return {
    rounds: positiveInt(argValue(argv, '--rounds') ?? (smoke ? '1' : '3'), '--rounds'),
    requests: positiveInt(argValue(argv, '--requests') ?? (smoke ? '2000' : '1000000'), '--requests'),
    shardCounts: (argValue(argv, '--shards') ?? '1,2,3').split(',').map((part) => positiveInt(part, '--shards')),
  };
}

function nutcrackerVersion(): string | null {
  const run = spawnSync(kNutcrackerBin, ['-V'], { encoding: 'utf8' });
  if (run.error !== undefined || run.status !== 0) return null;
  return /nutcracker-([0-9.]+)/.exec(`${run.stdout}${run.stderr}`)?.[1] ?? 'unknown';
}

/** nutcracker over `ports` (shards named shard0..), on free listen and stats ports; stop() kills it and removes its files. */
async function startProxy(ports: readonly number[]): Promise<{ port: number; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'frostkv-scaleout-'));
  const listen = await freePort();
  const yaml = [
    'bench:',
    `  listen: 127.0.0.1:${listen}`,
    '  redis: true',
    '  distribution: ketama',
    '  hash: fnv1a_64',
    '  hash_tag: "{}"',
    '  timeout: 10000',
    '  servers:',
    ...ports.map((port, index) => `    - 127.0.0.1:${port}:1 shard${index}`),
  ].join('\n');
  writeFileSync(join(dir, 'nutcracker.yml'), `${yaml}\n`);
  const stats = await freePort();
  const child: ChildProcess = spawn(kNutcrackerBin, ['-c', join(dir, 'nutcracker.yml'), '-s', String(stats), '-a', '127.0.0.1', '-o', join(dir, 'nutcracker.log')], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.once('exit', () => child.kill('SIGKILL'));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = performance.now() + kListenTimeoutMs;
  while (!(await canConnect(listen))) {
    if (child.exitCode !== null || performance.now() > deadline) {
      await stop();
      throw new Error(`nutcracker did not listen on ${listen}`);
    }
    await sleep(20);
  }
  return { port: listen, stop };
}

interface Shards {
  ports: number[];
  stop: () => Promise<void>;
}

async function startShards(system: SystemName, count: number): Promise<Shards> {
  if (system === 'frostkv') {
    const servers = await Promise.all(Array.from({ length: count }, () => FrostServerProcess.start({ resp: true })));
    return { ports: servers.map((server) => server.respPort as number), stop: async () => void (await Promise.all(servers.map((server) => server.stop()))) };
  }
  const dirs = Array.from({ length: count }, () => mkdtempSync(join(tmpdir(), 'frostkv-scaleout-redis-')));
  const servers = await Promise.all(dirs.map(async (dir) => (await RedisServer.start(dir)).server));
  return {
    ports: servers.map((server) => server.port),
    stop: async () => {
      await Promise.all(servers.map((server) => server.stop()));
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One redis-benchmark run against `count` shards of `system`, through the proxy (or direct). */
async function measure(system: SystemName, count: number, requests: number, viaProxy: boolean): Promise<BenchmarkCsvRow[]> {
  const shards = await startShards(system, count);
  try {
    const proxy = viaProxy ? await startProxy(shards.ports) : null;
    try {
      const args = ['-t', 'set,get', '-c', String(kClients), '-P', String(kPipeline), '-n', String(requests), '-r', String(kKeyspace), '-d', String(kValueBytes)];
      return (await runBenchmark(proxy?.port ?? (shards.ports[0] as number), args)).rows;
    } finally {
      await proxy?.stop();
    }
  } finally {
    await shards.stop();
  }
}

type Results = Map<string, number[]>;

function record(results: Results, system: SystemName, shards: number | 'direct', rows: readonly BenchmarkCsvRow[], round: number): void {
  for (const row of rows) {
    emit(kBench, 'throughput', { system, shards, proxy: shards !== 'direct', command: row.test, round, rps: row.rps, p50Ms: row.p50Ms, p99Ms: row.p99Ms, maxMs: row.maxMs });
    const key = `${system}/${shards}/${row.test}`;
    results.set(key, [...(results.get(key) ?? []), row.rps]);
  }
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const installation = redisInstalled();
  const version = nutcrackerVersion();
  const { entry, stale } = frostEntry();
  emit(kBench, 'env', {
    ...machineFacts(),
    nutcracker: version ?? 'not installed',
    frostkvEntry: entry === 'dist' ? (process.env.FROSTKV_BENCH_SERVER ?? 'compiled dist/') : 'src/ through tsx',
    buildStale: stale,
    rounds: options.rounds,
    requests: options.requests,
    shardCounts: options.shardCounts.join(','),
    benchmark: `redis-benchmark -t set,get -c ${kClients} -P ${kPipeline} -n ${options.requests} -r ${kKeyspace} -d ${kValueBytes} --csv`,
  });
  if (version === null) throw new Error(`nutcracker is not installed (${kNutcrackerBin}): install the Debian package nutcracker`);
  const benchmark = spawnSync(kBenchmarkBin, ['--version'], { encoding: 'utf8' });
  if (benchmark.error !== undefined || benchmark.status !== 0) throw new Error(`redis-benchmark is not installed (${kBenchmarkBin}): install redis-tools`);
  const systems: SystemName[] = installation === null ? ['frostkv'] : ['frostkv', 'redis'];
  emit(kBench, 'peer', installation === null ? { peer: 'redis', status: 'not installed' } : { peer: 'redis', status: 'installed', version: installation.serverVersion });
  if (installation === null) note('redis-server is not installed: measuring frostkv alone, no ratios');

  const results: Results = new Map();
  for (let round = 1; round <= options.rounds; round++) {
    for (const system of systems) record(results, system, 'direct', await measure(system, 1, options.requests, false), round);
    for (const count of options.shardCounts) {
      for (const system of round % 2 === 1 ? systems : [...systems].reverse()) {
        const rows = await measure(system, count, options.requests, true);
        record(results, system, count, rows, round);
        note(`round ${round}/${options.rounds} ${system} x${count}: ${rows.map((row) => `${row.test} ${Math.round(row.rps)} rps`).join(', ')}`);
      }
    }
  }
  summarize(results, systems, options.shardCounts);
  return 0;
}

function summarize(results: Results, systems: readonly SystemName[], shardCounts: readonly number[]): void {
  for (const shards of ['direct' as const, ...shardCounts]) {
    for (const command of ['SET', 'GET']) {
      const frost = results.get(`frostkv/${shards}/${command}`);
      if (frost === undefined) continue;
      const fields: Record<string, JsonValue | undefined> = { shards, proxy: shards !== 'direct', command, frostkvRps: median(frost) };
      if (systems.includes('redis')) {
        const redis = results.get(`redis/${shards}/${command}`);
        if (redis !== undefined) Object.assign(fields, { redisRps: median(redis), ratio: median(frost) / median(redis) });
      }
      emit(kBench, 'summary', fields);
    }
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`scale-out bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
