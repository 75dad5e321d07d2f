/**
 * A deterministic, seeded simulation of the save protocol (the way FoundationDB and
 * TigerBeetle test theirs).
 *
 * One driver owns the order of everything: main-thread writes (sets, deletes, list pushes,
 * big out-of-line values, FLUSHDB, CREATE/DROP TABLE: so splits, compactions and
 * copy-on-write), the cuts of every save kind (live saves replacing `ks`, local snapshots,
 * named snapshots; several held at once), and each worker's claim / encode / done steps
 * through the real `runSave` planner and the real encoder (SimPool). Table memory, segment
 * release and the buffer pool are the real ones. Files are real, in a tmpfs folder.
 *
 * Checks, each naming what broke:
 *  - at every cut: the frozen generation's invariants (Table.checkFrozen), and a digest of
 *    every frozen segment;
 *  - at every worker step: the segment the worker is at still has its digest from the cut
 *    (nothing wrote to, freed or reused memory a worker may be reading);
 *  - every few steps: Table.checkInvariants on every table (live and held generations);
 *  - after every successful save: the folder verifies completely (the same checks as
 *    `snapshots verify`), loads through the real decoder and adoptSegments, and every table
 *    holds exactly the digest the model had at the cut;
 *  - after a failed save (faults are injected into some saves): a snapshot folder was not
 *    published; `ks` still verifies and holds either the previous live save or this one;
 *  - at the end: no generation held, no copy-on-write memory counted.
 * A failure throws with the seed; `FROSTKV_SIM_SEED=<seed>` replays exactly that run.
 */

import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as drain } from 'node:timers/promises';
import { Engine, type EngineCut } from '../../src/engine/engine.js';
import { encodeList } from '../../src/engine/list.js';
import { Table } from '../../src/table/table.js';
import type { FrozenTable } from '../../src/table/generation.js';
import { addSegment, emptyDigest, mergeDigests, type Digest } from '../../src/table/digest.js';
import { ValueType } from '../../src/engine/value.js';
import { viewFromWire } from '../../src/table/wire.js';
import { kSegmentStatusDone, kSegmentStatusPending } from '../../src/table/layout.js';
import { runSave, SaveJob, type SaveKind, type SaveReport } from '../../src/persist/save.js';
import type { EncodePart } from '../../src/persist/encode.js';
import { decodeTask } from '../../src/persist/decode.js';
import { verifyFolder } from '../../src/persist/verify.js';
import { FsSeam, newFaultPlan } from '../../src/persist/fs-seam.js';
import { kManifestFileName, parseManifest } from '../../src/persist/format.js';
import { ModelTable } from '../support/digests.js';
import { HashModel } from './sim-hashes.js';
import { Rng } from '../support/random.js';
import { SimPool, type SimWorker } from './sim-pool.js';

/** Knobs drawn per seed, so each seed explores a different shape of run. */
export interface SimShape {
  threads: number;
  workerSpeeds: number[];
  /** Slots a worker encodes between two yields inside a segment (2048 = no yield inside). */
  slotsPerStep: number;
  segmentsPerPart: number;
  /** Keys per table (the key space writes draw from). */
  keySpace: number;
  writeBurstMax: number;
  /** Probability that the next step is main-thread work rather than a worker step. */
  mainShare: number;
  concurrentSavesMax: number;
  faultShare: number;
}

export interface SimResult {
  seed: number;
  saves: number;
  savesFailed: number;
  savesHeldTogetherMax: number;
  writes: number;
  workerSteps: number;
  hotSegments: number;
  /** Collection tables (large hashes) carried by cuts, and records left out of saves as expired at their cut. */
  collectionsCut: number;
  expiredAtCut: number;
  shape: SimShape;
}

const kBaseTables = ['default:default', 'app:texts', 'app:lists'] as const;
const kVolatileTable = 'app:scratch';
const kCheckEverySteps = 64;
/** Hash keys the simulation writes, and the fields they spread over (past 128 a hash is large). */
const kHashKeys = 12;
const kHashFieldSpace = 300;
/** Where the simulated clock starts (a realistic epoch time, so expiry times take 41 bits). */
const kSimEpochMs = 1_800_000_000_000;
/** Keys given a ttl live up to this long in simulated time; bursts move the clock up to kClockStepMaxMs. */
const kTtlMaxMs = 3_000;
const kClockStepMaxMs = 20;
/** Scratch tables alive at once (each save encodes every table). */
const kTmpTablesMax = 3;
const kDrainStepsMax = 1_000_000;

export function shapeFor(rng: Rng): SimShape {
  const threads = 1 + rng.int(3);
  return {
    threads,
    workerSpeeds: Array.from({ length: threads }, () => (rng.float() < 0.3 ? 0.05 : 0.3 + rng.float())),
    slotsPerStep: rng.pick([2048, 512, 256]),
    segmentsPerPart: rng.pick([1, 2, 3, 5, 32]),
    keySpace: rng.pick([400, 1500, 4000]),
    writeBurstMax: rng.pick([1, 4, 16, 48]),
    mainShare: rng.pick([0.2, 0.5, 0.7]),
    concurrentSavesMax: 1 + rng.int(3),
    faultShare: rng.pick([0, 0, 0.1]),
  };
}

interface Expected {
  kind: SaveKind;
  /** Digest of every saved (non-volatile) table at the cut, and the set of all tables. */
  digests: Map<string, Digest>;
  tables: string[];
}

class SimFailure extends Error {}

function fail(message: string): never {
  throw new SimFailure(message);
}

function sameDigest(a: Digest, b: Digest): boolean {
  return a.count === b.count && a.sum === b.sum && a.xor === b.xor;
}

export class Simulation {
  readonly rng: Rng;
  readonly shape: SimShape;
  private readonly root: string;
  private readonly engine: Engine;
  private readonly pool: SimPool;
  private readonly models = new Map<string, ModelTable>();
  private readonly lists = new Map<string, Buffer[]>();
  private readonly hashModel: HashModel;
  private readonly volatile = new Set<string>([kVolatileTable]);
  /** Per frozen status array: each segment's digest at the cut. */
  private readonly frozenDigests = new WeakMap<Int32Array, Digest[]>();
  private readonly inFlight = new Set<Promise<void>>();
  private liveSaveRunning = false;
  /** What `ks` holds after the last successful live save (a failed one must leave it, or its own). */
  private liveExpected: Expected | null = null;
  private saveCounter = 0;
  private tmpTableCounter = 0;
  /** The simulated clock expiry is judged by; write bursts move it forward. */
  private nowMs = kSimEpochMs;
  private error: unknown = null;
  readonly result: SimResult;

  constructor(seed: number, root: string) {
    this.rng = new Rng(seed);
    this.shape = shapeFor(this.rng);
    this.root = root;
    this.engine = new Engine({ hashSeeds: () => this.rng.nextU32(), clock: () => this.nowMs });
    this.pool = new SimPool(this.shape.workerSpeeds, this.shape.slotsPerStep, (part, index) => this.checkWorkerStep(part, index));
    this.result = { seed, saves: 0, savesFailed: 0, savesHeldTogetherMax: 0, writes: 0, workerSteps: 0, hotSegments: 0, collectionsCut: 0, expiredAtCut: 0, shape: this.shape };
    this.engine.createKeyspace('app');
    this.engine.createTable('app:texts', { key: 'str', value: 'str', volatile: false });
    this.engine.createTable('app:lists', { key: 'str', value: 'list<str>', volatile: false });
    this.engine.createTable(kVolatileTable, { key: 'str', value: 'str', volatile: true });
    for (const name of kBaseTables) this.models.set(name, new ModelTable());
    this.hashModel = new HashModel(this.engine, this.models.get('default:default')!, fail);
  }

  // ------------------------------------------------------------ main-thread work

  private key(prefix: string): Buffer {
    return Buffer.from(`${prefix}${this.rng.int(this.shape.keySpace)}`);
  }

  private value(): Buffer {
    const roll = this.rng.float();
    // 1% out of line (> 4 KiB), the rest inline; sizes vary so overwrites change entry sizes.
    if (roll < 0.01) return this.rng.bytes(4_200 + this.rng.int(5_000));
    return this.rng.bytes(roll < 0.5 ? this.rng.int(40) : 40 + this.rng.int(220));
  }

  private writeOne(): void {
    const roll = this.rng.float();
    const tmpTables = [...this.models.keys()].filter((name) => name.startsWith('app:tmp'));
    if (roll < 0.4) {
      const key = this.key('k');
      const value = this.value();
      // A third of these expire within seconds of simulated time (inline and out of line).
      const ttlMs = this.rng.float() < 0.33 ? 1 + this.rng.int(kTtlMaxMs) : undefined;
      this.engine.table('default:default').set(key, value, ttlMs === undefined ? undefined : { ttlMs });
      this.models.get('default:default')!.set(key, value, ttlMs === undefined ? 0 : this.nowMs + ttlMs);
    } else if (roll < 0.45) {
      this.expiryWrite();
    } else if (roll < 0.6) {
      const key = this.key('k');
      this.engine.table('default:default').delete(key);
      this.models.get('default:default')!.delete(key);
    } else if (roll < 0.75) {
      const key = this.key('t');
      const value = Buffer.from(`text-${this.rng.nextU32()}-${'x'.repeat(this.rng.int(120))}`);
      this.engine.table('app:texts').set(key, value);
      this.models.get('app:texts')!.set(key, value);
    } else if (roll < 0.85) {
      this.listWrite();
    } else if (roll < 0.87) {
      this.engine.table(kVolatileTable).set(`v${this.rng.int(100)}`, 'gone at restart');
    } else if (roll < 0.9) {
      this.hashWrite();
    } else if (roll < 0.997) {
      const name = tmpTables.length > 0 ? this.rng.pick(tmpTables) : 'default:default';
      const key = this.key('m');
      const value = this.value();
      this.engine.table(name).set(key, value);
      this.models.get(name)!.set(key, value);
    } else {
      this.ddl(tmpTables);
    }
    this.result.writes++;
  }

  private listWrite(): void {
    const key = this.key('l');
    const id = key.toString('latin1');
    const handle = this.engine.table('app:lists');
    const element = Buffer.from(`e${this.rng.int(1000)}`);
    const current = this.lists.get(id);
    if (current === undefined || this.rng.float() < 0.05) {
      if (current !== undefined) handle.delete(key);
      handle.listCreate(key, [element]);
      this.lists.set(id, [element]);
    } else {
      handle.listPush(key, [element]);
      current.push(element);
    }
    this.models.get('app:lists')!.set(key, encodeList('str', this.lists.get(id)!), 0, ValueType.list);
  }

  /**
   * HSET / HDEL on one of a few hashes of default:default: fields from a space large enough
   * that some outgrow the small encoding (by count, or by a value over 3 KiB) into their own
   * collection table, which saves must then carry in the same cut.
   */
  private hashWrite(): void {
    const key = Buffer.from(`h${this.rng.int(kHashKeys)}`);
    const pairs: Array<[Buffer, Buffer]> = [];
    const deletes: Buffer[] = [];
    const n = 1 + this.rng.int(this.rng.float() < 0.05 ? 200 : 4);
    for (let i = 0; i < n; i++) {
      const field = Buffer.from(`f${this.rng.int(kHashFieldSpace)}`);
      if (this.rng.float() < 0.2) deletes.push(field);
      else pairs.push([field, this.rng.float() < 0.003 ? this.rng.bytes(3_500) : this.rng.bytes(this.rng.int(30))]);
    }
    this.hashModel.write(key, pairs, deletes, this.nowMs);
  }

  /** EXPIRE / PERSIST on a key of default:default; the table must agree with the model on whether it was alive. */
  private expiryWrite(): void {
    const key = this.rng.float() < 0.3 ? Buffer.from(`h${this.rng.int(kHashKeys)}`) : this.key('k');
    const model = this.models.get('default:default')!;
    const record = model.get(key);
    const alive = record !== undefined && (record.expiresAtMs === 0 || record.expiresAtMs > this.nowMs);
    if (!alive) model.delete(key);
    const handle = this.engine.table('default:default');
    const roll = this.rng.float();
    let changed: boolean;
    if (roll < 0.2) {
      changed = handle.persist(key);
      if (alive && record.expiresAtMs !== 0) model.setExpiry(key, 0);
      if (changed !== (alive && record.expiresAtMs !== 0)) fail(`persist of ${key.toString()}: table says ${changed}, model says otherwise`);
      return;
    }
    const ttlMs = roll < 0.25 ? -this.rng.int(5) : 1 + this.rng.int(kTtlMaxMs);
    changed = handle.expire(key, ttlMs);
    if (changed !== alive) fail(`expire of ${key.toString()}: table says ${changed}, model says ${alive}`);
    if (!alive) return;
    if (ttlMs <= 0) model.delete(key);
    else model.setExpiry(key, this.nowMs + ttlMs);
  }

  /** One slice of the active sweep on every table, with a random sample bound (deterministic). */
  private sweep(): void {
    for (const entry of this.engine.allEntries()) entry.table.sweepExpired(this.nowMs, 1 + this.rng.int(300));
  }

  /** Rare: FLUSHDB of a table, or CREATE / DROP of a scratch table (O(1) swaps, background reclaim). */
  private ddl(tmpTables: string[]): void {
    const roll = this.rng.float();
    if (roll < 0.4) {
      const name = this.rng.pick([...kBaseTables, ...tmpTables]);
      this.engine.table(name).clear();
      this.models.set(name, new ModelTable());
      if (name === 'app:lists') this.lists.clear();
      if (name === 'default:default') this.hashModel.reset(this.models.get(name)!);
    } else if (tmpTables.length === 0 || (roll < 0.75 && tmpTables.length < kTmpTablesMax)) {
      const name = `app:tmp${this.tmpTableCounter++}`;
      this.engine.createTable(name, { key: 'binstr', value: 'binstr', volatile: false });
      this.models.set(name, new ModelTable());
    } else {
      const name = this.rng.pick(tmpTables);
      this.engine.dropTable(name);
      this.models.delete(name);
    }
  }

  private writeBurst(): void {
    this.nowMs += this.rng.int(kClockStepMaxMs);
    if (this.rng.float() < 0.1) this.sweep();
    const count = 1 + this.rng.int(this.shape.writeBurstMax);
    for (let i = 0; i < count; i++) this.writeOne();
  }

  // ------------------------------------------------------------ saves

  private startSave(): void {
    const kinds: SaveKind[] = this.liveSaveRunning ? ['snapshot', 'named'] : ['bgsave', 'snapshot', 'named'];
    const kind = this.rng.pick(kinds);
    const n = this.saveCounter++;
    const finalDir =
      kind === 'bgsave' ? join(this.root, 'ks') : kind === 'snapshot' ? join(this.root, 'snaps', `s${n}`) : join(this.root, 'rsnap', 'sim', `n${n}`);
    const faults = this.rng.float() < this.shape.faultShare ? newFaultPlan('any', 1 + this.rng.int(40), this.rng.float() < 0.3) : null;
    let expected: Expected | null = null;
    if (kind === 'bgsave') this.liveSaveRunning = true;
    const run = runSave(
      this.engine,
      this.pool,
      {
        kind,
        finalDir,
        mode: kind === 'bgsave' ? 'replace' : 'publish',
        dataDir: this.root,
        faults,
        segmentsPerPart: this.shape.segmentsPerPart,
        onCut: (cut) => {
          expected = this.atCut(kind, cut);
        },
      },
      new SaveJob(kind),
    ).then((report) => {
      if (kind === 'bgsave') this.liveSaveRunning = false;
      this.afterSave(report, expected as Expected, faults !== null, faults?.persistent === true);
    });
    const tracked = run.catch((error: unknown) => {
      this.error ??= error;
    });
    this.inFlight.add(tracked);
    void tracked.finally(() => this.inFlight.delete(tracked));
    this.result.savesHeldTogetherMax = Math.max(this.result.savesHeldTogetherMax, this.inFlight.size);
  }

  /** The cut: record the model's digests, check the frozen generations, digest their segments. */
  private atCut(kind: SaveKind, cut: EngineCut): Expected {
    const digests = new Map<string, Digest>();
    // The cut holds exactly the keys alive at its time: the model drops the others first.
    for (const [name, model] of this.models) {
      model.expireDue(this.nowMs);
      digests.set(name, model.snapshot());
    }
    // Invariant 7: every collection table the engine holds is in the cut, with its fields at the cut.
    for (const [name, digest] of this.hashModel.atCut(this.nowMs)) {
      digests.set(name, digest);
      this.result.collectionsCut++;
    }
    for (const table of cut.tables) if (table.frozen !== null) this.result.expiredAtCut += table.frozen.entryCount() - table.frozen.liveEntryCount();
    for (const table of cut.tables) if (table.frozen !== null && table.frozen.cutMs !== this.nowMs) fail(`cut at ${table.frozen.cutMs}, clock at ${this.nowMs}`);
    const tables = cut.tables.map((table) => `${table.keyspace}:${table.name}`).sort();
    const modelled = [...digests.keys(), ...this.volatile].sort();
    if (tables.join() !== modelled.join()) fail(`cut holds tables ${tables.join()} but the model has ${modelled.join()}`);
    for (const table of cut.tables) {
      if (table.frozen === null) continue;
      this.tableOf(`${table.keyspace}:${table.name}`)?.checkFrozen(table.frozen);
      this.frozenDigests.set(table.frozen.status, segmentDigests(table.frozen));
    }
    return { kind, digests, tables };
  }

  private tableOf(entity: string): Table | null {
    for (const [name, table] of this.engine.allTables()) if (name === entity) return table;
    return null;
  }

  /** A worker is at segment `index`: unless finished, it must read exactly as it did at the cut. */
  private checkWorkerStep(part: EncodePart, index: number): void {
    if (Atomics.load(part.status, index) === kSegmentStatusDone) return;
    // Every claim is checked; a quarter of the stops inside a segment (each check digests the
    // whole segment, and with small steps there are many stops per segment).
    const claimed = Atomics.load(part.status, index) !== kSegmentStatusPending;
    if (claimed && this.rng.float() >= 0.25) return;
    const expected = this.frozenDigests.get(part.status)?.[index];
    if (expected === undefined) fail(`worker step on ${part.table} segment ${index}: no digest recorded at the cut`);
    const wire = part.segments[part.statusIndexes.indexOf(index)];
    if (wire === undefined) fail(`worker step on ${part.table} segment ${index}: not in its part`);
    const now = emptyDigest();
    addSegment(now, viewFromWire(wire));
    if (!sameDigest(now, expected)) {
      fail(`frozen segment ${index} of ${part.keyspace}:${part.table} changed while a save still needed it (records ${expected.count} -> ${now.count})`);
    }
  }

  private afterSave(report: SaveReport, expected: Expected, faulted: boolean, persistent: boolean): void {
    this.result.saves++;
    this.result.hotSegments += report.hotSegments;
    if (!report.ok) {
      this.result.savesFailed++;
      if (!faulted) fail(`${report.kind} save to ${report.finalDir} failed with no fault injected: ${report.failure?.message ?? '?'}`);
      if (report.kind === 'bgsave') {
        // The swap may have completed before a later fsync failed: ks is then the new save
        // (complete, but not known durable, so reported failed), and later saves replace it.
        if (existsSync(report.finalDir)) this.liveExpected = this.checkFolder(report.finalDir, [this.liveExpected, expected]);
      } else if (existsSync(report.finalDir)) {
        // Only a persistent fault can stop a failed publish from being taken back; what is
        // left must then still be this complete cut.
        if (!persistent) fail(`failed ${report.kind} save was published at ${report.finalDir}`);
        this.checkFolder(report.finalDir, [expected]);
        rmSync(report.finalDir, { recursive: true, force: true });
      }
      return;
    }
    this.checkFolder(report.finalDir, [expected]);
    if (report.kind === 'bgsave') this.liveExpected = expected;
    else rmSync(report.finalDir, { recursive: true, force: true });
  }

  /** The folder verifies and loads, and holds exactly one of `candidates` (null: no save yet); returns it. */
  private checkFolder(dir: string, candidates: Array<Expected | null>): Expected {
    const verdict = verifyFolder(new FsSeam(), dir);
    if (verdict.problems.length > 0) fail(`${dir} does not verify: ${verdict.problems.map((p) => p.message).join('; ')}`);
    const loaded = loadFolder(dir);
    const match = candidates.find((candidate) => {
      if (candidate === null) return false;
      if ([...loaded.keys()].sort().join() !== candidate.tables.join()) return false;
      for (const [name, digest] of loaded) {
        const want = this.volatile.has(name) ? emptyDigest() : candidate.digests.get(name);
        if (want === undefined || !sameDigest(want, digest)) return false;
      }
      return true;
    });
    if (match === undefined || match === null) {
      const wanted = candidates.map((c) => (c === null ? 'none' : [...c.digests].map(([n, d]) => `${n}=${d.count}`).join(' '))).join(' | ');
      const got = [...loaded].map(([n, d]) => `${n}=${d.count}`).join(' ');
      fail(`${dir} does not hold the cut: has ${got}; expected ${wanted}`);
    }
    return match;
  }

  // ------------------------------------------------------------ the scheduler

  private pickWorker(workers: SimWorker[]): SimWorker {
    const total = workers.reduce((sum, worker) => sum + worker.speed, 0);
    let at = this.rng.float() * total;
    for (const worker of workers) {
      at -= worker.speed;
      if (at <= 0) return worker;
    }
    return workers[workers.length - 1] as SimWorker;
  }

  private async step(allowNewWork: boolean): Promise<void> {
    const runnable = this.pool.runnable();
    const mainTurn = allowNewWork && (runnable.length === 0 || this.rng.float() < this.shape.mainShare);
    if (mainTurn && !(this.inFlight.size < this.shape.concurrentSavesMax && this.rng.float() < 0.08)) {
      // Writes settle no promise: nothing to let react (the background reclaim of a FLUSHDB
      // runs at the next drain, in the same order every run).
      this.writeBurst();
      return;
    }
    if (mainTurn) {
      this.startSave();
    } else if (runnable.length > 0) {
      this.pool.step(this.pickWorker(runnable));
      this.result.workerSteps++;
    }
    // Let the save orchestration react (task results, next tasks, commits): microtasks and
    // the table's background reclaim, in the same order every run.
    await drain();
    if (this.error !== null) throw this.error;
  }

  private checkAllTables(): void {
    for (const [, table] of this.engine.allTables()) table.checkInvariants();
  }

  async run(savesTarget: number): Promise<SimResult> {
    let steps = 0;
    while (this.saveCounter < savesTarget) {
      await this.step(true);
      if (++steps % kCheckEverySteps === 0) this.checkAllTables();
    }
    // Finish every save in flight, with writes still arriving, then quiesce.
    for (let i = 0; this.inFlight.size > 0 || !this.pool.idle; i++) {
      if (i > kDrainStepsMax) fail('saves never finished: a task waits for a worker that never runs it');
      await this.step(this.rng.float() < 0.5);
    }
    for (let i = 0; i < 16; i++) await drain();
    this.checkAllTables();
    for (const [name, table] of this.engine.allTables()) {
      const stats = table.stats();
      if (stats.activeFrozenCount !== 0) fail(`${name} still holds ${stats.activeFrozenCount} generations after every save finished`);
      if (stats.cowBytesNow !== 0) fail(`${name} counts ${stats.cowBytesNow} copy-on-write bytes after every save finished`);
    }
    return this.result;
  }
}

function segmentDigests(frozen: FrozenTable): Digest[] {
  return frozen.segments.map((segment) => {
    const digest = emptyDigest();
    addSegment(digest, segment);
    return digest;
  });
}

/** Load every table of a save folder through the real decoder and adoptSegments; digest each. */
export function loadFolder(dir: string): Map<string, Digest> {
  const manifest = parseManifest(new FsSeam().readFile(join(dir, kManifestFileName)), join(dir, kManifestFileName));
  const out = new Map<string, Digest>();
  for (const space of manifest.keyspaces) {
    for (const entry of space.tables) {
      const table = new Table({ seed: entry.hashSeed });
      const parts = [];
      for (const file of entry.files) {
        const result = decodeTask({ kind: 'decode', dir, keyspace: space.name, table: entry.name, model: entry.model, hashSeed: entry.hashSeed, file, build: true, faults: null });
        if (!result.ok) fail(`${dir}: ${result.failure.message}`);
        parts.push(...result.segments);
      }
      if (parts.length > 0) table.adoptSegments(parts);
      table.checkInvariants();
      // Everything loaded counts: the save must hold only what was alive at its cut.
      const frozen = table.freeze(0);
      out.set(`${space.name}:${entry.name}`, mergeDigests(segmentDigests(frozen)));
      frozen.release();
    }
  }
  return out;
}
