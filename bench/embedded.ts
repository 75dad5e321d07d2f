/**
 * Embedded bench: frostkv's table against a JS Map in the same process, same run.
 *
 *   node --import tsx bench/embedded.ts            # 1M keys (freeze also at 5M)
 *   node --import tsx bench/embedded.ts --full     # adds 5M keys everywhere
 *   node --import tsx bench/embedded.ts --smoke    # tiny sizes, a few seconds (run by the tests)
 *   options: --rounds N (rounds per size, default 5; at most 3 at 5M keys), --only ops,freeze,cow,memory
 *
 * Scenarios (one JSON line each on stdout; notes on stderr):
 *   env                      machine, Node, commit
 *   insert|update|get|delete ops/s of frostkv (through `db.table()` of an in-memory database, and
 *                            the raw Table class) and of a Map, rounds alternating the systems,
 *                            medians, ratio frostkv/Map; string keys+values and Buffer keys+values
 *   freeze                   pause of Table.freeze() / Engine.freeze() and of release, many cuts
 *   cow                      first write to a segment held by a frozen generation vs a normal write,
 *                            bytes copied per segment
 *   memory                   RSS / heapUsed / external / arrayBuffers growth per key, each store
 *                            built in its own child process (`--child memory-map|memory-table`)
 *
 * Fairness rules: every system builds its key and value per operation with the same functions
 * (a 14-byte key `key:0000001234`, a 64-byte value that embeds the key, so values are distinct
 * per key); inserts go in index order, updates/gets/deletes in the same permuted order for every
 * system; a Map cannot key by Buffer contents, so the Map's Buffer-key variant keys by the
 * key's latin1 string (what an application would do), which is counted in the Map's time.
 * Each system gets the same unmeasured warm-up round; a full GC runs before each measured
 * system so one system's garbage is not collected on the other's clock. First touch of fresh
 * memory (slow on these machines) is part of every insert phase, for both systems.
 */

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { open, type TableHandle } from '../src/index.js';
import { Table } from '../src/table/table.js';
import { kMetaBytes } from '../src/table/layout.js';
import type { Engine } from '../src/engine/engine.js';
import {
  argNumber,
  argValue,
  collectGarbage,
  emit,
  machineFacts,
  maxOf,
  median,
  minOf,
  modeOf,
  note,
  percentile,
  permutationStride,
  ratio,
  typedPercentile,
  writeDigits,
  type BenchMode,
} from './support.js';

const kBench = 'embedded';

// ------------------------------------------------------------------ keys and values

const kKeyPrefix = 'key:';
const kKeyDigits = 10;
const kKeyBytes = kKeyPrefix.length + kKeyDigits;
const kValueBytes = 64;
const kValuePrefixBytes = kValueBytes - kKeyBytes;
/** Insert values and update values differ, so an update really changes every value. */
const kValuePrefixA = 'a'.repeat(kValuePrefixBytes);
const kValuePrefixB = 'b'.repeat(kValuePrefixBytes);
const kKeyPrefixBuf = Buffer.from(kKeyPrefix, 'latin1');
const kValuePrefixABuf = Buffer.from(kValuePrefixA, 'latin1');
const kValuePrefixBBuf = Buffer.from(kValuePrefixB, 'latin1');

function strKey(index: number): string {
  return kKeyPrefix + String(index).padStart(kKeyDigits, '0');
}

function bufKey(index: number): Buffer {
  const key = Buffer.allocUnsafe(kKeyBytes);
  key.set(kKeyPrefixBuf, 0);
  writeDigits(key, kKeyPrefix.length, index, kKeyDigits);
  return key;
}

function bufValue(prefix: Buffer, key: Buffer): Buffer {
  const value = Buffer.allocUnsafe(kValueBytes);
  value.set(prefix, 0);
  value.set(key, kValuePrefixBytes);
  return value;
}

// ------------------------------------------------------------------ phases

type Phase = 'insert' | 'update' | 'get' | 'delete';
const kPhases: readonly Phase[] = ['insert', 'update', 'get', 'delete'];
type KeyKind = 'string' | 'buffer';
type SubjectName = 'frostkv-handle' | 'frostkv-table' | 'map';

/**
 * One loop per (system, key kind, phase), written out so that every call site stays
 * monomorphic: a shared generic loop would make all three systems pay for polymorphism.
 * Each returns a checksum of what it read so no work can be optimised away.
 */
function runHandleString(h: TableHandle, phase: Phase, n: number, stride: number): number {
  let sum = 0;
  switch (phase) {
    case 'insert':
      for (let i = 0; i < n; i++) {
        const key = strKey(i);
        h.set(key, kValuePrefixA + key);
      }
      return h.size;
    case 'update':
      for (let i = 0; i < n; i++) {
        const key = strKey((i * stride) % n);
        h.set(key, kValuePrefixB + key);
      }
      return h.size;
    case 'get':
      for (let i = 0; i < n; i++) {
        const value = h.getString(strKey((i * stride) % n));
        if (value === undefined) throw new Error('frostkv-handle lost a key');
        sum += value.charCodeAt(kValueBytes - 1);
      }
      return sum;
    case 'delete':
      for (let i = 0; i < n; i++) if (h.delete(strKey((i * stride) % n))) sum++;
      return sum;
  }
}

function runTableString(t: Table, phase: Phase, n: number, stride: number): number {
  let sum = 0;
  switch (phase) {
    case 'insert':
      for (let i = 0; i < n; i++) {
        const key = strKey(i);
        t.set(key, kValuePrefixA + key);
      }
      return t.size;
    case 'update':
      for (let i = 0; i < n; i++) {
        const key = strKey((i * stride) % n);
        t.set(key, kValuePrefixB + key);
      }
      return t.size;
    case 'get':
      for (let i = 0; i < n; i++) {
        const value = t.getString(strKey((i * stride) % n));
        if (value === undefined) throw new Error('frostkv-table lost a key');
        sum += value.charCodeAt(kValueBytes - 1);
      }
      return sum;
    case 'delete':
      for (let i = 0; i < n; i++) if (t.delete(strKey((i * stride) % n))) sum++;
      return sum;
  }
}

function runMapString(m: Map<string, string>, phase: Phase, n: number, stride: number): number {
  let sum = 0;
  switch (phase) {
    case 'insert':
      for (let i = 0; i < n; i++) {
        const key = strKey(i);
        m.set(key, kValuePrefixA + key);
      }
      return m.size;
    case 'update':
      for (let i = 0; i < n; i++) {
        const key = strKey((i * stride) % n);
        m.set(key, kValuePrefixB + key);
      }
      return m.size;
    case 'get':
      for (let i = 0; i < n; i++) {
        const value = m.get(strKey((i * stride) % n));
        if (value === undefined) throw new Error('map lost a key');
        sum += value.charCodeAt(kValueBytes - 1);
      }
      return sum;
    case 'delete':
      for (let i = 0; i < n; i++) if (m.delete(strKey((i * stride) % n))) sum++;
      return sum;
  }
}

function runHandleBuffer(h: TableHandle, phase: Phase, n: number, stride: number): number {
  let sum = 0;
  switch (phase) {
    case 'insert':
      for (let i = 0; i < n; i++) {
        const key = bufKey(i);
        h.set(key, bufValue(kValuePrefixABuf, key));
      }
      return h.size;
    case 'update':
      for (let i = 0; i < n; i++) {
        const key = bufKey((i * stride) % n);
        h.set(key, bufValue(kValuePrefixBBuf, key));
      }
      return h.size;
    case 'get':
      for (let i = 0; i < n; i++) {
        const value = h.get(bufKey((i * stride) % n));
        if (value === undefined) throw new Error('frostkv-handle lost a key');
        sum += value[kValueBytes - 1] as number;
      }
      return sum;
    case 'delete':
      for (let i = 0; i < n; i++) if (h.delete(bufKey((i * stride) % n))) sum++;
      return sum;
  }
}

function runTableBuffer(t: Table, phase: Phase, n: number, stride: number): number {
  let sum = 0;
  switch (phase) {
    case 'insert':
      for (let i = 0; i < n; i++) {
        const key = bufKey(i);
        t.set(key, bufValue(kValuePrefixABuf, key));
      }
      return t.size;
    case 'update':
      for (let i = 0; i < n; i++) {
        const key = bufKey((i * stride) % n);
        t.set(key, bufValue(kValuePrefixBBuf, key));
      }
      return t.size;
    case 'get':
      for (let i = 0; i < n; i++) {
        const value = t.get(bufKey((i * stride) % n));
        if (value === undefined) throw new Error('frostkv-table lost a key');
        sum += value[kValueBytes - 1] as number;
      }
      return sum;
    case 'delete':
      for (let i = 0; i < n; i++) if (t.delete(bufKey((i * stride) % n))) sum++;
      return sum;
  }
}

function runMapBuffer(m: Map<string, Buffer>, phase: Phase, n: number, stride: number): number {
  let sum = 0;
  switch (phase) {
    case 'insert':
      for (let i = 0; i < n; i++) {
        const key = bufKey(i);
        m.set(key.toString('latin1'), bufValue(kValuePrefixABuf, key));
      }
      return m.size;
    case 'update':
      for (let i = 0; i < n; i++) {
        const key = bufKey((i * stride) % n);
        m.set(key.toString('latin1'), bufValue(kValuePrefixBBuf, key));
      }
      return m.size;
    case 'get':
      for (let i = 0; i < n; i++) {
        const value = m.get(bufKey((i * stride) % n).toString('latin1'));
        if (value === undefined) throw new Error('map lost a key');
        sum += value[kValueBytes - 1] as number;
      }
      return sum;
    case 'delete':
      for (let i = 0; i < n; i++) if (m.delete(bufKey((i * stride) % n).toString('latin1'))) sum++;
      return sum;
  }
}

/** Expected result of each phase (a wrong one means a broken store, not a slow one). */
function checkPhase(subject: SubjectName, phase: Phase, n: number, result: number): void {
  if ((phase === 'insert' || phase === 'update' || phase === 'delete') && result !== n) {
    throw new Error(`${subject} ${phase}: expected ${n}, got ${result}`);
  }
}

/** All four phases on a fresh store of one system; returns seconds per phase. */
async function runSubject(subject: SubjectName, kind: KeyKind, n: number): Promise<Record<Phase, number>> {
  const stride = permutationStride(n);
  const seconds = { insert: 0, update: 0, get: 0, delete: 0 };
  collectGarbage();
  if (subject === 'map') {
    const store = kind === 'string' ? new Map<string, string>() : new Map<string, Buffer>();
    for (const phase of kPhases) {
      const started = performance.now();
      const result =
        kind === 'string'
          ? runMapString(store as Map<string, string>, phase, n, stride)
          : runMapBuffer(store as Map<string, Buffer>, phase, n, stride);
      seconds[phase] = (performance.now() - started) / 1000;
      checkPhase(subject, phase, n, result);
    }
  } else if (subject === 'frostkv-table') {
    const table = new Table();
    for (const phase of kPhases) {
      const started = performance.now();
      const result = kind === 'string' ? runTableString(table, phase, n, stride) : runTableBuffer(table, phase, n, stride);
      seconds[phase] = (performance.now() - started) / 1000;
      checkPhase(subject, phase, n, result);
    }
  } else {
    const db = await open({}, { inMemory: true });
    const handle = db.table();
    for (const phase of kPhases) {
      const started = performance.now();
      const result = kind === 'string' ? runHandleString(handle, phase, n, stride) : runHandleBuffer(handle, phase, n, stride);
      seconds[phase] = (performance.now() - started) / 1000;
      checkPhase(subject, phase, n, result);
    }
    await db.close();
  }
  return seconds;
}

async function opsScenario(n: number, rounds: number, mode: BenchMode): Promise<void> {
  const subjects: SubjectName[] = ['frostkv-handle', 'frostkv-table', 'map'];
  for (const kind of ['string', 'buffer'] as const) {
    const warmKeys = Math.min(n, mode === 'smoke' ? n : 200_000);
    note(`ops: ${kind} keys, warm-up round of ${warmKeys} keys for every system`);
    for (const subject of subjects) await runSubject(subject, kind, warmKeys);
    const samples = new Map<SubjectName, Record<Phase, number[]>>();
    for (const subject of subjects) samples.set(subject, { insert: [], update: [], get: [], delete: [] });
    for (let round = 0; round < rounds; round++) {
      // Rotate the order each round so no system always runs first (fresh memory, GC state).
      const order = subjects.map((_, i) => subjects[(i + round) % subjects.length] as SubjectName);
      for (const subject of order) {
        const seconds = await runSubject(subject, kind, n);
        const into = samples.get(subject) as Record<Phase, number[]>;
        for (const phase of kPhases) into[phase].push(n / seconds[phase]);
        note(
          `ops: ${kind} n=${n} round ${round + 1}/${rounds} ${subject}: ` +
            kPhases.map((phase) => `${phase} ${(n / seconds[phase] / 1e6).toFixed(2)}M/s`).join(', '),
        );
      }
    }
    const map = samples.get('map') as Record<Phase, number[]>;
    for (const phase of kPhases) {
      for (const subject of ['frostkv-handle', 'frostkv-table'] as const) {
        const mine = (samples.get(subject) as Record<Phase, number[]>)[phase];
        const opsPerSec = median(mine);
        const mapOpsPerSec = median(map[phase]);
        emit(kBench, phase, {
          keyKind: kind,
          subject,
          peer: 'map',
          keys: n,
          rounds,
          keyBytes: kKeyBytes,
          valueBytes: kValueBytes,
          opsPerSec,
          opsPerSecMin: minOf(mine),
          opsPerSecMax: maxOf(mine),
          mapOpsPerSec,
          mapOpsPerSecMin: minOf(map[phase]),
          mapOpsPerSecMax: maxOf(map[phase]),
          ratio: ratio(opsPerSec, mapOpsPerSec),
          goalRatio: 1,
          goalMet: opsPerSec >= mapOpsPerSec,
          mapKeyedBy: kind === 'buffer' ? 'latin1 string of the key bytes' : 'the key string',
          getReturns: kind === 'string' ? 'string (getString)' : 'Buffer copy (get) vs the stored Buffer (Map)',
        });
      }
    }
  }
}

// ------------------------------------------------------------------ freeze

function fillTable(table: Table, n: number): void {
  for (let i = 0; i < n; i++) {
    const key = strKey(i);
    table.set(key, kValuePrefixA + key);
  }
}

/** A small deterministic generator so every run writes the same keys. */
function makeRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

function writeSome(set: (key: string, value: string) => void, n: number, count: number, random: () => number): void {
  for (let i = 0; i < count; i++) {
    const key = strKey(Math.floor(random() * n));
    set(key, kValuePrefixB + key);
  }
}

async function freezeScenario(n: number, cuts: number): Promise<void> {
  collectGarbage();
  const random = makeRandom(n);
  // Raw table: Table.freeze() then release, with writes between cuts and while a cut is held.
  {
    const table = new Table();
    fillTable(table, n);
    const set = (key: string, value: string): void => table.set(key, value);
    const pauses: number[] = [];
    const releases: number[] = [];
    for (let cut = 0; cut < cuts; cut++) {
      writeSome(set, n, 200, random);
      const t0 = process.hrtime.bigint();
      const frozen = table.freeze();
      const t1 = process.hrtime.bigint();
      writeSome(set, n, 20, random);
      const t2 = process.hrtime.bigint();
      frozen.release();
      const t3 = process.hrtime.bigint();
      pauses.push(Number(t1 - t0) / 1e6);
      releases.push(Number(t3 - t2) / 1e6);
    }
    emitFreeze('frostkv-table', n, cuts, table.stats().segmentCount, pauses, releases, null);
  }
  collectGarbage();
  // Engine (what a save calls): every table of every keyspace, through an in-memory database.
  {
    const db = await open({}, { inMemory: true });
    const handle = db.table();
    for (let i = 0; i < n; i++) {
      const key = strKey(i);
      handle.set(key, kValuePrefixA + key);
    }
    const engine: Engine = db.engine;
    const set = (key: string, value: string): void => handle.set(key, value);
    const pauses: number[] = [];
    const releases: number[] = [];
    const selfReported: number[] = [];
    for (let cut = 0; cut < cuts; cut++) {
      writeSome(set, n, 200, random);
      const t0 = process.hrtime.bigint();
      const frozen = engine.freeze();
      const t1 = process.hrtime.bigint();
      writeSome(set, n, 20, random);
      const t2 = process.hrtime.bigint();
      frozen.release();
      const t3 = process.hrtime.bigint();
      pauses.push(Number(t1 - t0) / 1e6);
      releases.push(Number(t3 - t2) / 1e6);
      selfReported.push(frozen.pauseMs);
    }
    let segmentCount = 0;
    for (const entry of engine.allEntries()) segmentCount += entry.table.stats().segmentCount;
    emitFreeze('frostkv-engine', n, cuts, segmentCount, pauses, releases, selfReported);
    await db.close();
  }
}

function emitFreeze(subject: string, n: number, cuts: number, segmentCount: number, pauses: number[], releases: number[], selfReported: number[] | null): void {
  const pauseMsMedian = median(pauses);
  const pauseMsMax = maxOf(pauses);
  emit(kBench, 'freeze', {
    subject,
    keys: n,
    cuts,
    segmentCount,
    pauseMsMedian,
    pauseMsP99: percentile(pauses, 99),
    pauseMsMax,
    releaseMsMedian: median(releases),
    releaseMsMax: maxOf(releases),
    selfReportedPauseMsMedian: selfReported === null ? undefined : median(selfReported),
    goalPauseMs: 0.1,
    goalMetMedian: pauseMsMedian < 0.1,
    goalMetMax: pauseMsMax < 0.1,
  });
  note(`freeze: ${subject} n=${n}: median ${pauseMsMedian.toFixed(4)} ms, max ${pauseMsMax.toFixed(4)} ms over ${cuts} cuts`);
}

// ------------------------------------------------------------------ copy-on-write

function timerOverheadUs(): number {
  const samples = new Float64Array(10_000);
  for (let i = 0; i < samples.length; i++) {
    const t0 = process.hrtime.bigint();
    const t1 = process.hrtime.bigint();
    samples[i] = Number(t1 - t0) / 1e3;
  }
  return typedPercentile(samples, samples.length, 50);
}

async function cowScenario(n: number, trials: number): Promise<void> {
  collectGarbage();
  const table = new Table();
  fillTable(table, n);
  const random = makeRandom(n ^ 0x5bd1e995);
  const segmentCount = table.stats().segmentCount;
  const writesPerTrial = Math.max(200, Math.min(4000, segmentCount * 2));
  const normal: number[] = [];
  const firstWrite: number[] = [];
  const heldNoCopy: number[] = [];
  let bytesPerCopy: number[] = [];
  let copies = 0;
  const poolBefore = table.pool.stats();
  for (let trial = 0; trial < trials; trial++) {
    // Baseline: same random updates with no frozen generation held.
    for (let i = 0; i < writesPerTrial; i++) {
      const key = strKey(Math.floor(random() * n));
      const value = kValuePrefixB + key;
      const t0 = process.hrtime.bigint();
      table.set(key, value);
      normal.push(Number(process.hrtime.bigint() - t0) / 1e3);
    }
    const frozen = table.freeze();
    let copyCount = table.stats().cowCopyCount;
    const copyCountAtCut = copyCount;
    for (let i = 0; i < writesPerTrial; i++) {
      const key = strKey(Math.floor(random() * n));
      const value = kValuePrefixA + key;
      const t0 = process.hrtime.bigint();
      table.set(key, value);
      const us = Number(process.hrtime.bigint() - t0) / 1e3;
      const now = table.stats().cowCopyCount;
      if (now > copyCount) firstWrite.push(us);
      else heldNoCopy.push(us);
      copyCount = now;
    }
    const stats = table.stats();
    const madeCopies = stats.cowCopyCount - copyCountAtCut;
    copies += madeCopies;
    if (madeCopies > 0) bytesPerCopy.push(stats.cowBytesNow / madeCopies);
    frozen.release();
  }
  const poolAfter = table.pool.stats();
  if (bytesPerCopy.length === 0) bytesPerCopy = [0];
  const normalUs = median(normal);
  const firstUs = median(firstWrite.length > 0 ? firstWrite : [0]);
  emit(kBench, 'cow', {
    subject: 'frostkv-table',
    keys: n,
    trials,
    segmentCount,
    writesPerTrial,
    copies,
    normalWriteUsMedian: normalUs,
    normalWriteUsP99: percentile(normal, 99),
    firstWriteCopyUsMedian: firstUs,
    firstWriteCopyUsP99: percentile(firstWrite.length > 0 ? firstWrite : [0], 99),
    firstWriteCopyUsMax: maxOf(firstWrite.length > 0 ? firstWrite : [0]),
    heldWriteNoCopyUsMedian: median(heldNoCopy.length > 0 ? heldNoCopy : [0]),
    copyOverheadUsMedian: Math.max(0, firstUs - normalUs),
    firstWriteOverNormalRatio: ratio(firstUs, normalUs),
    cowBytesPerCopiedSegment: median(bytesPerCopy),
    metaBytesPerSegment: kMetaBytes,
    heapBytesPerSegment: 128 * 1024,
    freshMetaBuffersDuringTrials: poolAfter.freshMetaCount - poolBefore.freshMetaCount,
    reusedMetaBuffersDuringTrials: poolAfter.reusedMetaCount - poolBefore.reusedMetaCount,
    timerOverheadUs: timerOverheadUs(),
  });
  note(
    `cow: n=${n}: first write to a held segment ${firstUs.toFixed(2)} us vs normal ${normalUs.toFixed(2)} us ` +
      `(${copies} copies, ${median(bytesPerCopy).toFixed(0)} bytes each)`,
  );
}

// ------------------------------------------------------------------ memory (child processes)

interface MemoryReport {
  store: 'map' | 'table';
  kind: KeyKind;
  keys: number;
  rssBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
  /** Growth of heapUsed over the second half of the build, per key (slope, not intercept). */
  heapUsedSlopeBytesPerKey: number;
  dataBytes: number;
  buildSeconds: number;
}

async function memoryChild(store: 'map' | 'table', kind: KeyKind, n: number): Promise<void> {
  collectGarbage();
  const before = process.memoryUsage();
  const checkpoints: Array<{ keys: number; heapUsed: number }> = [];
  const every = Math.max(1, Math.floor(n / 10));
  let dataBytes = 0;
  let keep: unknown;
  const started = performance.now();
  const checkpoint = (keys: number): void => {
    collectGarbage();
    checkpoints.push({ keys, heapUsed: process.memoryUsage().heapUsed });
  };
  if (store === 'map') {
    if (kind === 'string') {
      const map = new Map<string, string>();
      for (let i = 0; i < n; i++) {
        const key = strKey(i);
        map.set(key, kValuePrefixA + key);
        if ((i + 1) % every === 0) checkpoint(i + 1);
      }
      keep = map;
    } else {
      const map = new Map<string, Buffer>();
      for (let i = 0; i < n; i++) {
        const key = bufKey(i);
        map.set(key.toString('latin1'), bufValue(kValuePrefixABuf, key));
        if ((i + 1) % every === 0) checkpoint(i + 1);
      }
      keep = map;
    }
  } else {
    const db = await open({}, { inMemory: true });
    const handle = db.table();
    for (let i = 0; i < n; i++) {
      if (kind === 'string') {
        const key = strKey(i);
        handle.set(key, kValuePrefixA + key);
      } else {
        const key = bufKey(i);
        handle.set(key, bufValue(kValuePrefixABuf, key));
      }
      if ((i + 1) % every === 0) checkpoint(i + 1);
    }
    dataBytes = db.status().dataBytes;
    keep = db;
  }
  const buildSeconds = (performance.now() - started) / 1000;
  collectGarbage();
  const after = process.memoryUsage();
  const half = checkpoints.slice(Math.floor(checkpoints.length / 2));
  const first = half[0];
  const last = half[half.length - 1];
  const slope = first !== undefined && last !== undefined && last.keys > first.keys ? (last.heapUsed - first.heapUsed) / (last.keys - first.keys) : 0;
  const report: MemoryReport = {
    store,
    kind,
    keys: n,
    rssBytes: after.rss - before.rss,
    heapUsedBytes: after.heapUsed - before.heapUsed,
    heapTotalBytes: after.heapTotal - before.heapTotal,
    externalBytes: after.external - before.external,
    arrayBuffersBytes: after.arrayBuffers - before.arrayBuffers,
    heapUsedSlopeBytesPerKey: slope,
    dataBytes,
    buildSeconds,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  // Keep the store reachable until after the measurement.
  if (keep === null) note('unreachable');
}

function runMemoryChild(store: 'map' | 'table', kind: KeyKind, n: number): Promise<MemoryReport> {
  const self = fileURLToPath(import.meta.url);
  const args = ['--import', import.meta.resolve('tsx'), self, '--child', `memory-${store}`, '--kind', kind, '--keys', String(n)];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`memory child ${store}/${kind} exited with ${code}`));
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as MemoryReport);
      } catch (error) {
        reject(new Error(`memory child ${store}/${kind} printed no report: ${String(error)} in ${JSON.stringify(out)}`));
      }
    });
  });
}

async function memoryScenario(n: number, rounds: number): Promise<void> {
  for (const kind of ['string', 'buffer'] as const) {
    const maps: MemoryReport[] = [];
    const tables: MemoryReport[] = [];
    for (let round = 0; round < rounds; round++) {
      // Alternate which store goes first; each runs in its own fresh process anyway.
      const order: Array<'map' | 'table'> = round % 2 === 0 ? ['map', 'table'] : ['table', 'map'];
      for (const store of order) {
        const report = await runMemoryChild(store, kind, n);
        (store === 'map' ? maps : tables).push(report);
        note(
          `memory: ${kind} n=${n} ${store}: rss +${(report.rssBytes / 1e6).toFixed(1)} MB, heapUsed +${(report.heapUsedBytes / 1e6).toFixed(1)} MB, ` +
            `arrayBuffers +${(report.arrayBuffersBytes / 1e6).toFixed(1)} MB`,
        );
      }
    }
    const per = (reports: MemoryReport[], field: keyof MemoryReport): number => median(reports.map((r) => (r[field] as number) / n));
    const tableRss = per(tables, 'rssBytes');
    const mapRss = per(maps, 'rssBytes');
    emit(kBench, 'memory', {
      keyKind: kind,
      subject: 'frostkv-handle',
      peer: 'map',
      keys: n,
      rounds,
      rssBytesPerKey: tableRss,
      mapRssBytesPerKey: mapRss,
      rssRatio: ratio(tableRss, mapRss),
      heapUsedBytesPerKey: per(tables, 'heapUsedBytes'),
      mapHeapUsedBytesPerKey: per(maps, 'heapUsedBytes'),
      heapUsedBytesTotal: median(tables.map((r) => r.heapUsedBytes)),
      mapHeapUsedBytesTotal: median(maps.map((r) => r.heapUsedBytes)),
      heapUsedSlopeBytesPerKey: median(tables.map((r) => r.heapUsedSlopeBytesPerKey)),
      mapHeapUsedSlopeBytesPerKey: median(maps.map((r) => r.heapUsedSlopeBytesPerKey)),
      externalBytesPerKey: per(tables, 'externalBytes'),
      mapExternalBytesPerKey: per(maps, 'externalBytes'),
      arrayBuffersBytesPerKey: per(tables, 'arrayBuffersBytes'),
      mapArrayBuffersBytesPerKey: per(maps, 'arrayBuffersBytes'),
      dataBytesPerKey: per(tables, 'dataBytes'),
      payloadBytesPerKey: kKeyBytes + kValueBytes,
    });
  }
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const child = argValue(argv, '--child');
  if (child !== undefined) {
    const kind = (argValue(argv, '--kind') ?? 'string') as KeyKind;
    const keys = argNumber(argv, '--keys', 1_000_000);
    if (child !== 'memory-map' && child !== 'memory-table') throw new Error(`unknown child ${child}`);
    await memoryChild(child === 'memory-map' ? 'map' : 'table', kind, keys);
    return;
  }
  const mode = modeOf(argv);
  const only = new Set((argValue(argv, '--only') ?? 'ops,freeze,cow,memory').split(','));
  const smoke = mode === 'smoke';
  const rounds = argNumber(argv, '--rounds', smoke ? 2 : 5);
  const opsSizes = smoke ? [20_000] : mode === 'full' ? [1_000_000, 5_000_000] : [1_000_000];
  const freezeSizes = smoke ? [20_000, 50_000] : [1_000_000, 5_000_000];
  const memorySizes = smoke ? [20_000] : mode === 'full' ? [1_000_000, 5_000_000] : [1_000_000];
  const facts = machineFacts();
  emit(kBench, 'env', { mode, ...facts });
  note(`embedded bench, mode ${mode}, ${facts.cpuModel} x${facts.cores}, Node ${facts.nodeVersion}, commit ${facts.commit}`);
  // 5M-key rounds take about a minute each: three of them keep a full run near ten minutes.
  if (only.has('ops')) for (const n of opsSizes) await opsScenario(n, n >= 5_000_000 ? Math.min(rounds, 3) : rounds, mode);
  if (only.has('freeze')) for (const n of freezeSizes) await freezeScenario(n, smoke ? 50 : 1000);
  if (only.has('cow')) for (const n of freezeSizes) await cowScenario(n, smoke ? 2 : 10);
  if (only.has('memory')) for (const n of memorySizes) await memoryScenario(n, smoke ? 1 : 3);
}

main().catch((error: unknown) => {
  process.stderr.write(`embedded bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
