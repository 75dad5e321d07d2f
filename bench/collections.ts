/**
 * Issue 11 bench: a one-million-field hash saved under HSET load, and a million keys expiring
 * within 10 s under SET load; frostkv embedded, frostkv's server over RESP and Redis 7.0.15 in
 * the same run, rounds alternating the systems (the goals in bench/RESULTS.md, section 7).
 *
 *   node --import tsx bench/collections.ts            # 1M fields, 1M expiring keys, 2 rounds
 *   node --import tsx bench/collections.ts --smoke    # 20k / 20k, seconds (run by the tests)
 *   options: --rounds R (2), --window-seconds S (hash windows, 8), --fields N, --keys N,
 *            --spread-seconds S (expiry spread, 10), --threads N (save workers; default one
 *            per core), --no-redis, --no-resp (skip frostkv's server), --only LIST (some of
 *            hash-save, expiry-burst, hash-save-resp, expiry-burst-resp)
 *
 * Scenarios (one JSON line each on stdout; notes on stderr):
 *   env, peer          machine, commit, load average; whether Redis and redis-benchmark exist
 *   hash-load          filling the hash: embedded hashSet batches; RESP pipelined HSET x100 pairs
 *   hash-save          embedded: an HSET loop (kHsetsPerBatch random existing fields per
 *                      setImmediate turn) idle vs during back-to-back db.save(): event-loop p99,
 *                      per-batch and per-HSET p99, save durations, copy-on-write peak (sampled
 *                      engine.stats().cowBytesNow, and each SaveReport's cowBytesPeak), RSS growth
 *   hash-save-resp     redis-benchmark `HSET bighash fld:__rand_int__ <64 B>` -c 50 -P 1 idle vs
 *                      during back-to-back BGSAVE, for frostkv's server and Redis; BGSAVE
 *                      duration idle, cut pause / fork time, copy-on-write peaks
 *   expiry-burst       embedded: N keys whose expiry times are spread uniformly over S seconds,
 *                      under a SET loop on other keys, vs the same loop with no expiring keys:
 *                      event-loop and per-batch p99, key count every second, sweep slices
 *   expiry-burst-resp  the same over RESP: PEXPIREAT spread over S seconds, redis-benchmark
 *                      `SET other:__rand_int__` p99 idle vs while they expire, DBSIZE every second
 *
 * Fields are `fld:` + 12 digits (16 bytes), values 64 bytes, the same bytes for every system
 * (redis-benchmark's __rand_int__ is 12 zero-padded digits). Data directories live under the OS
 * temp dir and are deleted at the end. A scenario with no peer says `peer: null` and why.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { open, type Database, type TableHandle } from '../src/index.js';
import type { SaveReport } from '../src/persist/save.js';
import type { SweepSliceResult } from '../src/engine/expiry.js';
import { argNumber, argValue, emit, machineFacts, maxOf, median, modeOf, note, ratio, sleep, type JsonValue } from './support.js';
import { RedisServer, RespClient, encodeCommand, redisInstalled } from './redis-peer.js';
import { FrostServerProcess, frostEntry } from './net-frostkv.js';
import { bgsave, type SaveRun, type SaveTarget, type SystemName } from './net-saves.js';
import { commandLine, runBenchmark, type BenchmarkRun } from './redis-benchmark.js';

const kBench = 'collections';
const kDigits = 12;
const kValueBytes = 64;
const kHashKey = 'bighash';
const kFieldPrefix = 'fld:';
const kFieldBytes = kFieldPrefix.length + kDigits;
const kValueA = 'a'.repeat(kValueBytes - kDigits);
const kValueB = 'b'.repeat(kValueBytes - kDigits);
const kHsetsPerBatch = 500;
const kSetsPerBatch = 500;
const kEldResolutionMs = 1;
const kMemorySampleMs = 10;
const kKeyCountSampleMs = 1000;
const kClients = 50;
/** Goal: event-loop p99 under the stress <= idle p99 + this. */
const kEldGoalExtraMs = 0.5;
/** Pairs per HSET command and commands per pipelined chunk when loading over RESP. */
const kPairsPerHset = 100;
const kCommandsPerChunk = 1000;
/** Lead before the first expiry time, as a multiple of the time the keys took to load. */
const kExpirySetupPerLoad = 4;

const digits = (i: number): string => String(i).padStart(kDigits, '0');
const field = (i: number): string => kFieldPrefix + digits(i);
const expKey = (i: number): string => `exp:${digits(i)}`;
const otherKey = (i: number): string => `other:${digits(i)}`;

function makeRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

interface Options {
  smoke: boolean;
  rounds: number;
  windowSeconds: number;
  fields: number;
  keys: number;
  otherKeys: number;
  spreadSeconds: number;
  /** Least time between starting to set the expiry times and the first of them (grown to fit the measured setup). */
  expiryLeadMs: number;
  threads: number;
  redis: boolean;
  resp: boolean;
  /** Scenario families to run (--only hash-save,expiry-burst-resp); all when absent. */
  only: Set<string> | null;
}

function parseOptions(argv: readonly string[]): Options {
  const smoke = modeOf(argv) === 'smoke';
  const keys = argNumber(argv, '--keys', smoke ? 20_000 : 1_000_000);
  return {
    smoke,
    rounds: argNumber(argv, '--rounds', smoke ? 1 : 2),
    windowSeconds: argNumber(argv, '--window-seconds', smoke ? 0.4 : 8),
    fields: argNumber(argv, '--fields', smoke ? 20_000 : 1_000_000),
    keys,
    otherKeys: smoke ? 2000 : 100_000,
    spreadSeconds: argNumber(argv, '--spread-seconds', smoke ? 0.8 : 10),
    expiryLeadMs: smoke ? 500 : 2000,
    threads: argv.includes('--threads') ? argNumber(argv, '--threads', 1) : 0,
    redis: !argv.includes('--no-redis'),
    resp: !argv.includes('--no-resp'),
    only: argValue(argv, '--only') === undefined ? null : new Set((argValue(argv, '--only') as string).split(',')),
  };
}

// ------------------------------------------------------------------ embedded windows

interface DelayFigures {
  p99Ms: number;
  maxMs: number;
}

function startDelayMonitor(): () => DelayFigures {
  const histogram = monitorEventLoopDelay({ resolution: kEldResolutionMs });
  histogram.enable();
  return () => {
    histogram.disable();
    // The monitor's timer fires every `resolution` ms, so its samples include that interval.
    return { p99Ms: Math.max(0, histogram.percentile(99) / 1e6 - kEldResolutionMs), maxMs: Math.max(0, histogram.max / 1e6 - kEldResolutionMs) };
  };
}

interface WindowFigures {
  seconds: number;
  ops: number;
  opsPerSec: number;
  opUsP99: number;
  batchMsP99: number;
  batchMsMax: number;
  delay: DelayFigures;
  rssPeakDeltaBytes: number;
  cowPeakBytes: number;
  saves: SaveReport[];
  /** [ms since the window started, engine key count], every kKeyCountSampleMs. */
  keyCounts: Array<[number, number]>;
}

interface WindowPlan {
  seconds: number;
  opsPerBatch: number;
  /** One timed operation; `random` is in [0, 1). */
  op: (random: number, parity: number) => void;
  saving: boolean;
  seed: number;
}

/** Samplers that run beside a window: RSS and copy-on-write every 10 ms, key count every second. */
function startSamplers(db: Database): () => { rssPeakDeltaBytes: number; cowPeakBytes: number; keyCounts: Array<[number, number]> } {
  const rssStart = process.memoryUsage.rss();
  const startedAt = performance.now();
  let rssPeak = rssStart;
  let cowPeak = 0;
  const keyCounts: Array<[number, number]> = [[0, db.engine.stats().keyCount]];
  const memory = setInterval(() => {
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    cowPeak = Math.max(cowPeak, db.engine.stats().cowBytesNow);
  }, kMemorySampleMs);
  const counts = setInterval(() => keyCounts.push([Math.round(performance.now() - startedAt), db.engine.stats().keyCount]), kKeyCountSampleMs);
  return () => {
    clearInterval(memory);
    clearInterval(counts);
    keyCounts.push([Math.round(performance.now() - startedAt), db.engine.stats().keyCount]);
    return { rssPeakDeltaBytes: rssPeak - rssStart, cowPeakBytes: cowPeak, keyCounts };
  };
}

/**
 * The load loop: each setImmediate turn runs `opsPerBatch` operations, each timed on its own; a
 * batch's latency runs from when it was scheduled to its last operation, so a main thread held
 * up by anything else (a save's orchestration, a sweep slice) shows there. With `saving`, live
 * saves run back to back for the whole window.
 */
async function embeddedWindow(db: Database, plan: WindowPlan): Promise<WindowFigures> {
  const random = makeRandom(plan.seed);
  const opHistogram = createHistogram();
  const batchHistogram = createHistogram();
  const stopSamplers = startSamplers(db);
  const stopDelay = startDelayMonitor();
  const startedNs = process.hrtime.bigint();
  const endNs = startedNs + BigInt(Math.round(plan.seconds * 1e9));
  let ops = 0;
  let stopped = false;
  const loopDone = new Promise<void>((resolve) => {
    const schedule = (): void => {
      const scheduledNs = process.hrtime.bigint();
      setImmediate(() => {
        for (let i = 0; i < plan.opsPerBatch; i++) {
          const t0 = process.hrtime.bigint();
          plan.op(random(), i & 1);
          opHistogram.record(Math.max(1, Number(process.hrtime.bigint() - t0)));
        }
        const doneNs = process.hrtime.bigint();
        batchHistogram.record(Math.max(1, Number(doneNs - scheduledNs)));
        ops += plan.opsPerBatch;
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
    while (plan.saving && !stopped) {
      const result = await db.save();
      if (!result.ok || result.report === null) throw new Error(`live save under load failed: ${JSON.stringify(result.report?.failure ?? null)}`);
      saves.push(result.report);
    }
  })();
  await loopDone;
  const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
  const delay = stopDelay();
  await saver;
  const sampled = stopSamplers();
  return {
    seconds,
    ops,
    opsPerSec: ops / seconds,
    opUsP99: opHistogram.percentile(99) / 1e3,
    batchMsP99: batchHistogram.percentile(99) / 1e6,
    batchMsMax: batchHistogram.max / 1e6,
    delay,
    ...sampled,
    saves,
  };
}

async function openDb(dir: string, threads: number): Promise<Database> {
  return open({ server: { dataDir: dir }, bgsave: { enabled: false, every: 120 }, workers: { threads } }, { saveOnShutdown: false });
}

const med = (list: readonly WindowFigures[], pick: (w: WindowFigures) => number): number => median(list.map(pick));

// ------------------------------------------------------------------ hash-save, embedded

function loadHashEmbedded(handle: TableHandle, fields: number): number {
  const started = performance.now();
  const chunk = 1000;
  for (let from = 0; from < fields; from += chunk) {
    const pairs: Array<[string, string]> = [];
    for (let i = from; i < Math.min(fields, from + chunk); i++) pairs.push([field(i), kValueA + digits(i)]);
    handle.hashSet(kHashKey, pairs);
  }
  if (handle.hashLength(kHashKey) !== fields) throw new Error(`the hash holds ${handle.hashLength(kHashKey)} fields after loading ${fields}`);
  if (!handle.hashIsLarge(kHashKey)) throw new Error('the hash did not move to a collection table');
  return (performance.now() - started) / 1000;
}

async function hashSaveEmbedded(options: Options, root: string): Promise<void> {
  const dir = mkdtempSync(join(root, 'hash-embedded-'));
  const db = await openDb(dir, options.threads);
  try {
    const handle = db.table();
    const loadSeconds = loadHashEmbedded(handle, options.fields);
    const hashBytes = db.engine.stats().dataBytes;
    emit(kBench, 'hash-load', { system: 'frostkv-embedded', fields: options.fields, fieldBytes: kFieldBytes, valueBytes: kValueBytes, seconds: loadSeconds, fieldsPerSec: options.fields / loadSeconds, hashBytes });
    const first = await db.save();
    if (!first.ok || first.report === null) throw new Error('the first live save failed');
    const idleSave = first.report;
    const n = options.fields;
    const op = (random: number, parity: number): void => {
      const i = Math.floor(random * n);
      handle.hashSet(kHashKey, [[field(i), (parity === 0 ? kValueA : kValueB) + digits(i)]]);
    };
    const idle: WindowFigures[] = [];
    const saving: WindowFigures[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const steps = [
        async () => idle.push(await embeddedWindow(db, { seconds: options.windowSeconds, opsPerBatch: kHsetsPerBatch, op, saving: false, seed: 1 + round })),
        async () => saving.push(await embeddedWindow(db, { seconds: options.windowSeconds, opsPerBatch: kHsetsPerBatch, op, saving: true, seed: 101 + round })),
      ];
      for (let i = 0; i < steps.length; i++) await (steps[(i + round) % steps.length] as () => Promise<unknown>)();
      const a = idle[idle.length - 1] as WindowFigures;
      const b = saving[saving.length - 1] as WindowFigures;
      note(
        `collections: hash-save round ${round + 1}/${options.rounds}: idle ${(a.opsPerSec / 1e3).toFixed(0)}k HSET/s, loop p99 ${a.delay.p99Ms.toFixed(2)} ms; ` +
          `saving ${(b.opsPerSec / 1e3).toFixed(0)}k HSET/s, loop p99 ${b.delay.p99Ms.toFixed(2)} ms, ${b.saves.length} saves, cow peak ${(b.cowPeakBytes / 1e6).toFixed(1)} MB`,
      );
    }
    emitHashSave(options, hashBytes, idleSave, idle, saving);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function emitHashSave(options: Options, hashBytes: number, idleSave: SaveReport, idle: WindowFigures[], saving: WindowFigures[]): void {
  const saves = saving.flatMap((w) => w.saves);
  const durations = saves.map((s) => s.durationMs);
  const idleP99 = med(idle, (w) => w.delay.p99Ms);
  const savingP99 = med(saving, (w) => w.delay.p99Ms);
  const cowSampled = maxOf(saving.map((w) => w.cowPeakBytes));
  const cowReported = maxOf(saves.map((s) => s.cowBytesPeak).concat([0]));
  emit(kBench, 'hash-save', {
    system: 'frostkv-embedded',
    fields: options.fields,
    hashBytes,
    payloadBytes: options.fields * (kFieldBytes + kValueBytes),
    rounds: options.rounds,
    windowSeconds: options.windowSeconds,
    hsetsPerBatch: kHsetsPerBatch,
    idleSaveMs: idleSave.durationMs,
    idleSaveBytes: idleSave.sizeBytes,
    idleHsetsPerSec: med(idle, (w) => w.opsPerSec),
    savingHsetsPerSec: med(saving, (w) => w.opsPerSec),
    idleHsetUsP99: med(idle, (w) => w.opUsP99),
    savingHsetUsP99: med(saving, (w) => w.opUsP99),
    idleBatchMsP99: med(idle, (w) => w.batchMsP99),
    savingBatchMsP99: med(saving, (w) => w.batchMsP99),
    savingBatchMsMax: med(saving, (w) => w.batchMsMax),
    idleEventLoopDelayP99Ms: idleP99,
    savingEventLoopDelayP99Ms: savingP99,
    savingEventLoopDelayMaxMs: med(saving, (w) => w.delay.maxMs),
    eventLoopDelayAddedP99Ms: savingP99 - idleP99,
    saves: saves.length,
    saveMsMedian: durations.length === 0 ? 0 : median(durations),
    saveMsMax: maxOf(durations.concat([0])),
    cutPauseMsMax: maxOf(saves.map((s) => s.cutPauseMs).concat([0])),
    hotSegmentsMedian: saves.length === 0 ? 0 : median(saves.map((s) => s.hotSegments)),
    cowBytesPeak: cowSampled,
    cowShareOfHash: ratio(cowSampled, hashBytes),
    cowBytesPeakReported: cowReported,
    rssPeakDeltaIdleBytes: med(idle, (w) => w.rssPeakDeltaBytes),
    rssPeakDeltaSavingBytes: med(saving, (w) => w.rssPeakDeltaBytes),
    rssGrowthShareOfHash: ratio(Math.max(0, med(saving, (w) => w.rssPeakDeltaBytes) - med(idle, (w) => w.rssPeakDeltaBytes)), hashBytes),
    loadAvg1m: loadavg()[0] ?? 0,
    peer: null,
    peerReason: 'Redis has no embedded mode: its figures for the same hash are in hash-save-resp',
    goalEventLoopAddedMsMax: kEldGoalExtraMs,
    goalEventLoopMet: savingP99 <= idleP99 + kEldGoalExtraMs,
  });
}

// ------------------------------------------------------------------ expiry-burst, embedded

/** Loads the keys without expiry; returns the ms the expiring keys took (setting their times costs about as much). */
function loadKeysEmbedded(handle: TableHandle, options: Options): number {
  const started = performance.now();
  for (let i = 0; i < options.keys; i++) handle.set(expKey(i), kValueA + digits(i));
  const ms = performance.now() - started;
  for (let i = 0; i < options.otherKeys; i++) handle.set(otherKey(i), kValueA + digits(i));
  return ms;
}

/**
 * The lead before the first expiry time: the setup must finish before any key is due. Setting
 * an expiry re-appends the entry, so it costs more than the plain load it is scaled from (1M
 * keys on a busy 2-core machine overran a 1.5x lead by 2 s).
 */
function leadMs(options: Options, loadMs: number): number {
  return Math.max(options.expiryLeadMs, Math.round(kExpirySetupPerLoad * loadMs + 1000));
}

/** Expiry times T0 + uniform [0, spread) in a seeded order; returns T0 (ms since the epoch). */
function setExpiriesEmbedded(db: Database, handle: TableHandle, options: Options, seed: number, lead: number): number {
  const random = makeRandom(seed);
  const t0 = db.engine.nowMs() + lead;
  const spreadMs = options.spreadSeconds * 1000;
  for (let i = 0; i < options.keys; i++) {
    if (!handle.expireAt(expKey(i), t0 + Math.floor(random() * spreadMs))) throw new Error(`${expKey(i)} was missing when its expiry was set`);
  }
  const late = db.engine.nowMs() - t0;
  if (late > 0) note(`collections: setting ${options.keys} expiry times overran the lead by ${late} ms (some keys expired during setup)`);
  return t0;
}

/** Record every sweep slice the database runs (its own timer calls runSlice). */
function recordSlices(db: Database): { slices: SweepSliceResult[]; stop: () => void } {
  const sweeper = db.expiry;
  const original = sweeper.runSlice.bind(sweeper);
  const slices: SweepSliceResult[] = [];
  sweeper.runSlice = () => {
    const result = original();
    slices.push(result);
    return result;
  };
  return { slices, stop: () => void (sweeper.runSlice = original) };
}

interface BurstRound {
  idle: WindowFigures;
  burst: WindowFigures;
  slices: SweepSliceResult[];
  expiredBySweep: number;
  keysBefore: number;
  keysAfter: number;
}

async function expiryBurstRound(db: Database, handle: TableHandle, options: Options, round: number): Promise<BurstRound> {
  const loadMs = loadKeysEmbedded(handle, options);
  const n = options.otherKeys;
  const op = (random: number, parity: number): void => {
    const i = Math.floor(random * n);
    handle.set(otherKey(i), (parity === 0 ? kValueA : kValueB) + digits(i));
  };
  const seconds = options.spreadSeconds + (options.smoke ? 0.5 : 2);
  const idle = await embeddedWindow(db, { seconds, opsPerBatch: kSetsPerBatch, op, saving: false, seed: 11 + round });
  const t0 = setExpiriesEmbedded(db, handle, options, 77 + round, leadMs(options, loadMs));
  await sleep(Math.max(0, t0 - db.engine.nowMs()));
  const keysBefore = db.engine.stats().keyCount;
  const expiredBefore = db.expiry.expiredTotal;
  const recorder = recordSlices(db);
  const burst = await embeddedWindow(db, { seconds, opsPerBatch: kSetsPerBatch, op, saving: false, seed: 11 + round });
  recorder.stop();
  const keysAfter = db.engine.stats().keyCount;
  // Whatever the sweep left (none when it kept up) goes before the next round loads again.
  for (let i = 0; i < options.keys; i++) handle.delete(expKey(i));
  return { idle, burst, slices: recorder.slices, expiredBySweep: db.expiry.expiredTotal - expiredBefore, keysBefore, keysAfter };
}

async function expiryBurstEmbedded(options: Options, root: string): Promise<void> {
  const dir = mkdtempSync(join(root, 'expiry-embedded-'));
  const db = await openDb(dir, options.threads);
  try {
    const handle = db.table();
    const rounds: BurstRound[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const r = await expiryBurstRound(db, handle, options, round);
      rounds.push(r);
      note(
        `collections: expiry-burst round ${round + 1}/${options.rounds}: loop p99 idle ${r.idle.delay.p99Ms.toFixed(2)} ms, expiring ${r.burst.delay.p99Ms.toFixed(2)} ms; ` +
          `swept ${r.expiredBySweep} of ${options.keys} in ${r.slices.length} slices; keys ${r.keysBefore} -> ${r.keysAfter}`,
      );
    }
    emitExpiryBurst(options, rounds);
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function emitExpiryBurst(options: Options, rounds: BurstRound[]): void {
  const idle = rounds.map((r) => r.idle);
  const burst = rounds.map((r) => r.burst);
  const slices = rounds.flatMap((r) => r.slices);
  const elapsed = slices.map((s) => s.elapsedMs);
  const idleP99 = med(idle, (w) => w.delay.p99Ms);
  const burstP99 = med(burst, (w) => w.delay.p99Ms);
  const last = rounds[rounds.length - 1] as BurstRound;
  emit(kBench, 'expiry-burst', {
    system: 'frostkv-embedded',
    expiringKeys: options.keys,
    otherKeys: options.otherKeys,
    spreadSeconds: options.spreadSeconds,
    rounds: rounds.length,
    windowSeconds: med(burst, (w) => w.seconds),
    setsPerBatch: kSetsPerBatch,
    idleSetsPerSec: med(idle, (w) => w.opsPerSec),
    burstSetsPerSec: med(burst, (w) => w.opsPerSec),
    idleSetUsP99: med(idle, (w) => w.opUsP99),
    burstSetUsP99: med(burst, (w) => w.opUsP99),
    idleBatchMsP99: med(idle, (w) => w.batchMsP99),
    burstBatchMsP99: med(burst, (w) => w.batchMsP99),
    burstBatchMsMax: med(burst, (w) => w.batchMsMax),
    idleEventLoopDelayP99Ms: idleP99,
    burstEventLoopDelayP99Ms: burstP99,
    burstEventLoopDelayMaxMs: med(burst, (w) => w.delay.maxMs),
    eventLoopDelayAddedP99Ms: burstP99 - idleP99,
    expiredBySweep: median(rounds.map((r) => r.expiredBySweep)),
    removedShare: ratio(median(rounds.map((r) => r.keysBefore - r.keysAfter)), options.keys),
    sweepSlices: median(rounds.map((r) => r.slices.length)),
    sweepSliceMsP50: elapsed.length === 0 ? 0 : median(elapsed),
    sweepSliceMsP99: elapsed.length === 0 ? 0 : percentileOf(elapsed, 99),
    sweepSliceMsMax: maxOf(elapsed.concat([0])),
    sweepExpiredPerSliceMax: maxOf(slices.map((s) => s.expired).concat([0])),
    keyCountEverySecond: last.burst.keyCounts.map(([t, count]) => [t, count] as JsonValue),
    loadAvg1m: loadavg()[0] ?? 0,
    peer: null,
    peerReason: 'Redis has no embedded mode: its figures for the same burst are in expiry-burst-resp',
    goalEventLoopAddedMsMax: kEldGoalExtraMs,
    goalEventLoopMet: burstP99 <= idleP99 + kEldGoalExtraMs,
  });
}

function percentileOf(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

// ------------------------------------------------------------------ RESP systems

interface RespSystem {
  name: SystemName;
  port: number;
  target: SaveTarget;
  /** The last measured redis-benchmark rate, to size the next run's -n to a window. */
  rps: number;
}

/** Send `commands` pipelined in chunks, two chunks in flight; every reply must not be an error. */
async function pipelined(client: RespClient, count: number, command: (i: number) => Buffer): Promise<number> {
  const started = performance.now();
  let inFlight: Promise<unknown> | null = null;
  for (let from = 0; from < count; from += kCommandsPerChunk) {
    const to = Math.min(count, from + kCommandsPerChunk);
    const parts: Buffer[] = [];
    for (let i = from; i < to; i++) parts.push(command(i));
    const sent = client.pipeline(Buffer.concat(parts), to - from);
    if (inFlight !== null) await inFlight;
    inFlight = sent;
  }
  if (inFlight !== null) await inFlight;
  return (performance.now() - started) / 1000;
}

function hsetChunk(fields: number, chunk: number): Buffer {
  const args: string[] = ['HSET', kHashKey];
  for (let i = chunk * kPairsPerHset; i < Math.min(fields, (chunk + 1) * kPairsPerHset); i++) args.push(field(i), kValueA + digits(i));
  return encodeCommand(args);
}

/** redis-benchmark sized to about `seconds` at the system's last rate; INFO polled meanwhile (BGSAVE restarted back to back when `saving`). */
async function benchmarkWindow(system: RespSystem, args: (requests: number) => string[], seconds: number, saving: boolean): Promise<{ run: BenchmarkRun; saves: SaveRun[] }> {
  const requests = Math.max(2000, Math.round(system.rps * seconds));
  let finished = false;
  const running = runBenchmark(system.port, args(requests)).finally(() => {
    finished = true;
  });
  const saves: SaveRun[] = [];
  while (!finished) {
    if (saving) saves.push(await bgsave(system.target));
    else {
      await system.target.control.info('persistence');
      await sleep(10);
    }
  }
  const run = await running;
  system.rps = (run.rows[0] as BenchmarkRun['rows'][number]).rps;
  return { run, saves };
}

// ------------------------------------------------------------------ hash-save over RESP

interface HashRespFigures {
  loadSeconds: number;
  idleSaves: SaveRun[];
  idle: BenchmarkRun[];
  saving: BenchmarkRun[];
  savingSaves: SaveRun[];
  commandLine: string;
}

function hsetArgs(options: Options): (requests: number) => string[] {
  return (requests) => ['-c', String(kClients), '-P', '1', '-r', String(options.fields), '-n', String(requests), 'HSET', kHashKey, `${kFieldPrefix}__rand_int__`, kValueB.padEnd(kValueBytes, 'b')];
}

async function hashSaveResp(options: Options, systems: RespSystem[]): Promise<void> {
  const figures = new Map<SystemName, HashRespFigures>();
  for (const system of systems) {
    const client = system.target.control;
    await client.command('FLUSHALL');
    const loadSeconds = await pipelined(client, Math.ceil(options.fields / kPairsPerHset), (chunk) => hsetChunk(options.fields, chunk));
    const length = await client.command('HLEN', kHashKey);
    if (length !== options.fields) throw new Error(`${system.name}: HLEN is ${String(length)} after loading ${options.fields} fields`);
    emit(kBench, 'hash-load', { system: system.name, fields: options.fields, seconds: loadSeconds, fieldsPerSec: options.fields / loadSeconds, protocol: 'resp', pairsPerHset: kPairsPerHset });
    system.rps = options.smoke ? 20_000 : 100_000;
    figures.set(system.name, { loadSeconds, idleSaves: [], idle: [], saving: [], savingSaves: [], commandLine: '' });
  }
  for (let round = 0; round < options.rounds; round++) {
    for (const system of round % 2 === 0 ? systems : [...systems].reverse()) {
      const f = figures.get(system.name) as HashRespFigures;
      f.idleSaves.push(await bgsave(system.target));
      const idle = await benchmarkWindow(system, hsetArgs(options), options.windowSeconds, false);
      const saving = await benchmarkWindow(system, hsetArgs(options), options.windowSeconds, true);
      f.idle.push(idle.run);
      f.saving.push(saving.run);
      f.savingSaves.push(...saving.saves);
      f.commandLine = commandLine(idle.run);
      note(
        `collections: hash-save-resp round ${round + 1}/${options.rounds} ${system.name}: BGSAVE ${Math.round((f.idleSaves[f.idleSaves.length - 1] as SaveRun).wallMs)} ms; ` +
          `HSET p99 idle ${(idle.run.rows[0] as BenchmarkRun['rows'][number]).p99Ms} ms, saving ${(saving.run.rows[0] as BenchmarkRun['rows'][number]).p99Ms} ms (${saving.saves.length} saves)`,
      );
    }
  }
  emitHashSaveResp(options, figures);
}

function respSummary(f: HashRespFigures): Record<string, JsonValue> {
  const row = (runs: BenchmarkRun[], pick: (r: BenchmarkRun['rows'][number]) => number): number => median(runs.map((run) => pick(run.rows[0] as BenchmarkRun['rows'][number])));
  return {
    LoadSeconds: f.loadSeconds,
    BgsaveIdleMs: median(f.idleSaves.map((s) => s.wallMs)),
    BgsaveUnderLoadMs: f.savingSaves.length === 0 ? 0 : median(f.savingSaves.map((s) => s.wallMs)),
    PauseMsMedian: median([...f.idleSaves, ...f.savingSaves].map((s) => s.pauseMs)),
    PauseMsMax: maxOf([...f.idleSaves, ...f.savingSaves].map((s) => s.pauseMs)),
    CowPeakBytes: maxOf(f.savingSaves.map((s) => s.cowPeakBytes).concat([0])),
    ExtraMemoryBytes: maxOf(f.savingSaves.map((s) => s.extraMemoryBytes).concat([0])),
    IdleRps: row(f.idle, (r) => r.rps),
    SavingRps: row(f.saving, (r) => r.rps),
    IdleP50Ms: row(f.idle, (r) => r.p50Ms),
    IdleP99Ms: row(f.idle, (r) => r.p99Ms),
    SavingP50Ms: row(f.saving, (r) => r.p50Ms),
    SavingP99Ms: row(f.saving, (r) => r.p99Ms),
    SavingMaxMs: row(f.saving, (r) => r.maxMs),
    IdleRpsRounds: f.idle.map((run) => Math.round((run.rows[0] as BenchmarkRun['rows'][number]).rps)),
    SavingRpsRounds: f.saving.map((run) => Math.round((run.rows[0] as BenchmarkRun['rows'][number]).rps)),
    SavingP99MsRounds: f.saving.map((run) => (run.rows[0] as BenchmarkRun['rows'][number]).p99Ms),
    SavesPerWindow: f.savingSaves.length / Math.max(1, f.saving.length),
  };
}

function prefixed(prefix: string, fields: Record<string, JsonValue>): Record<string, JsonValue> {
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [`${prefix}${key}`, value]));
}

function emitHashSaveResp(options: Options, figures: Map<SystemName, HashRespFigures>): void {
  const frost = figures.get('frostkv');
  const redis = figures.get('redis');
  const any = (frost ?? redis) as HashRespFigures;
  const f = frost === undefined ? null : respSummary(frost);
  const r = redis === undefined ? null : respSummary(redis);
  emit(kBench, 'hash-save-resp', {
    fields: options.fields,
    fieldBytes: kFieldBytes,
    valueBytes: kValueBytes,
    rounds: options.rounds,
    windowSeconds: options.windowSeconds,
    commandLine: any.commandLine,
    ...(f === null ? {} : prefixed('frostkv', f)),
    ...(r === null ? {} : prefixed('redis', r)),
    bgsaveRatio: f !== null && r !== null ? ratio(f.BgsaveIdleMs as number, r.BgsaveIdleMs as number) : undefined,
    savingP99Ratio: f !== null && r !== null ? ratio(f.SavingP99Ms as number, r.SavingP99Ms as number) : undefined,
    savingRpsRatio: f !== null && r !== null ? ratio(f.SavingRps as number, r.SavingRps as number) : undefined,
    loadAvg1m: loadavg()[0] ?? 0,
    peer: r === null ? null : 'redis',
    peerReason: r === null ? 'redis-server is not installed (or --no-redis)' : undefined,
  });
}

// ------------------------------------------------------------------ expiry-burst over RESP

interface BurstRespRound {
  idle: BenchmarkRun;
  burst: BenchmarkRun;
  /** [ms since the first expiry time, DBSIZE], every second. */
  dbsize: Array<[number, number]>;
  keysBefore: number;
  keysAfter: number;
  setupMs: number;
}

function setOtherArgs(options: Options): (requests: number) => string[] {
  return (requests) => ['-c', String(kClients), '-P', '1', '-r', String(options.otherKeys), '-n', String(requests), 'SET', 'other:__rand_int__', kValueB.padEnd(kValueBytes, 'b')];
}

/** Loads the keys without expiry; returns the ms the expiring keys took. */
async function loadKeysResp(client: RespClient, options: Options): Promise<number> {
  await client.command('FLUSHALL');
  const seconds = await pipelined(client, options.keys, (i) => encodeCommand(['SET', expKey(i), kValueA + digits(i)]));
  await pipelined(client, options.otherKeys, (i) => encodeCommand(['SET', otherKey(i), kValueA + digits(i)]));
  const size = await client.command('DBSIZE');
  if (size !== options.keys + options.otherKeys) throw new Error(`DBSIZE is ${String(size)} after loading ${options.keys + options.otherKeys} keys`);
  return seconds * 1000;
}

/** DBSIZE every second on its own connection until `done()`; times relative to `originMs` (epoch ms). */
async function pollDbsize(port: number, originMs: number, done: () => boolean): Promise<Array<[number, number]>> {
  const client = await RespClient.connect(port);
  const samples: Array<[number, number]> = [];
  try {
    for (;;) {
      samples.push([Date.now() - originMs, Number(await client.command('DBSIZE'))]);
      if (done()) return samples;
      await sleep(kKeyCountSampleMs);
    }
  } finally {
    client.close();
  }
}

async function expiryBurstRespRound(options: Options, system: RespSystem, round: number): Promise<BurstRespRound> {
  const client = system.target.control;
  const loadMs = await loadKeysResp(client, options);
  const seconds = options.spreadSeconds + (options.smoke ? 0.5 : 2);
  const idle = (await benchmarkWindow(system, setOtherArgs(options), seconds, false)).run;
  const random = makeRandom(77 + round);
  const setupStarted = performance.now();
  const t0 = Date.now() + leadMs(options, loadMs);
  const spreadMs = options.spreadSeconds * 1000;
  await pipelined(client, options.keys, (i) => encodeCommand(['PEXPIREAT', expKey(i), String(t0 + Math.floor(random() * spreadMs))]));
  const setupMs = performance.now() - setupStarted;
  if (Date.now() > t0) note(`collections: ${system.name}: PEXPIREAT x${options.keys} overran the lead by ${Date.now() - t0} ms`);
  await sleep(Math.max(0, t0 - Date.now()));
  const keysBefore = Number(await client.command('DBSIZE'));
  const deadline = t0 + seconds * 1000;
  let benchDone = false;
  const polling = pollDbsize(system.port, t0, () => benchDone && Date.now() >= deadline);
  const burst = (await benchmarkWindow(system, setOtherArgs(options), seconds, false)).run;
  benchDone = true;
  const dbsize = await polling;
  const keysAfter = Number(await client.command('DBSIZE'));
  return { idle, burst, dbsize, keysBefore, keysAfter, setupMs };
}

async function expiryBurstResp(options: Options, systems: RespSystem[]): Promise<void> {
  const rounds = new Map<SystemName, BurstRespRound[]>();
  for (const system of systems) system.rps = options.smoke ? 20_000 : 100_000;
  for (let round = 0; round < options.rounds; round++) {
    for (const system of round % 2 === 0 ? systems : [...systems].reverse()) {
      const r = await expiryBurstRespRound(options, system, round);
      rounds.set(system.name, [...(rounds.get(system.name) ?? []), r]);
      note(
        `collections: expiry-burst-resp round ${round + 1}/${options.rounds} ${system.name}: SET p99 idle ${(r.idle.rows[0] as BenchmarkRun['rows'][number]).p99Ms} ms, ` +
          `expiring ${(r.burst.rows[0] as BenchmarkRun['rows'][number]).p99Ms} ms; DBSIZE ${r.keysBefore} -> ${r.keysAfter}`,
      );
    }
  }
  const summary = (list: BurstRespRound[]): Record<string, JsonValue> => {
    const pick = (runs: BenchmarkRun[], get: (row: BenchmarkRun['rows'][number]) => number): number => median(runs.map((run) => get(run.rows[0] as BenchmarkRun['rows'][number])));
    const idle = list.map((r) => r.idle);
    const burst = list.map((r) => r.burst);
    return {
      IdleRps: pick(idle, (row) => row.rps),
      BurstRps: pick(burst, (row) => row.rps),
      IdleP50Ms: pick(idle, (row) => row.p50Ms),
      IdleP99Ms: pick(idle, (row) => row.p99Ms),
      BurstP50Ms: pick(burst, (row) => row.p50Ms),
      BurstP99Ms: pick(burst, (row) => row.p99Ms),
      BurstMaxMs: pick(burst, (row) => row.maxMs),
      IdleRpsRounds: idle.map((run) => Math.round((run.rows[0] as BenchmarkRun['rows'][number]).rps)),
      BurstRpsRounds: burst.map((run) => Math.round((run.rows[0] as BenchmarkRun['rows'][number]).rps)),
      BurstP99MsRounds: burst.map((run) => (run.rows[0] as BenchmarkRun['rows'][number]).p99Ms),
      BurstWallSecondsRounds: burst.map((run) => Math.round(run.wallSeconds * 10) / 10),
      PexpireatSetupMs: median(list.map((r) => r.setupMs)),
      // Counted from the load (every expiring key, whenever it went), not from the first expiry time.
      RemovedShare: ratio(median(list.map((r) => options.keys + options.otherKeys - r.keysAfter)), options.keys),
      KeysAtFirstExpiryRounds: list.map((r) => r.keysBefore),
      DbsizeEverySecond: (list[list.length - 1] as BurstRespRound).dbsize.map(([t, size]) => [t, size] as JsonValue),
    };
  };
  const f = rounds.has('frostkv') ? summary(rounds.get('frostkv') as BurstRespRound[]) : null;
  const r = rounds.has('redis') ? summary(rounds.get('redis') as BurstRespRound[]) : null;
  const first = (rounds.values().next().value as BurstRespRound[])[0] as BurstRespRound;
  emit(kBench, 'expiry-burst-resp', {
    expiringKeys: options.keys,
    otherKeys: options.otherKeys,
    spreadSeconds: options.spreadSeconds,
    rounds: options.rounds,
    commandLine: commandLine(first.burst),
    ...(f === null ? {} : prefixed('frostkv', f)),
    ...(r === null ? {} : prefixed('redis', r)),
    burstP99Ratio: f !== null && r !== null ? ratio(f.BurstP99Ms as number, r.BurstP99Ms as number) : undefined,
    loadAvg1m: loadavg()[0] ?? 0,
    peer: r === null ? null : 'redis',
    peerReason: r === null ? 'redis-server is not installed (or --no-redis)' : undefined,
  });
}

// ------------------------------------------------------------------ main

async function startRespSystems(options: Options, redisReady: boolean): Promise<{ systems: RespSystem[]; stop: () => Promise<void> }> {
  const systems: RespSystem[] = [];
  let frost: FrostServerProcess | null = null;
  let redis: RedisServer | null = null;
  const redisDir = redisReady ? mkdtempSync(join(tmpdir(), 'frostkv-collections-redis-')) : null;
  const stop = async (): Promise<void> => {
    for (const system of systems) system.target.control.close();
    await redis?.stop();
    if (redisDir !== null) rmSync(redisDir, { recursive: true, force: true });
    await frost?.stop();
  };
  try {
    if (options.resp) {
      frost = await FrostServerProcess.start({ resp: true });
      const port = frost.respPort as number;
      const control = await RespClient.connect(port);
      systems.push({ name: 'frostkv', port, rps: 0, target: { name: 'frostkv', port, pid: frost.pid, control, saveSizeBytes: () => 0 } });
    }
    if (redisDir !== null) {
      redis = (await RedisServer.start(redisDir)).server;
      const control = await RespClient.connect(redis.port);
      systems.push({ name: 'redis', port: redis.port, rps: 0, target: { name: 'redis', port: redis.port, pid: redis.pid, control, saveSizeBytes: () => 0 } });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { systems, stop };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const facts = machineFacts();
  const { entry, stale } = frostEntry();
  emit(kBench, 'env', { mode: options.smoke ? 'smoke' : 'default', ...facts, frostkvServer: entry === 'dist' ? (process.env.FROSTKV_BENCH_SERVER ?? 'compiled dist/') : 'src/ through tsx', buildStale: stale, rounds: options.rounds });
  note(`collections bench, ${options.smoke ? 'smoke' : 'full'} mode, ${facts.cpuModel} x${facts.cores}, load ${facts.loadAvg1m.toFixed(2)}, commit ${facts.commit}`);
  const installation = options.redis ? redisInstalled() : null;
  const hasBenchmark = redisInstalled()?.hasBenchmark === true;
  if (installation === null) {
    emit(kBench, 'peer', { peer: 'redis', status: options.redis ? 'not installed' : 'skipped (--no-redis)', redisBenchmark: hasBenchmark });
    note('redis-server is not installed (or --no-redis): frostkv figures only, no Redis comparison');
  } else {
    emit(kBench, 'peer', { peer: 'redis', status: 'installed', version: installation.serverVersion, redisBenchmark: hasBenchmark });
  }
  const root = mkdtempSync(join(tmpdir(), 'frostkv-collections-'));
  try {
    const wanted = (name: string): boolean => options.only === null || options.only.has(name);
    if (wanted('hash-save')) await hashSaveEmbedded(options, root);
    if (wanted('expiry-burst')) await expiryBurstEmbedded(options, root);
    if (!wanted('hash-save-resp') && !wanted('expiry-burst-resp')) return;
    if (!hasBenchmark) {
      // redis-benchmark drives the load of both RESP scenarios, for frostkv's server too.
      for (const scenario of ['hash-save-resp', 'expiry-burst-resp']) emit(kBench, scenario, { peer: null, peerReason: 'redis-benchmark is not installed: no RESP load generator', measured: false });
      return;
    }
    const { systems, stop } = await startRespSystems(options, installation !== null);
    try {
      if (systems.length > 0) {
        if (wanted('hash-save-resp')) await hashSaveResp(options, systems);
        if (wanted('expiry-burst-resp')) await expiryBurstResp(options, systems);
      }
    } finally {
      await stop();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`collections bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
