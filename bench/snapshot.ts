/**
 * Save bench (the goals in bench/RESULTS.md): frostkv saves and startup load against Redis BGSAVE, in one
 * run, side by side, on the same keys.
 *
 *   node --import tsx bench/snapshot.ts            # 1M keys x 64-byte values
 *   node --import tsx bench/snapshot.ts --full     # 1M and 5M keys
 *   node --import tsx bench/snapshot.ts --smoke    # 20k keys, seconds (run by the tests)
 *   options: --rounds N, --window-seconds S, --no-redis, --threads N (persistence workers;
 *            default one per core), --no-compiled (skip the compiled-build startup figure)
 *
 * Scenarios (one JSON line each on stdout; notes on stderr):
 *   env, peer              machine and commit; whether Redis is installed/running
 *   bulk-load              loading the keys (frostkv handle.set loop; Redis pipelined SETs)
 *   snapshot-named         db.snapshot(name) duration and MB/s vs BGSAVE; with save-live, the
 *                          save folder's bytes on disk vs dump.rdb's (folderVsRedisDump)
 *   save-live              db.save() duration and MB/s vs BGSAVE, plus the main-thread stall
 *                          from the call until the event loop turns again
 *   cut-pause              SaveReport.cutPauseMs vs Redis latest_fork_usec
 *   event-loop-delay       monitorEventLoopDelay p99/max (minus its 1 ms resolution) during a
 *                          save vs idle, no write load
 *   write-under-save       a write loop (1000 sets per tick, setImmediate between) during
 *                          back-to-back saves vs idle: throughput, per-set and per-batch p99;
 *                          Redis: redis-benchmark -t set -P 1 -c 50 during back-to-back BGSAVE vs idle
 *   memory-under-save      copy-on-write peak and RSS growth during saves under write load
 *   startup                close + open() on the same dir (in this tsx process) vs redis-server
 *                          restart on its dump; also a fresh process opening the dir from a
 *                          compiled build (tsc into the temp dir; bench/startup-child.mjs),
 *                          spawn-to-ready, which is what a redis-server restart is timed as
 *
 * Keys are `key:` + 12 digits (16 bytes) for both systems, because redis-benchmark -r names
 * its keys that way: its writes then update the loaded keys instead of adding new ones, like
 * frostkv's write loop. Values are 64 bytes (48-byte filler + the key), distinct per key.
 * Rounds alternate frostkv and Redis. Data directories live under the OS temp dir and are
 * deleted at the end.
 */

import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistogram, monitorEventLoopDelay, type RecordableHistogram } from 'node:perf_hooks';
import { open, type Database, type TableHandle } from '../src/index.js';
import type { SaveReport } from '../src/persist/save.js';
import {
  argNumber,
  emit,
  machineFacts,
  maxOf,
  median,
  modeOf,
  note,
  ratio,
  sleep,
  type BenchMode,
} from './support.js';
import {
  RedisServer,
  RespClient,
  encodeCommand,
  infoNumber,
  redisInstalled,
  runRedisBenchmark,
  type RedisBenchmarkResult,
  type RedisInstallation,
} from './redis-peer.js';

const kBench = 'snapshot';
const kKeyDigits = 12;
const kValueBytes = 64;
const kKeyBytes = 4 + kKeyDigits;
const kValueFiller = 'v'.repeat(kValueBytes - kKeyBytes);
const kValueFillerB = 'w'.repeat(kValueBytes - kKeyBytes);
const kSetsPerTick = 1000;
const kEldResolutionMs = 1;

function key(index: number): string {
  return `key:${String(index).padStart(kKeyDigits, '0')}`;
}

function makeRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

// ------------------------------------------------------------------ event-loop delay

interface DelayFigures {
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

function startDelayMonitor(): () => DelayFigures {
  const histogram = monitorEventLoopDelay({ resolution: kEldResolutionMs });
  histogram.enable();
  return () => {
    histogram.disable();
    // The monitor's timer fires every `resolution` ms, so its samples include that interval.
    const figures = {
      p99Ms: Math.max(0, histogram.percentile(99) / 1e6 - kEldResolutionMs),
      maxMs: Math.max(0, histogram.max / 1e6 - kEldResolutionMs),
      meanMs: Math.max(0, histogram.mean / 1e6 - kEldResolutionMs),
    };
    return figures;
  };
}

function turnOfEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// ------------------------------------------------------------------ frostkv side

/** Persistence worker threads (config workers.threads; 0 = one per core, the default). */
let workerThreads = 0;

const kDbConfig = (dir: string) => ({ server: { dataDir: dir }, bgsave: { enabled: false, every: 120 }, workers: { threads: workerThreads } });

async function openDb(dir: string): Promise<Database> {
  return open(kDbConfig(dir), { saveOnShutdown: false });
}

function loadFrostkv(handle: TableHandle, n: number): number {
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const k = key(i);
    handle.set(k, kValueFiller + k);
  }
  return (performance.now() - started) / 1000;
}

interface SaveFigures {
  wallMs: number;
  report: SaveReport;
  delay: DelayFigures;
  /** For live saves: from the db.save() call until a setImmediate queued after it runs. */
  startStallMs: number | null;
  /** Bytes of every file in the save folder on disk (data files and MANIFEST). */
  folderBytes: number;
}

/** Bytes of every file under `dir` (what the save costs on disk, compared with dump.rdb). */
function folderBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += statSync(join(entry.parentPath, entry.name)).size;
  }
  return total;
}

async function frostNamedSnapshot(db: Database, name: string): Promise<SaveFigures> {
  const stop = startDelayMonitor();
  const started = performance.now();
  const result = await db.snapshot(name);
  const wallMs = performance.now() - started;
  const delay = stop();
  if (result.code !== 'ok' || result.report === null) throw new Error(`named snapshot ${name} failed: ${result.code} ${result.message}`);
  const bytes = result.path === null ? 0 : folderBytes(result.path);
  if (result.path !== null) rmSync(result.path, { recursive: true, force: true });
  return { wallMs, report: result.report, delay, startStallMs: null, folderBytes: bytes };
}

async function frostLiveSave(db: Database, handle: TableHandle, liveDir: string): Promise<SaveFigures> {
  // One real change, so the save is not skipped as "nothing changed".
  handle.set(key(0), kValueFillerB + key(0));
  const stop = startDelayMonitor();
  const started = performance.now();
  const pending = db.save();
  await turnOfEventLoop();
  const startStallMs = performance.now() - started;
  const result = await pending;
  const wallMs = performance.now() - started;
  const delay = stop();
  if (!result.ok || result.report === null) throw new Error(`live save failed or was skipped: ${JSON.stringify(result.report?.failure ?? null)}`);
  return { wallMs, report: result.report, delay, startStallMs, folderBytes: folderBytes(liveDir) };
}

interface WindowFigures {
  seconds: number;
  sets: number;
  setsPerSec: number;
  setLatencyUsP50: number;
  setLatencyUsP99: number;
  setLatencyUsMax: number;
  batchLatencyMsP99: number;
  batchLatencyMsMax: number;
  delay: DelayFigures;
  rssStartBytes: number;
  rssPeakDeltaBytes: number;
  saves: SaveReport[];
  /** Segment buffers allocated fresh (not from the pool) during the window: first-touch cost. */
  freshHeapBuffers: number;
  freshMetaBuffers: number;
}

/**
 * Run the write loop for `seconds`: each tick does kSetsPerTick random updates, each set timed
 * on its own; a batch's latency runs from when it was scheduled (setImmediate) to its last set,
 * so a main thread held up by save orchestration shows there. With `saving`, live saves run
 * back to back for the whole window. With `paceSetsPerSec`, the loop writes no faster than
 * that (used to compare copy-on-write memory with Redis at Redis's own write rate).
 */
async function frostWindow(
  db: Database,
  handle: TableHandle,
  n: number,
  seconds: number,
  saving: boolean,
  seed: number,
  paceSetsPerSec = 0,
): Promise<WindowFigures> {
  const random = makeRandom(seed);
  const setHistogram: RecordableHistogram = createHistogram();
  const batchHistogram: RecordableHistogram = createHistogram();
  const rssStartBytes = process.memoryUsage.rss();
  let rssPeak = rssStartBytes;
  const sampler = setInterval(() => {
    const rss = process.memoryUsage.rss();
    if (rss > rssPeak) rssPeak = rss;
  }, 20);
  const poolBefore = db.engine.pool.stats();
  const stopDelay = startDelayMonitor();
  const startedNs = process.hrtime.bigint();
  const endNs = startedNs + BigInt(Math.round(seconds * 1e9));
  let sets = 0;
  let stopped = false;
  const loopDone = new Promise<void>((resolve) => {
    const schedule = (): void => {
      const scheduledNs = process.hrtime.bigint();
      // Paced mode: stay at or below paceSetsPerSec (like a peer that cannot write faster).
      if (paceSetsPerSec > 0 && sets >= (paceSetsPerSec * Number(scheduledNs - startedNs)) / 1e9) {
        if (scheduledNs >= endNs) {
          stopped = true;
          resolve();
        } else {
          setTimeout(schedule, 1);
        }
        return;
      }
      setImmediate(() => {
        for (let i = 0; i < kSetsPerTick; i++) {
          const k = key(Math.floor(random() * n));
          const value = (i & 1) === 0 ? kValueFiller + k : kValueFillerB + k;
          const t0 = process.hrtime.bigint();
          handle.set(k, value);
          const t1 = process.hrtime.bigint();
          setHistogram.record(Math.max(1, Number(t1 - t0)));
        }
        const doneNs = process.hrtime.bigint();
        batchHistogram.record(Math.max(1, Number(doneNs - scheduledNs)));
        sets += kSetsPerTick;
        if (doneNs >= endNs) {
          stopped = true;
          resolve();
        } else {
          schedule();
        }
      });
    };
    schedule();
  });
  const saves: SaveReport[] = [];
  const saver = (async () => {
    if (!saving) return;
    while (!stopped) {
      const result = await db.save();
      if (!result.ok) throw new Error(`live save under load failed: ${JSON.stringify(result.report?.failure ?? null)}`);
      if (result.report !== null) saves.push(result.report);
      // A save with nothing to do resolves without leaving the microtask queue; without a real
      // turn here this loop would starve the write loop's setImmediate/setTimeout forever.
      if (result.skipped) await sleep(1);
    }
  })();
  await loopDone;
  const elapsedSeconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
  const delay = stopDelay();
  await saver;
  clearInterval(sampler);
  const poolAfter = db.engine.pool.stats();
  return {
    freshHeapBuffers: poolAfter.freshHeapCount - poolBefore.freshHeapCount,
    freshMetaBuffers: poolAfter.freshMetaCount - poolBefore.freshMetaCount,
    seconds: elapsedSeconds,
    sets,
    setsPerSec: sets / elapsedSeconds,
    setLatencyUsP50: setHistogram.percentile(50) / 1e3,
    setLatencyUsP99: setHistogram.percentile(99) / 1e3,
    setLatencyUsMax: setHistogram.max / 1e3,
    batchLatencyMsP99: batchHistogram.percentile(99) / 1e6,
    batchLatencyMsMax: batchHistogram.max / 1e6,
    delay,
    rssStartBytes,
    rssPeakDeltaBytes: rssPeak - rssStartBytes,
    saves,
  };
}

// ------------------------------------------------------------------ Redis side

interface RedisSaveFigures {
  wallMs: number;
  forkMs: number;
  lastBgsaveTimeSec: number;
  cowPeakBytes: number;
  lastCowBytes: number;
  rssPeakBytes: number;
  dumpBytes: number;
}

async function loadRedis(client: RespClient, n: number): Promise<number> {
  const chunk = 10_000;
  const started = performance.now();
  let inFlight: Promise<unknown> | null = null;
  for (let from = 0; from < n; from += chunk) {
    const to = Math.min(n, from + chunk);
    const parts: Buffer[] = [];
    for (let i = from; i < to; i++) {
      const k = key(i);
      parts.push(encodeCommand(['SET', k, kValueFiller + k]));
    }
    const sent = client.pipeline(Buffer.concat(parts), to - from);
    // Two chunks in flight: Redis parses one while the next is on the wire.
    if (inFlight !== null) await inFlight;
    inFlight = sent;
  }
  if (inFlight !== null) await inFlight;
  const seconds = (performance.now() - started) / 1000;
  const size = await client.command('DBSIZE');
  if (size !== n) throw new Error(`redis holds ${String(size)} keys after loading ${n}`);
  return seconds;
}

/** Start a BGSAVE and poll INFO until it is over; figures from INFO and the dump file. */
async function redisBgsave(client: RespClient, dir: string): Promise<RedisSaveFigures> {
  const before = await client.info('persistence');
  if (before.get('rdb_bgsave_in_progress') === '1') throw new Error('a BGSAVE is already running');
  const started = performance.now();
  await client.command('BGSAVE');
  let cowPeakBytes = 0;
  let rssPeakBytes = 0;
  for (;;) {
    const persistence = await client.info('persistence');
    const memory = await client.info('memory');
    cowPeakBytes = Math.max(cowPeakBytes, infoNumber(persistence, 'current_cow_size'));
    rssPeakBytes = Math.max(rssPeakBytes, infoNumber(memory, 'used_memory_rss'));
    if (persistence.get('rdb_bgsave_in_progress') === '0') {
      const wallMs = performance.now() - started;
      if (persistence.get('rdb_last_bgsave_status') !== 'ok') throw new Error('redis BGSAVE failed');
      const stats = await client.info('stats');
      return {
        wallMs,
        forkMs: infoNumber(stats, 'latest_fork_usec') / 1000,
        lastBgsaveTimeSec: infoNumber(persistence, 'rdb_last_bgsave_time_sec'),
        cowPeakBytes,
        lastCowBytes: infoNumber(persistence, 'rdb_last_cow_size'),
        rssPeakBytes,
        dumpBytes: statSync(join(dir, 'dump.rdb')).size,
      };
    }
    await sleep(5);
  }
}

interface RedisWindowFigures {
  bench: RedisBenchmarkResult;
  saves: number;
  forkMs: number[];
  saveWallMs: number[];
  cowPeakBytes: number;
  rssStartBytes: number;
  rssPeakDeltaBytes: number;
  usedMemoryBytes: number;
}

/**
 * redis-benchmark for about `seconds` (its request count is set from the last measured rate);
 * with `saving`, BGSAVE is restarted as soon as the previous one ends. INFO is polled every
 * 10 ms in both cases so the polling load is the same.
 */
async function redisWindow(client: RespClient, server: RedisServer, n: number, requests: number, saving: boolean): Promise<RedisWindowFigures> {
  const memoryAtStart = await client.info('memory');
  const rssStartBytes = infoNumber(memoryAtStart, 'used_memory_rss');
  const usedMemoryBytes = infoNumber(memoryAtStart, 'used_memory');
  let rssPeak = rssStartBytes;
  let cowPeakBytes = 0;
  let saves = 0;
  const forkMs: number[] = [];
  const saveWallMs: number[] = [];
  let finished = false;
  const benchmark = runRedisBenchmark(server.port, { requests, keyspace: n, valueBytes: kValueBytes, clients: 50, pipeline: 1 }).finally(() => {
    finished = true;
  });
  let saveStartedAt = -1;
  while (!finished) {
    const persistence = await client.info('persistence');
    const memory = await client.info('memory');
    rssPeak = Math.max(rssPeak, infoNumber(memory, 'used_memory_rss'));
    cowPeakBytes = Math.max(cowPeakBytes, infoNumber(persistence, 'current_cow_size'));
    const inProgress = persistence.get('rdb_bgsave_in_progress') === '1';
    if (saving && !inProgress) {
      if (saveStartedAt >= 0) {
        saveWallMs.push(performance.now() - saveStartedAt);
        saves++;
      }
      saveStartedAt = performance.now();
      await client.command('BGSAVE');
      forkMs.push(infoNumber(await client.info('stats'), 'latest_fork_usec') / 1000);
    }
    await sleep(10);
  }
  const bench = await benchmark;
  if (saving) {
    // Let the last BGSAVE finish before the next window; it still counts as a save.
    for (;;) {
      const persistence = await client.info('persistence');
      if (persistence.get('rdb_bgsave_in_progress') === '0') break;
      await sleep(10);
    }
    if (saveStartedAt >= 0) {
      saveWallMs.push(performance.now() - saveStartedAt);
      saves++;
    }
  }
  return { bench, saves, forkMs, saveWallMs, cowPeakBytes, rssStartBytes, rssPeakDeltaBytes: rssPeak - rssStartBytes, usedMemoryBytes };
}

// ------------------------------------------------------------------ compiled build (startup)

const kRepoRoot = fileURLToPath(new URL('../', import.meta.url));

/**
 * Build the project with tsc into `<root>/build` (outside the checkout) so startup can also be
 * measured the way a deployed server starts: compiled JS, workers without the tsx loader.
 * Returns the URL of the built `src/index.js`, or null (with a note) when the build failed.
 */
function buildCompiled(root: string): string | null {
  const outDir = join(root, 'build');
  const tsc = join(kRepoRoot, 'node_modules', '.bin', 'tsc');
  const result = spawnSync(tsc, ['-p', join(kRepoRoot, 'tsconfig.build.json'), '--outDir', outDir], { encoding: 'utf8', cwd: kRepoRoot });
  const index = join(outDir, 'src', 'index.js');
  if (!existsSync(index) || !existsSync(join(outDir, 'workers', 'persist-worker.js'))) {
    note(`compiled startup skipped: tsc did not produce ${index} (exit ${String(result.status)}): ${(result.stdout ?? '').slice(0, 500)}`);
    return null;
  }
  if (result.status !== 0) note(`compiled build: tsc exited ${String(result.status)} but emitted JS; measuring it anyway`);
  symlinkSync(join(kRepoRoot, 'node_modules'), join(outDir, 'node_modules'), 'dir');
  writeFileSync(join(outDir, 'package.json'), '{"type":"module"}\n');
  return pathToFileURL(index).href;
}

/** A fresh process opens `dir`; returns ms from spawn to `open()` resolved, and open() alone. */
function runStartupChild(apiUrl: string, dir: string, n: number): Promise<{ processReadyMs: number; openMs: number }> {
  const script = join(kRepoRoot, 'bench', 'startup-child.mjs');
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, apiUrl, dir, String(n), String(workerThreads)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    let readyMs = -1;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      if (readyMs < 0 && out.includes('\n')) readyMs = performance.now() - started;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 || readyMs < 0) return reject(new Error(`startup child exited with ${String(code)}: ${out}`));
      const report = JSON.parse(out.trim()) as { openMs: number };
      resolve({ processReadyMs: readyMs, openMs: report.openMs });
    });
  });
}

// ------------------------------------------------------------------ one size

interface SizePlan {
  n: number;
  rounds: number;
  windowRounds: number;
  windowSeconds: number;
  idleDelaySeconds: number;
  compiled: boolean;
}

async function runSize(plan: SizePlan, redis: RedisInstallation | null, mode: BenchMode): Promise<void> {
  const { n, rounds } = plan;
  const root = mkdtempSync(join(tmpdir(), 'frostkv-bench-snapshot-'));
  const frostDir = join(root, 'frostkv');
  const redisDir = join(root, 'redis');
  let db: Database | null = null;
  let server: RedisServer | null = null;
  let client: RespClient | null = null;
  try {
    // ---- setup
    note(`snapshot: n=${n}: loading frostkv`);
    const openEmptyStarted = performance.now();
    db = await openDb(frostDir);
    const openEmptyMs = performance.now() - openEmptyStarted;
    let handle = db.table();
    const frostLoadSeconds = loadFrostkv(handle, n);
    const dataBytes = db.status().dataBytes;
    let redisLoadSeconds: number | null = null;
    if (redis !== null) {
      note(`snapshot: n=${n}: loading redis`);
      mkdirSync(redisDir, { recursive: true });
      server = (await RedisServer.start(redisDir)).server;
      client = await RespClient.connect(server.port);
      redisLoadSeconds = await loadRedis(client, n);
    }
    emit(kBench, 'bulk-load', {
      keys: n,
      keyBytes: kKeyBytes,
      valueBytes: kValueBytes,
      opsPerSec: n / frostLoadSeconds,
      redisPipelinedOpsPerSec: redisLoadSeconds === null ? undefined : n / redisLoadSeconds,
      dataBytes,
      dataBytesPerKey: dataBytes / n,
      redisUsedMemoryBytes: client === null ? undefined : infoNumber(await client.info('memory'), 'used_memory'),
    });

    // ---- idle event-loop delay (nothing running)
    const stopIdle = startDelayMonitor();
    await sleep(plan.idleDelaySeconds * 1000);
    const idleDelay = stopIdle();

    // ---- saves without write load, alternating frostkv and Redis
    const named: SaveFigures[] = [];
    const live: SaveFigures[] = [];
    const bgsaves: RedisSaveFigures[] = [];
    for (let round = 0; round < rounds; round++) {
      const redisFirst = round % 2 === 1;
      if (redisFirst && client !== null) bgsaves.push(await redisBgsave(client, redisDir));
      named.push(await frostNamedSnapshot(db, `bench-${round}`));
      live.push(await frostLiveSave(db, handle, join(frostDir, 'ks')));
      if (!redisFirst && client !== null) bgsaves.push(await redisBgsave(client, redisDir));
      const last = live[live.length - 1] as SaveFigures;
      const bg = bgsaves[bgsaves.length - 1];
      note(
        `snapshot: n=${n} round ${round + 1}/${rounds}: named ${(named[named.length - 1] as SaveFigures).report.durationMs.toFixed(0)} ms, ` +
          `live ${last.report.durationMs.toFixed(0)} ms (cut ${last.report.cutPauseMs.toFixed(3)} ms, stall ${(last.startStallMs ?? 0).toFixed(2)} ms)` +
          (bg === undefined ? '' : `, redis BGSAVE ${bg.wallMs.toFixed(0)} ms (fork ${bg.forkMs.toFixed(1)} ms)`),
      );
    }
    const redisSaveMs = bgsaves.length > 0 ? median(bgsaves.map((b) => b.wallMs)) : null;
    const redisDumpBytes = bgsaves.length > 0 ? median(bgsaves.map((b) => b.dumpBytes)) : null;
    for (const [scenario, figures] of [['snapshot-named', named], ['save-live', live]] as const) {
      const durationMs = median(figures.map((f) => f.report.durationMs));
      const sizeBytes = median(figures.map((f) => f.report.sizeBytes));
      emit(kBench, scenario, {
        keys: n,
        rounds,
        durationMs,
        durationMsMax: maxOf(figures.map((f) => f.report.durationMs)),
        wallMs: median(figures.map((f) => f.wallMs)),
        sizeBytes,
        mbPerSec: sizeBytes / 1e6 / (durationMs / 1000),
        dataMbPerSec: dataBytes / 1e6 / (durationMs / 1000),
        keysPerSec: n / (durationMs / 1000),
        cutPauseMs: median(figures.map((f) => f.report.cutPauseMs)),
        startStallMs: scenario === 'save-live' ? median(figures.map((f) => f.startStallMs ?? 0)) : undefined,
        startStallMsMax: scenario === 'save-live' ? maxOf(figures.map((f) => f.startStallMs ?? 0)) : undefined,
        peer: redis === null ? undefined : 'redis BGSAVE',
        redisDurationMs: redisSaveMs ?? undefined,
        redisLastBgsaveTimeSec: bgsaves.length > 0 ? median(bgsaves.map((b) => b.lastBgsaveTimeSec)) : undefined,
        redisDumpBytes: redisDumpBytes ?? undefined,
        // Issue 13's goal: a save folder no larger than Redis's dump.rdb of the same keys.
        folderBytes: median(figures.map((f) => f.folderBytes)),
        folderVsRedisDump: redisDumpBytes === null ? undefined : ratio(median(figures.map((f) => f.folderBytes)), redisDumpBytes),
        sizeGoalMet: redisDumpBytes === null ? undefined : median(figures.map((f) => f.folderBytes)) <= redisDumpBytes,
        redisMbPerSec: redisSaveMs === null || redisDumpBytes === null ? undefined : redisDumpBytes / 1e6 / (redisSaveMs / 1000),
        redisKeysPerSec: redisSaveMs === null ? undefined : n / (redisSaveMs / 1000),
        ratio: redisSaveMs === null ? undefined : ratio(durationMs, redisSaveMs),
        goalRatioMax: 0.3,
        goalMet: redisSaveMs === null ? undefined : durationMs <= 0.3 * redisSaveMs,
      });
    }
    const allSaves = [...named, ...live];
    const saveDelayP99 = median(allSaves.map((f) => f.delay.p99Ms));
    emit(kBench, 'event-loop-delay', {
      keys: n,
      rounds,
      resolutionMs: kEldResolutionMs,
      idleSeconds: plan.idleDelaySeconds,
      idleP99Ms: idleDelay.p99Ms,
      idleMaxMs: idleDelay.maxMs,
      duringSaveP99Ms: saveDelayP99,
      duringSaveP99MsWorst: maxOf(allSaves.map((f) => f.delay.p99Ms)),
      duringSaveMaxMs: maxOf(allSaves.map((f) => f.delay.maxMs)),
      duringLiveSaveP99Ms: median(live.map((f) => f.delay.p99Ms)),
      duringNamedSnapshotP99Ms: median(named.map((f) => f.delay.p99Ms)),
      addedP99Ms: Math.max(0, saveDelayP99 - idleDelay.p99Ms),
      goalAddedP99MsMax: 0.5,
      goalMet: saveDelayP99 <= idleDelay.p99Ms + 0.5,
    });

    // ---- write load: idle vs back-to-back saves, alternating systems
    const windowSeconds = Math.min(
      60,
      Math.max(plan.windowSeconds, 2.5 * median(live.map((f) => f.report.durationMs)) / 1000, redisSaveMs === null ? 0 : (2.5 * redisSaveMs) / 1000),
    );
    const frostIdle: WindowFigures[] = [];
    const frostSaving: WindowFigures[] = [];
    const frostPaced: WindowFigures[] = [];
    const redisIdle: RedisWindowFigures[] = [];
    const redisSaving: RedisWindowFigures[] = [];
    let redisIdleRps = 30_000;
    let redisSavingRps = 10_000;
    const redisSavingRpsGuess = (): number => (server !== null && redis?.hasBenchmark === true ? redisSavingRps : 100_000);
    if (server !== null && redis?.hasBenchmark === true) {
      // Calibrate redis-benchmark's request count so its windows last about windowSeconds.
      const calibration = await runRedisBenchmark(server.port, { requests: 20_000, keyspace: n, valueBytes: kValueBytes, clients: 50, pipeline: 1 });
      redisIdleRps = calibration.rps;
      redisSavingRps = calibration.rps;
    }
    for (let round = 0; round < plan.windowRounds; round++) {
      const steps: Array<() => Promise<void>> = [
        async () => {
          frostIdle.push(await frostWindow(db as Database, handle, n, windowSeconds, false, 1 + round));
        },
        async () => {
          frostSaving.push(await frostWindow(db as Database, handle, n, windowSeconds, true, 101 + round));
        },
        async () => {
          // At Redis's measured write rate under BGSAVE (or 100k/s without Redis).
          const pace = redisSaving.length > 0 ? (redisSaving[redisSaving.length - 1] as RedisWindowFigures).bench.rps : redisSavingRpsGuess();
          frostPaced.push(await frostWindow(db as Database, handle, n, windowSeconds, true, 201 + round, pace));
        },
      ];
      if (client !== null && server !== null && redis?.hasBenchmark === true) {
        const c = client;
        const s = server;
        steps.push(
          async () => {
            const figures = await redisWindow(c, s, n, Math.max(2000, Math.round(redisIdleRps * windowSeconds)), false);
            redisIdleRps = figures.bench.rps;
            redisIdle.push(figures);
          },
          async () => {
            const figures = await redisWindow(c, s, n, Math.max(2000, Math.round(redisSavingRps * windowSeconds)), true);
            redisSavingRps = figures.bench.rps;
            redisSaving.push(figures);
          },
        );
      }
      // Rotate the order so no window always follows the same one.
      for (let i = 0; i < steps.length; i++) await (steps[(i + round) % steps.length] as () => Promise<void>)();
      const fi = frostIdle[frostIdle.length - 1] as WindowFigures;
      const fs = frostSaving[frostSaving.length - 1] as WindowFigures;
      note(
        `snapshot: n=${n} write window ${round + 1}/${plan.windowRounds} (${windowSeconds.toFixed(1)} s): frostkv idle ${(fi.setsPerSec / 1e3).toFixed(0)}k sets/s ` +
          `p99 ${fi.setLatencyUsP99.toFixed(2)} us, saving ${(fs.setsPerSec / 1e3).toFixed(0)}k sets/s p99 ${fs.setLatencyUsP99.toFixed(2)} us (${fs.saves.length} saves)` +
          (redisIdle.length === 0
            ? ''
            : `; redis idle ${((redisIdle[redisIdle.length - 1] as RedisWindowFigures).bench.rps / 1e3).toFixed(1)}k/s p99 ${(redisIdle[redisIdle.length - 1] as RedisWindowFigures).bench.p99LatencyMs} ms, ` +
              `saving ${((redisSaving[redisSaving.length - 1] as RedisWindowFigures).bench.rps / 1e3).toFixed(1)}k/s p99 ${(redisSaving[redisSaving.length - 1] as RedisWindowFigures).bench.p99LatencyMs} ms ` +
              `(${(redisSaving[redisSaving.length - 1] as RedisWindowFigures).saves} BGSAVEs)`),
      );
    }
    const med = (list: WindowFigures[], pick: (w: WindowFigures) => number): number => median(list.map(pick));
    const rmed = (list: RedisWindowFigures[], pick: (w: RedisWindowFigures) => number): number | undefined =>
      list.length === 0 ? undefined : median(list.map(pick));
    const idleSets = med(frostIdle, (w) => w.setsPerSec);
    const savingSets = med(frostSaving, (w) => w.setsPerSec);
    const idleP99 = med(frostIdle, (w) => w.setLatencyUsP99);
    const savingP99 = med(frostSaving, (w) => w.setLatencyUsP99);
    const idleBatchP99 = med(frostIdle, (w) => w.batchLatencyMsP99);
    const savingBatchP99 = med(frostSaving, (w) => w.batchLatencyMsP99);
    const rIdleRps = rmed(redisIdle, (w) => w.bench.rps);
    const rSavingRps = rmed(redisSaving, (w) => w.bench.rps);
    const rIdleP99 = rmed(redisIdle, (w) => w.bench.p99LatencyMs);
    const rSavingP99 = rmed(redisSaving, (w) => w.bench.p99LatencyMs);
    const throughputRatio = ratio(savingSets, idleSets);
    const p99Ratio = ratio(savingP99, idleP99);
    const batchP99Ratio = ratio(savingBatchP99, idleBatchP99);
    const savesPerWindow = med(frostSaving, (w) => w.saves.length);
    emit(kBench, 'write-under-save', {
      keys: n,
      windowSeconds,
      windowRounds: plan.windowRounds,
      setsPerTick: kSetsPerTick,
      idleSetsPerSec: idleSets,
      savingSetsPerSec: savingSets,
      throughputRatio,
      idleSetLatencyUsP50: med(frostIdle, (w) => w.setLatencyUsP50),
      savingSetLatencyUsP50: med(frostSaving, (w) => w.setLatencyUsP50),
      idleSetLatencyUsP99: idleP99,
      savingSetLatencyUsP99: savingP99,
      p99Ratio,
      idleSetLatencyUsMax: med(frostIdle, (w) => w.setLatencyUsMax),
      savingSetLatencyUsMax: med(frostSaving, (w) => w.setLatencyUsMax),
      idleBatchLatencyMsP99: idleBatchP99,
      savingBatchLatencyMsP99: savingBatchP99,
      batchP99Ratio,
      idleBatchLatencyMsMax: med(frostIdle, (w) => w.batchLatencyMsMax),
      savingBatchLatencyMsMax: med(frostSaving, (w) => w.batchLatencyMsMax),
      idleEventLoopDelayP99Ms: med(frostIdle, (w) => w.delay.p99Ms),
      savingEventLoopDelayP99Ms: med(frostSaving, (w) => w.delay.p99Ms),
      savingEventLoopDelayMaxMs: med(frostSaving, (w) => w.delay.maxMs),
      savesPerWindow,
      savingFreshHeapBuffersPerSave: med(frostSaving, (w) => w.freshHeapBuffers / Math.max(1, w.saves.length)),
      savingFreshMetaBuffersPerSave: med(frostSaving, (w) => w.freshMetaBuffers / Math.max(1, w.saves.length)),
      idleFreshHeapBuffers: med(frostIdle, (w) => w.freshHeapBuffers),
      pacedSetsPerSec: med(frostPaced, (w) => w.setsPerSec),
      pacedSavingSetLatencyUsP99: med(frostPaced, (w) => w.setLatencyUsP99),
      pacedSavingBatchLatencyMsP99: med(frostPaced, (w) => w.batchLatencyMsP99),
      pacedSavesPerWindow: med(frostPaced, (w) => w.saves.length),
      saveDurationMsUnderLoad: median(frostSaving.flatMap((w) => w.saves.map((s) => s.durationMs)).concat(frostSaving.every((w) => w.saves.length === 0) ? [0] : [])),
      peer: rIdleRps === undefined ? undefined : 'redis-benchmark -t set -P 1 -c 50 -d 64 during back-to-back BGSAVE',
      redisIdleRps: rIdleRps,
      redisSavingRps: rSavingRps,
      redisThroughputRatio: rIdleRps === undefined || rSavingRps === undefined ? undefined : ratio(rSavingRps, rIdleRps),
      redisIdleP99Ms: rIdleP99,
      redisSavingP99Ms: rSavingP99,
      redisP99Ratio: rIdleP99 === undefined || rSavingP99 === undefined ? undefined : ratio(rSavingP99, rIdleP99),
      redisIdleMaxMs: rmed(redisIdle, (w) => w.bench.maxLatencyMs),
      redisSavingMaxMs: rmed(redisSaving, (w) => w.bench.maxLatencyMs),
      redisBgsavesPerWindow: rmed(redisSaving, (w) => w.saves),
      goalThroughputRatioMin: 0.7,
      goalP99RatioMax: 1.5,
      goalThroughputMet: throughputRatio >= 0.7,
      goalP99Met: p99Ratio <= 1.5,
      goalBatchP99Met: batchP99Ratio <= 1.5,
    });

    const cowPeak = maxOf(frostSaving.flatMap((w) => w.saves.map((s) => s.cowBytesPeak)).concat([0]));
    const pacedCowPeak = maxOf(frostPaced.flatMap((w) => w.saves.map((s) => s.cowBytesPeak)).concat([0]));
    const frostRssSaving = med(frostSaving, (w) => w.rssPeakDeltaBytes);
    const frostRssIdle = med(frostIdle, (w) => w.rssPeakDeltaBytes);
    const redisCow = rmed(redisSaving, (w) => w.cowPeakBytes);
    const redisUsed = rmed(redisSaving, (w) => w.usedMemoryBytes);
    emit(kBench, 'memory-under-save', {
      keys: n,
      dataBytes,
      cowBytesPeak: cowPeak,
      cowShareOfData: ratio(cowPeak, dataBytes),
      savingSetsPerSec: med(frostSaving, (w) => w.setsPerSec),
      pacedSetsPerSec: med(frostPaced, (w) => w.setsPerSec),
      pacedCowBytesPeak: pacedCowPeak,
      pacedCowShareOfData: ratio(pacedCowPeak, dataBytes),
      rssPeakDeltaSavingBytes: frostRssSaving,
      rssPeakDeltaIdleBytes: frostRssIdle,
      rssExtraShareOfData: ratio(Math.max(0, frostRssSaving - frostRssIdle), dataBytes),
      peer: redisCow === undefined ? undefined : 'redis current_cow_size peak during back-to-back BGSAVE',
      redisUsedMemoryBytes: redisUsed,
      redisCowBytesPeak: redisCow,
      redisCowShareOfData: redisCow === undefined || redisUsed === undefined ? undefined : ratio(redisCow, redisUsed),
      redisRssPeakDeltaSavingBytes: rmed(redisSaving, (w) => w.rssPeakDeltaBytes),
      redisRssPeakDeltaIdleBytes: rmed(redisIdle, (w) => w.rssPeakDeltaBytes),
      redisLastCowBytesIdleBgsave: bgsaves.length > 0 ? median(bgsaves.map((b) => b.lastCowBytes)) : undefined,
      redisSavingRps: rSavingRps,
      goalShareMax: 0.1,
      goalMet: cowPeak / dataBytes <= 0.1,
      goalMetPaced: pacedCowPeak / dataBytes <= 0.1,
    });

    const forkAll = [...bgsaves.map((b) => b.forkMs), ...redisSaving.flatMap((w) => w.forkMs)];
    const cutAll = [...allSaves.map((f) => f.report.cutPauseMs), ...frostSaving.flatMap((w) => w.saves.map((s) => s.cutPauseMs)), ...frostPaced.flatMap((w) => w.saves.map((s) => s.cutPauseMs))];
    const cutMedian = median(cutAll);
    const cutMax = maxOf(cutAll);
    const stallAll = live.map((f) => f.startStallMs ?? 0);
    emit(kBench, 'cut-pause', {
      keys: n,
      cuts: cutAll.length,
      cutPauseMsMedian: cutMedian,
      cutPauseMsMax: cutMax,
      liveSaveStartStallMsMedian: median(stallAll),
      liveSaveStartStallMsMax: maxOf(stallAll),
      peer: forkAll.length === 0 ? undefined : 'redis latest_fork_usec',
      redisForkMsMedian: forkAll.length === 0 ? undefined : median(forkAll),
      redisForkMsMax: forkAll.length === 0 ? undefined : maxOf(forkAll),
      ratio: forkAll.length === 0 ? undefined : ratio(cutMedian, median(forkAll)),
      goalPauseMsMax: 0.1,
      goalMet: cutMax < 0.1,
      goalMetMedian: cutMedian < 0.1,
    });

    // ---- startup load: close + open vs redis restart on its dump
    handle.set(key(0), kValueFiller + key(0));
    const finalSave = await db.save();
    if (!finalSave.ok) throw new Error('final live save before the startup test failed');
    if (client !== null) await redisBgsave(client, redisDir);
    const frostOpen: number[] = [];
    const redisReady: number[] = [];
    const compiledApi = plan.compiled ? buildCompiled(root) : null;
    const compiledOpen: number[] = [];
    const compiledReady: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const frostStep = async (): Promise<void> => {
        await (db as Database).close();
        db = null;
        if (compiledApi !== null) {
          const child = await runStartupChild(compiledApi, frostDir, n);
          compiledOpen.push(child.openMs);
          compiledReady.push(child.processReadyMs);
        }
        const started = performance.now();
        db = await openDb(frostDir);
        frostOpen.push(performance.now() - started);
        const count = db.status().keyCount;
        if (count !== n) throw new Error(`frostkv reopened with ${count} keys, expected ${n}`);
        handle = db.table();
      };
      const redisStep = async (): Promise<void> => {
        if (server === null || client === null) return;
        client.close();
        client = null;
        await server.stop();
        const port = server.port;
        server = null;
        const startedServer = await RedisServer.start(redisDir, port);
        server = startedServer.server;
        redisReady.push(startedServer.readyMs);
        client = await RespClient.connect(server.port);
        const size = await client.command('DBSIZE');
        if (size !== n) throw new Error(`redis restarted with ${String(size)} keys, expected ${n}`);
      };
      if (round % 2 === 0) {
        await frostStep();
        await redisStep();
      } else {
        await redisStep();
        await frostStep();
      }
      note(
        `snapshot: n=${n} startup ${round + 1}/${rounds}: frostkv open ${(frostOpen[frostOpen.length - 1] as number).toFixed(0)} ms` +
          (compiledReady.length === 0 ? '' : `, compiled build: process ready ${(compiledReady[compiledReady.length - 1] as number).toFixed(0)} ms (open ${(compiledOpen[compiledOpen.length - 1] as number).toFixed(0)} ms)`) +
          (redisReady.length === 0 ? '' : `, redis ready ${(redisReady[redisReady.length - 1] as number).toFixed(0)} ms`),
      );
    }
    const openMs = median(frostOpen);
    const redisMs = redisReady.length === 0 ? undefined : median(redisReady);
    emit(kBench, 'startup', {
      keys: n,
      rounds,
      openMs,
      openMsMax: maxOf(frostOpen),
      openEmptyDirMs: openEmptyMs,
      sizeBytes: median(live.map((f) => f.report.sizeBytes)),
      peer: redisMs === undefined ? undefined : 'redis-server restart until PING answers PONG',
      redisReadyMs: redisMs,
      ratio: redisMs === undefined ? undefined : ratio(openMs, redisMs),
      compiledOpenMs: compiledOpen.length === 0 ? undefined : median(compiledOpen),
      compiledProcessReadyMs: compiledReady.length === 0 ? undefined : median(compiledReady),
      compiledRatio: compiledReady.length === 0 || redisMs === undefined ? undefined : ratio(median(compiledReady), redisMs),
      goalRatioMax: 0.5,
      goalMet: redisMs === undefined ? undefined : openMs <= 0.5 * redisMs,
      goalMetCompiled: compiledReady.length === 0 || redisMs === undefined ? undefined : median(compiledReady) <= 0.5 * redisMs,
    });
    void mode;
  } finally {
    client?.close();
    await server?.stop();
    await db?.close();
    rmSync(root, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const mode = modeOf(argv);
  const smoke = mode === 'smoke';
  const rounds = argNumber(argv, '--rounds', smoke ? 1 : 3);
  const windowSeconds = argNumber(argv, '--window-seconds', smoke ? 0.5 : 10);
  workerThreads = argv.includes('--threads') ? argNumber(argv, '--threads', 1) : 0;
  const facts = machineFacts();
  emit(kBench, 'env', { mode, ...facts, workerThreads: workerThreads === 0 ? facts.cores : workerThreads });
  note(`snapshot bench, mode ${mode}, ${facts.cpuModel} x${facts.cores}, Node ${facts.nodeVersion}, commit ${facts.commit}`);
  let redis: RedisInstallation | null = null;
  if (argv.includes('--no-redis')) {
    emit(kBench, 'peer', { peer: 'redis', status: 'skipped (--no-redis)' });
  } else {
    redis = redisInstalled();
    if (redis === null) {
      emit(kBench, 'peer', { peer: 'redis', status: 'not installed' });
      note('redis-server is not installed: frostkv figures only, no Redis comparison (apt-get install redis-server redis-tools)');
    } else {
      emit(kBench, 'peer', { peer: 'redis', status: 'installed', version: redis.serverVersion, redisBenchmark: redis.hasBenchmark });
      if (!redis.hasBenchmark) note('redis-benchmark is missing: no Redis write-load figures');
    }
  }
  const sizes = smoke ? [20_000] : mode === 'full' ? [1_000_000, 5_000_000] : [1_000_000];
  for (const n of sizes) {
    await runSize(
      {
        n,
        rounds,
        windowRounds: smoke ? 1 : n >= 5_000_000 ? 2 : rounds,
        windowSeconds,
        idleDelaySeconds: smoke ? 0.3 : 3,
        compiled: !argv.includes('--no-compiled'),
      },
      redis,
      mode,
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`snapshot bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
