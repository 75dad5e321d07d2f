/**
 * frostkv's RESP port against Redis, side by side on loopback, in one run, alternating:
 * redis-benchmark throughput, then saves on the same data (the goals in bench/RESULTS.md).
 *
 *   node --import tsx bench/vs-redis.ts            # 3 rounds; save comparison at 1M keys
 *   node --import tsx bench/vs-redis.ts --full     # save comparison at 1M and 5M keys
 *   node --import tsx bench/vs-redis.ts --smoke    # tiny, seconds, no chart file (run by the tests)
 *   options: --rounds R (3), --requests N (redis-benchmark -n, 1000000), --keys N[,N...]
 *            (save comparison sizes), --window-seconds S (idle/saving window, 5),
 *            --load-connections C (50), --skip-benchmark, --skip-saves,
 *            --chart PATH (bench/results/vs-redis-latency.svg)
 *
 * Both servers run without periodic saves (Redis `--save "" --appendonly no`, frostkv
 * `--nosave`); every save below is requested by the bench. frostkv runs from the compiled
 * build when dist/ exists (or the one FROSTKV_BENCH_SERVER names), else from src/ through tsx.
 *
 * Scenarios (one JSON line each on stdout; notes on stderr). Each line carries the frostkv
 * figure, the Redis figure of the same run and `ratio` = frostkv / Redis:
 *   env, peer                   machine and commit; whether Redis is installed
 *   redis-benchmark             per command (SET, GET, INCR, HSET, MSET (10 keys), and SET EX 100)
 *                               and pipeline depth (1, 16): median rps and p50/p99 of the rounds
 *                               (redis-benchmark -t set,get,incr,hset,mset -c 50 -d 64 -r 1000000,
 *                               then the custom command `SET key:__rand_int__ <64 B> EX 100`)
 *   bulk-load                   exactly N keys `key:%012d` x 64-byte values, pipelined raw RESP
 *   bgsave-idle                 BGSAVE duration with no load (INFO polled every 10 ms)
 *   save-sync                   SAVE round trip (Redis: blocking save; frostkv: the live save)
 *   mksnap                      frostkv Skyhash `MKSNAP name` round trip, vs Redis BGSAVE
 *   cut-pause                   frostkv frostkv_last_cut_pause_ms vs Redis latest_fork_usec
 *   write-p99-single-save       SET p99 during one save under a 50-connection closed-loop SET
 *                               load, and in an idle window of the same load before it
 *   write-throughput-single-save
 *   write-p99-back-to-back      the same while saves run back to back for a whole window
 *   write-throughput-back-to-back
 *   memory-during-save          extra memory during saves under write load (RSS growth, plus
 *                               Redis's fork child's private bytes) and copy-on-write peaks
 * Save scenarios carry `keys`; with --full they repeat for 5M keys.
 *
 * The machine has 2 cores: the load generator (this process, or redis-benchmark), the server,
 * frostkv's save workers and Redis's fork child all share them.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argValue, emit, machineFacts, maxOf, median, modeOf, note, sleep, type JsonValue } from './support.js';
import { RedisServer, RespClient, redisInstalled } from './redis-peer.js';
import { FrostServerProcess, frostEntry } from './net-frostkv.js';
import { bulkLoad, WriteLoad, kKeyBytes, type WindowStats } from './net-resp.js';
import { commandLine, runBenchmark } from './redis-benchmark.js';
import { bgsave, directoryBytes, syncSave, type SaveRun, type SaveTarget, type SystemName } from './net-saves.js';
import { skyQuery, skyRoundTrip } from './net-skyhash.js';
import { renderLatencyChart, type SystemTimeline } from './net-chart.js';

const kBench = 'vs-redis';
const kValueBytes = 64;
const kBenchmarkBin = process.env.REDIS_BENCHMARK_BIN ?? 'redis-benchmark';
const kDefaultChart = fileURLToPath(new URL('./results/vs-redis-latency.svg', import.meta.url));

interface Options {
  smoke: boolean;
  rounds: number;
  requests: number;
  keyspace: number;
  keySizes: number[];
  windowMs: number;
  warmMs: number;
  loadConnections: number;
  benchmark: boolean;
  saves: boolean;
  chartPath: string | null;
}

function positiveInt(raw: string, name: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}

function parseOptions(argv: readonly string[]): Options {
  const mode = modeOf(argv);
  const smoke = mode === 'smoke';
  const keysRaw = argValue(argv, '--keys');
  const keySizes = keysRaw !== undefined ? keysRaw.split(',').map((part) => positiveInt(part, '--keys')) : smoke ? [5000] : mode === 'full' ? [1_000_000, 5_000_000] : [1_000_000];
  const windowRaw = argValue(argv, '--window-seconds');
  const windowSeconds = windowRaw === undefined ? (smoke ? 0.4 : 5) : Number(windowRaw);
  if (!(windowSeconds > 0)) throw new Error(`--window-seconds must be positive, got ${windowRaw}`);
  const chartRaw = argValue(argv, '--chart');
  return {
    smoke,
    rounds: positiveInt(argValue(argv, '--rounds') ?? (smoke ? '1' : '3'), '--rounds'),
    requests: positiveInt(argValue(argv, '--requests') ?? (smoke ? '2000' : '1000000'), '--requests'),
    keyspace: smoke ? 2000 : 1_000_000,
    keySizes,
    windowMs: windowSeconds * 1000,
    warmMs: smoke ? 200 : 1000,
    loadConnections: positiveInt(argValue(argv, '--load-connections') ?? '50', '--load-connections'),
    benchmark: !argv.includes('--skip-benchmark'),
    saves: !argv.includes('--skip-saves'),
    // Smoke mode renders into a temp file (the code path runs) and deletes it.
    chartPath: smoke ? join(tmpdir(), `vs-redis-smoke-${process.pid}.svg`) : (chartRaw ?? kDefaultChart),
  };
}

function benchmarkInstalled(): boolean {
  const result = spawnSync(kBenchmarkBin, ['--version'], { encoding: 'utf8' });
  return result.error === undefined && result.status === 0;
}

interface System {
  name: SystemName;
  port: number;
  pid: number;
  control: RespClient;
  target: SaveTarget;
}

/** frostkv / Redis when Redis ran, else undefined (the field is left out). */
function ratioOf(frost: number, redis: number | undefined): number | undefined {
  if (redis === undefined || redis === 0) return undefined;
  return frost / redis;
}

function medianOf(values: readonly number[]): number {
  return values.length === 0 ? 0 : median(values);
}

/** Put `redis` figures into a line only when Redis ran. */
function withRedis(fields: Record<string, JsonValue | undefined>, redis: Record<string, JsonValue | undefined> | null): Record<string, JsonValue | undefined> {
  return redis === null ? fields : { ...fields, ...redis };
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const facts = machineFacts();
  const installation = redisInstalled();
  const hasBenchmark = benchmarkInstalled();
  const { entry, stale } = frostEntry();
  emit(kBench, 'env', {
    ...facts,
    frostkvEntry: entry === 'dist' ? (process.env.FROSTKV_BENCH_SERVER ?? 'compiled dist/') : 'src/ through tsx',
    buildStale: stale,
    rounds: options.rounds,
    benchmarkRequests: options.requests,
    saveKeys: options.keySizes.join(','),
    windowMs: options.windowMs,
    loadConnections: options.loadConnections,
  });
  if (installation === null) {
    emit(kBench, 'peer', { peer: 'redis', status: 'not installed', redisBenchmark: hasBenchmark });
    note('redis-server is not installed: measuring frostkv alone, no ratios');
  } else {
    emit(kBench, 'peer', { peer: 'redis', status: 'installed', version: installation.serverVersion, redisBenchmark: hasBenchmark });
  }

  const frost = await FrostServerProcess.start({ resp: true });
  const redisDir = installation === null ? null : mkdtempSync(join(tmpdir(), 'frostkv-vsredis-redis-'));
  let redis: RedisServer | null = null;
  const systems: System[] = [];
  try {
    const frostControl = await RespClient.connect(frost.respPort as number);
    systems.push({
      name: 'frostkv',
      port: frost.respPort as number,
      pid: frost.pid,
      control: frostControl,
      target: { name: 'frostkv', port: frost.respPort as number, pid: frost.pid, control: frostControl, saveSizeBytes: () => directoryBytes(join(frost.dataDir, 'ks')) },
    });
    if (redisDir !== null) {
      redis = (await RedisServer.start(redisDir)).server;
      const redisControl = await RespClient.connect(redis.port);
      systems.push({
        name: 'redis',
        port: redis.port,
        pid: redis.pid,
        control: redisControl,
        target: { name: 'redis', port: redis.port, pid: redis.pid, control: redisControl, saveSizeBytes: () => directoryBytes(join(redisDir, 'dump.rdb')) },
      });
    }
    /** Systems in the order of this round: alternate who goes first. */
    const ordered = (round: number): System[] => (round % 2 === 0 ? systems : [...systems].reverse());

    if (options.benchmark && hasBenchmark) await benchmarks(options, ordered);
    else if (options.benchmark) note('redis-benchmark is not installed: skipping the redis-benchmark scenario');

    if (options.saves) {
      const timelines: SystemTimeline[] = [];
      for (const keys of options.keySizes) {
        const lines = await saveComparison(options, keys, systems, ordered, frost);
        if (keys === options.keySizes[0]) timelines.push(...lines);
      }
      if (options.chartPath !== null && timelines.length > 0) {
        const keys = options.keySizes[0] as number;
        const caption = `${keys.toLocaleString('en-US')} keys x ${kValueBytes} B; ${options.loadConnections} connections, one SET in flight each (closed loop); 2 cores shared by load generator and server; commit ${facts.commit}`;
        const bytes = await renderLatencyChart(options.chartPath, timelines, caption);
        note(`chart: ${options.chartPath} (${bytes} bytes)`);
        if (options.smoke) rmSync(options.chartPath, { force: true });
      }
    }
    for (const system of systems) system.control.close();
    return 0;
  } finally {
    await redis?.stop();
    if (redisDir !== null) rmSync(redisDir, { recursive: true, force: true });
    await frost.stop();
  }
}

// ------------------------------------------------------------------ redis-benchmark

/** The redis-benchmark tests, and the custom SET ... EX run (a key with an expiry costs more than a plain SET). */
const kBenchmarkTests = 'set,get,incr,hset,mset';
const kExpireSeconds = 100;
const kDepths = [1, 16] as const;

/** One redis-benchmark invocation's arguments (no host, port, -q or --csv: runBenchmark adds them). */
function benchmarkArgs(options: Options, pipeline: number, custom: boolean): string[] {
  const common = ['-c', '50', '-r', String(options.keyspace), '-n', String(options.requests), '-P', String(pipeline)];
  if (!custom) return [...common, '-d', String(kValueBytes), '-t', kBenchmarkTests];
  // __rand_int__ is 12 zero-padded digits, so these are the same 16-byte keys -t set writes.
  return [...common, 'SET', 'key:__rand_int__', 'v'.repeat(kValueBytes), 'EX', String(kExpireSeconds)];
}

/** Short names for the rows: redis-benchmark names a custom command by its whole text. */
function commandName(test: string): string {
  return test.startsWith('SET key:') ? `SET EX ${kExpireSeconds}` : test;
}

interface BenchmarkFigures {
  rps: number[];
  p50: number[];
  p99: number[];
  commandLine: string;
}

async function benchmarks(options: Options, ordered: (round: number) => System[]): Promise<void> {
  const results = new Map<string, BenchmarkFigures>();
  const commands: string[] = [];
  for (let round = 0; round < options.rounds; round++) {
    for (const pipeline of kDepths) {
      for (const custom of [false, true]) {
        for (const system of ordered(round)) {
          const run = await runBenchmark(system.port, benchmarkArgs(options, pipeline, custom));
          for (const row of run.rows) {
            const command = commandName(row.test);
            if (!commands.includes(command)) commands.push(command);
            const id = `${system.name}/${command}/${pipeline}`;
            const entry = results.get(id) ?? { rps: [], p50: [], p99: [], commandLine: commandLine(run) };
            entry.rps.push(row.rps);
            entry.p50.push(row.p50Ms);
            entry.p99.push(row.p99Ms);
            results.set(id, entry);
            note(`round ${round + 1}/${options.rounds} ${system.name} ${command} -P ${pipeline}: ${row.rps} rps, p99 ${row.p99Ms} ms`);
          }
        }
      }
    }
  }
  const redisRan = ordered(0).some((system) => system.name === 'redis');
  for (const pipeline of kDepths) {
    for (const command of commands) {
      const f = results.get(`frostkv/${command}/${pipeline}`);
      const r = results.get(`redis/${command}/${pipeline}`);
      if (f === undefined) continue;
      emitBenchmarkLine(options, command, pipeline, f, redisRan ? r : undefined);
    }
  }
}

function emitBenchmarkLine(options: Options, command: string, pipeline: number, f: BenchmarkFigures, r: BenchmarkFigures | undefined): void {
  const frostRps = median(f.rps);
  const redisRps = r === undefined ? undefined : median(r.rps);
  const ratio = ratioOf(frostRps, redisRps);
  emit(
    kBench,
    'redis-benchmark',
    withRedis(
      {
        command,
        pipeline,
        clients: 50,
        valueBytes: kValueBytes,
        requests: options.requests,
        rounds: f.rps.length,
        commandLine: f.commandLine,
        frostkvRps: frostRps,
        frostkvRpsRounds: f.rps.map(Math.round),
        frostkvP50Ms: median(f.p50),
        frostkvP99Ms: median(f.p99),
        goal: '>= 1.0x Redis',
      },
      r !== undefined
        ? { redisRps, redisRpsRounds: r.rps.map(Math.round), redisP50Ms: median(r.p50), redisP99Ms: median(r.p99), ratio, met: (ratio ?? 0) >= 1 }
        : null,
    ),
  );
}

// ------------------------------------------------------------------ saves

interface LoadWindow {
  idle: WindowStats;
  saving: WindowStats;
  saves: SaveRun[];
  errors: number;
}

/** Run the write load: warm up, an idle window, then `during` (which runs saves); returns both windows. */
async function underLoad(options: Options, system: System, keys: number, during: (load: WriteLoad) => Promise<SaveRun[]>): Promise<LoadWindow & { load: WriteLoad }> {
  const load = new WriteLoad(system.port, keys, kValueBytes, options.loadConnections);
  await load.start();
  await sleep(options.warmMs);
  const idleFrom = performance.now();
  await sleep(options.windowMs);
  const idleTo = performance.now();
  const saves = await during(load);
  await sleep(options.smoke ? 100 : 1000);
  await load.stop();
  if (load.errors > 0) throw new Error(`${system.name}: ${load.errors} SETs failed under load, e.g. ${load.lastError}`);
  const first = saves[0] as SaveRun;
  const last = saves[saves.length - 1] as SaveRun;
  return { idle: load.window(idleFrom, idleTo), saving: load.window(first.startMs, last.endMs), saves, errors: load.errors, load };
}

function summary(list: readonly LoadWindow[]): { idleP99: number; savingP99: number; idleOps: number; savingOps: number; p99Ratio: number; opsRatio: number } {
  const idleP99 = medianOf(list.map((w) => w.idle.p99Ms));
  const savingP99 = medianOf(list.map((w) => w.saving.p99Ms));
  const idleOps = medianOf(list.map((w) => w.idle.opsPerSec));
  const savingOps = medianOf(list.map((w) => w.saving.opsPerSec));
  return {
    idleP99,
    savingP99,
    idleOps,
    savingOps,
    // Median of each round's own ratio: rounds differ in background noise.
    p99Ratio: medianOf(list.map((w) => (w.idle.p99Ms === 0 ? 0 : w.saving.p99Ms / w.idle.p99Ms))),
    opsRatio: medianOf(list.map((w) => (w.idle.opsPerSec === 0 ? 0 : w.saving.opsPerSec / w.idle.opsPerSec))),
  };
}

async function saveComparison(
  options: Options,
  keys: number,
  systems: readonly System[],
  ordered: (round: number) => System[],
  frost: FrostServerProcess,
): Promise<SystemTimeline[]> {
  const dataBytes = keys * (kKeyBytes + kValueBytes);
  const byName = (name: SystemName): System | undefined => systems.find((system) => system.name === name);
  const redisRan = byName('redis') !== undefined;

  // ---- load exactly the same keys into both
  const loadMs = new Map<SystemName, number>();
  for (const system of systems) {
    await system.control.command('FLUSHDB');
    const { ms } = await bulkLoad(system.port, keys, kValueBytes);
    const size = await system.control.command('DBSIZE');
    if (size !== keys) throw new Error(`${system.name}: DBSIZE is ${String(size)} after loading ${keys} keys`);
    loadMs.set(system.name, ms);
    note(`${system.name}: loaded ${keys} keys in ${Math.round(ms)} ms`);
  }
  const frostLoad = keys / ((loadMs.get('frostkv') as number) / 1000);
  const redisLoad = redisRan ? keys / ((loadMs.get('redis') as number) / 1000) : undefined;
  emit(kBench, 'bulk-load', withRedis({ keys, valueBytes: kValueBytes, dataBytes, frostkvOpsPerSec: frostLoad }, redisRan ? { redisOpsPerSec: redisLoad, ratio: ratioOf(frostLoad, redisLoad) } : null));

  // ---- idle saves, SAVE round trips, MKSNAP
  const idle = new Map<SystemName, SaveRun[]>();
  const sync = new Map<SystemName, number[]>();
  const mksnapMs: number[] = [];
  const sizes = new Map<SystemName, number>();
  for (let round = 0; round < options.rounds; round++) {
    for (const system of ordered(round)) {
      const run = await bgsave(system.target);
      idle.set(system.name, [...(idle.get(system.name) ?? []), run]);
      sizes.set(system.name, system.target.saveSizeBytes());
      sync.set(system.name, [...(sync.get(system.name) ?? []), await syncSave(system.target)]);
      note(`round ${round + 1}/${options.rounds} ${system.name} ${keys} keys: BGSAVE ${Math.round(run.wallMs)} ms (pause ${run.pauseMs.toFixed(3)} ms)`);
      if (system.name === 'frostkv') {
        const name = `bench-${keys}-r${round}`;
        const startedAt = performance.now();
        const reply = (await skyRoundTrip(frost.skyhashPort, skyQuery('MKSNAP', name))).toString('latin1');
        mksnapMs.push(performance.now() - startedAt);
        if (reply !== '*1\n!1\n0\n') throw new Error(`MKSNAP ${name} answered ${JSON.stringify(reply)}`);
        rmSync(join(frost.dataDir, 'rsnap', name), { recursive: true, force: true });
      }
    }
  }
  const fIdle = idle.get('frostkv') as SaveRun[];
  const rIdle = idle.get('redis');
  const fBgsave = median(fIdle.map((run) => run.wallMs));
  const rBgsave = rIdle === undefined ? undefined : median(rIdle.map((run) => run.wallMs));
  emit(
    kBench,
    'bgsave-idle',
    withRedis(
      {
        keys,
        dataBytes,
        rounds: fIdle.length,
        frostkvDurationMs: fBgsave,
        frostkvDurationMsRounds: fIdle.map((run) => Math.round(run.wallMs)),
        frostkvReportedDurationMs: median(fIdle.map((run) => run.reportedMs)),
        frostkvSaveBytes: sizes.get('frostkv') ?? 0,
        goal: '<= 0.3x Redis',
      },
      rIdle === undefined
        ? null
        : {
            redisDurationMs: rBgsave,
            redisDurationMsRounds: rIdle.map((run) => Math.round(run.wallMs)),
            redisReportedDurationMs: median(rIdle.map((run) => run.reportedMs)),
            redisDumpBytes: sizes.get('redis') ?? 0,
            ratio: ratioOf(fBgsave, rBgsave),
            met: (ratioOf(fBgsave, rBgsave) ?? Infinity) <= 0.3,
          },
    ),
  );
  const fSync = median(sync.get('frostkv') as number[]);
  const rSyncList = sync.get('redis');
  const rSync = rSyncList === undefined ? undefined : median(rSyncList);
  emit(kBench, 'save-sync', withRedis({ keys, frostkvSaveMs: fSync }, rSync === undefined ? null : { redisSaveMs: rSync, ratio: ratioOf(fSync, rSync) }));
  emit(
    kBench,
    'mksnap',
    withRedis({ keys, frostkvMksnapMs: median(mksnapMs), note: 'frostkv Skyhash MKSNAP name round trip (reply when durable) vs Redis BGSAVE duration' }, rBgsave === undefined ? null : { redisBgsaveMs: rBgsave, ratio: ratioOf(median(mksnapMs), rBgsave) }),
  );

  // ---- one save under write load, then back-to-back saves under write load
  const single = new Map<SystemName, LoadWindow[]>();
  const backToBack = new Map<SystemName, LoadWindow[]>();
  const timelines = new Map<SystemName, SystemTimeline>();
  const slowestIdleSaveMs = Math.max(fBgsave, rBgsave ?? 0);
  const backToBackMs = Math.max(2 * options.windowMs, 2.2 * slowestIdleSaveMs);
  for (let round = 0; round < options.rounds; round++) {
    for (const system of ordered(round)) {
      const one = await underLoad(options, system, keys, async () => [await bgsave(system.target)]);
      single.set(system.name, [...(single.get(system.name) ?? []), one]);
      const save = one.saves[0] as SaveRun;
      note(
        `round ${round + 1}/${options.rounds} ${system.name} ${keys} keys, one save under load: ${Math.round(save.wallMs)} ms; ` +
          `p99 idle ${one.idle.p99Ms.toFixed(3)} ms, saving ${one.saving.p99Ms.toFixed(3)} ms; ${Math.round(one.idle.opsPerSec)} -> ${Math.round(one.saving.opsPerSec)} SET/s`,
      );
      if (round === options.rounds - 1) {
        timelines.set(system.name, {
          system: system.name === 'frostkv' ? 'frostkv' : 'Redis',
          points: one.load.points(save.startMs - 2000, save.endMs + 1000, save.startMs),
          saveEndMs: save.wallMs,
          pauseMs: save.pauseMs,
        });
      }
    }
    for (const system of ordered(round)) {
      const windowed = await underLoad(options, system, keys, async () => {
        const runs: SaveRun[] = [];
        const from = performance.now();
        while (performance.now() - from < backToBackMs) runs.push(await bgsave(system.target));
        return runs;
      });
      backToBack.set(system.name, [...(backToBack.get(system.name) ?? []), windowed]);
      note(
        `round ${round + 1}/${options.rounds} ${system.name} ${keys} keys, ${windowed.saves.length} back-to-back saves: ` +
          `p99 idle ${windowed.idle.p99Ms.toFixed(3)} ms, saving ${windowed.saving.p99Ms.toFixed(3)} ms; ${Math.round(windowed.idle.opsPerSec)} -> ${Math.round(windowed.saving.opsPerSec)} SET/s`,
      );
    }
  }

  const loadNote = `${options.loadConnections} connections, one SET in flight each, random existing keys`;
  for (const [scenario, map, p99Goal, opsGoal] of [
    ['single-save', single, null, null],
    ['back-to-back', backToBack, 1.5, 0.7],
  ] as const) {
    const f = summary(map.get('frostkv') as LoadWindow[]);
    const rList = map.get('redis');
    const r = rList === undefined ? null : summary(rList);
    const savesPerWindow = medianOf((map.get('frostkv') as LoadWindow[]).map((w) => w.saves.length));
    emit(
      kBench,
      `write-p99-${scenario}`,
      withRedis(
        {
          keys,
          load: loadNote,
          frostkvIdleP99Ms: f.idleP99,
          frostkvSavingP99Ms: f.savingP99,
          frostkvSavingOverIdle: f.p99Ratio,
          frostkvSavesPerWindow: savesPerWindow,
          goal: p99Goal === null ? undefined : `frostkv saving/idle <= ${p99Goal}x`,
          met: p99Goal === null ? undefined : f.p99Ratio <= p99Goal,
        },
        r === null
          ? null
          : {
              redisIdleP99Ms: r.idleP99,
              redisSavingP99Ms: r.savingP99,
              redisSavingOverIdle: r.p99Ratio,
              redisSavesPerWindow: medianOf((rList as LoadWindow[]).map((w) => w.saves.length)),
              ratio: ratioOf(f.savingP99, r.savingP99),
            },
      ),
    );
    emit(
      kBench,
      `write-throughput-${scenario}`,
      withRedis(
        {
          keys,
          load: loadNote,
          frostkvIdleOpsPerSec: f.idleOps,
          frostkvSavingOpsPerSec: f.savingOps,
          frostkvSavingOverIdle: f.opsRatio,
          goal: opsGoal === null ? undefined : `frostkv saving/idle >= ${opsGoal}x`,
          met: opsGoal === null ? undefined : f.opsRatio >= opsGoal,
        },
        r === null ? null : { redisIdleOpsPerSec: r.idleOps, redisSavingOpsPerSec: r.savingOps, redisSavingOverIdle: r.opsRatio, ratio: ratioOf(f.savingOps, r.savingOps) },
      ),
    );
  }

  // ---- memory during saves under write load (every save of both load phases)
  const savesUnderLoad = (name: SystemName): SaveRun[] => [...(single.get(name) ?? []), ...(backToBack.get(name) ?? [])].flatMap((w) => w.saves);
  const fSaves = savesUnderLoad('frostkv');
  const rSaves = redisRan ? savesUnderLoad('redis') : null;
  const fExtra = maxOf(fSaves.map((run) => run.extraMemoryBytes));
  const fCow = maxOf(fSaves.map((run) => run.cowPeakBytes));
  const rExtra = rSaves === null ? undefined : maxOf(rSaves.map((run) => run.extraMemoryBytes));
  emit(
    kBench,
    'memory-during-save',
    withRedis(
      {
        keys,
        dataBytes,
        saves: fSaves.length,
        frostkvRssBeforeBytes: median(fSaves.map((run) => run.rssBeforeBytes)),
        frostkvExtraBytesMax: fExtra,
        frostkvExtraPctOfData: (100 * fExtra) / dataBytes,
        frostkvExtraPctOfRssBefore: (100 * fExtra) / median(fSaves.map((run) => run.rssBeforeBytes)),
        frostkvCowPeakBytesMax: fCow,
        goal: 'frostkv extra <= 10% of data',
        met: fExtra <= 0.1 * dataBytes,
      },
      rSaves === null || rExtra === undefined
        ? null
        : {
            redisRssBeforeBytes: median(rSaves.map((run) => run.rssBeforeBytes)),
            redisExtraBytesMax: rExtra,
            redisExtraPctOfData: (100 * rExtra) / dataBytes,
            redisExtraPctOfRssBefore: (100 * rExtra) / median(rSaves.map((run) => run.rssBeforeBytes)),
            redisCowPeakBytesMax: maxOf(rSaves.map((run) => run.cowPeakBytes)),
            ratio: ratioOf(fExtra, rExtra),
          },
    ),
  );

  // ---- pause at the cut / fork, over every save of this size
  const allSaves = (name: SystemName): SaveRun[] => [...(idle.get(name) ?? []), ...savesUnderLoad(name)];
  const fPause = allSaves('frostkv').map((run) => run.pauseMs);
  const rPause = redisRan ? allSaves('redis').map((run) => run.pauseMs) : null;
  emit(
    kBench,
    'cut-pause',
    withRedis(
      {
        keys,
        saves: fPause.length,
        frostkvPauseMsMedian: median(fPause),
        frostkvPauseMsMax: maxOf(fPause),
        goal: 'frostkv < 0.1 ms',
        met: maxOf(fPause) < 0.1,
      },
      rPause === null ? null : { redisForkMsMedian: median(rPause), redisForkMsMax: maxOf(rPause), ratio: ratioOf(median(fPause), median(rPause)) },
    ),
  );

  return [...systems.map((system) => timelines.get(system.name)).filter((t): t is SystemTimeline => t !== undefined)];
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`vs-redis bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
