/**
 * The kill -9 harness: a real compiled frostkv server, killed with SIGKILL at seeded random
 * moments while one sequential writer and every kind of save run against it, then restarted
 * and read back. test/persist/kill9.test.ts runs a CI-sized number of trials; bench/kill9.ts
 * runs thousands.
 *
 * The writes are a fixed log: op i is a pure function of (seed, i): a SET of `i:<padding>` or
 * a DEL, on default:default (over RESP or Skyhash) or app:t (over Skyhash); a third of the RESP
 * SETs carry an expiry time (PXAT, far in the future, so it is saved and loaded but never
 * fires); 15% are HSET / HDEL of one hash that grows past the small encoding into its own
 * collection table (its fields are digested as one table whatever holds them). The writer sends op
 * i only after op i-1 was acknowledged, so the database's state is always the state after
 * some prefix of the log, and every save folder must hold exactly state(p) for one p. After a
 * restart the writer continues from the p the server loaded (op p+1 is the same op as before:
 * writes lost with the process are simply made again).
 *
 * Per trial (chains of trials share one data directory, so crashes land on crash leftovers):
 *   1. start the server (`-S 1 --snapevery 1 --snapkeep 3`), make app:t if missing;
 *   2. run the writer, a second writer that rewrites app:noise with the values it holds
 *      (pipelined, so segments stay hot during every save), a SAVE / BGSAVE loop over RESP,
 *      and MKSNAP <name> / MKSNAP over Skyhash every ~60 ms, all at once; SIGKILL the server
 *      at a random moment;
 *   3. start it again (`--nosave`, so nothing changes while it is read) and check: it starts;
 *      data/ks verifies and holds state(p) with p at least the writes acknowledged before the
 *      last acknowledged SAVE (and at least what the previous restart loaded); the server
 *      serves the same counts and values; every folder in snaps/ and rsnap/ verifies and holds
 *      some state(p); every acknowledged MKSNAP <name> exists with p at least the writes
 *      acknowledged before it was sent; no temporary folder remains.
 * Failures are counted by kind, with the first few described.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { verifySave } from '../../src/persist/restore.js';
import { createWorkerPool, type WorkerPool } from '../../src/persist/worker-pool.js';
import { kManifestFileName } from '../../src/persist/format.js';
import { OpLog, kAppTable, kDefaultTable, kNoiseTable, mix, readFolder } from './kill9-log.js';
import { SkyClient, pipeline } from './skyhash.js';
import { freePort } from './ports.js';

export interface Kill9Options {
  trials: number;
  seed: number;
  /** Trials that share one data directory before a fresh one is used. */
  chainLength: number;
  /** The kill lands uniformly in [runMsMin, runMsMax) after the server is ready. */
  runMsMax: number;
  /**
   * Earliest kill (default 0). The smoke run sets it, so that its two trials give saves time to
   * finish: save workers run at SCHED_IDLE and, on a machine busy with other tests, an early
   * kill could otherwise come before any save and leave nothing to check.
   */
  runMsMin?: number;
  keySpace: number;
  /** Ops sent in pipelined batches on a fresh directory, before the sequential writer. */
  preloadOps: number;
  /**
   * Keys of app:noise: the log's first ops set them, then a second writer keeps rewriting them
   * with the same values in pipelines (kNoiseDepths). It changes no state (so every save must
   * still hold some state(p)) but keeps segments hot during every save, as a busy server's
   * writes do, which is what left saves torn (issue 8).
   */
  noiseKeys: number;
  workDir: string;
  /** The compiled CLI: dist/src/cli/main.js (or a build of it elsewhere in the repository). */
  serverEntry: string;
  log?: (line: string) => void;
}

export interface Kill9Report {
  trials: number;
  killsMidSave: number;
  restarts: number;
  writesAcked: number;
  savesAcked: number;
  namedSnapshotsAcked: number;
  foldersChecked: number;
  /** Folders holding the log's hash as a collection table (it outgrew the small encoding). */
  foldersWithCollections: number;
  /** Where the time went: starting servers, running until the kill, checking after it. */
  startSeconds: number;
  runSeconds: number;
  checkSeconds: number;
  failures: Record<string, number>;
  firstFailures: string[];
}

const kPreloadBatchOps = 500;
const kNamedEveryMs = 60;
const kReadyTimeoutMs = 30_000;
const kFirstFailuresMax = 10;
const kNamedKeptBetweenTrials = 2;
const kSampledGets = 20;
/** Pipeline depths of the noise writer, one per trial in turn: shallow ones tore saves most. */
const kNoiseDepths = [1, 2, 4, 8] as const;


interface Server {
  proc: ChildProcess;
  port: number;
  respPort: number;
  output(): string;
  exited: Promise<number | null>;
}

async function startServer(entry: string, dataDir: string, extra: string[]): Promise<Server> {
  const port = await freePort();
  const respPort = await freePort();
  const proc = spawn(process.execPath, [entry, 'serve', '--data-dir', dataDir, '--port', String(port), '--resp-port', String(respPort), '--noart', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  proc.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  proc.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code, signal) => {
      // A death by signal is reported with its name and the server's last lines, to be diagnosable.
      if (signal !== null) text += `\n[killed by ${signal}]`;
      resolve(code);
    }),
  );
  const server: Server = { proc, port, respPort, output: () => text, exited };
  const deadline = Date.now() + kReadyTimeoutMs;
  let gone = false;
  void exited.then(() => (gone = true));
  while (!/ready to accept connections/.test(text)) {
    if (gone) throw new Error(`the server exited while starting:\n${text.split('\n').slice(-6).join('\n')}`);
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`the server did not become ready:\n${text.split('\n').slice(-6).join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return server;
}

function resp(port: number): Redis {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, enableReadyCheck: false });
  // The kill resets every connection; the commands in flight reject, which is what we watch.
  client.on('error', () => undefined);
  return client;
}

/** Skyhash `!1\n0\n` and `:n` replies count as acknowledged. */
function skyOk(reply: string): boolean {
  return reply === '*1\n!1\n0\n' || /^\*1\n:\d+\n\d+\n$/.test(reply);
}

function leftovers(dataDir: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (/^\.(tmp|old-ks|del)-/.test(entry.name)) found.push(join(dir, entry.name));
      else if (depth > 0 && entry.isDirectory() && !existsSync(join(dir, entry.name, kManifestFileName))) walk(join(dir, entry.name), depth - 1);
    }
  };
  walk(dataDir, 0);
  walk(join(dataDir, 'snaps'), 0);
  walk(join(dataDir, 'rsnap'), 4);
  return found;
}

interface TrialState {
  /** What the last restart loaded (ks holds at least this from now on). */
  loaded: number;
  /** The most ops ever sent in this chain (no folder can hold more). */
  sentMax: number;
  sent: number;
  acked: number;
  ackedBeforeLastSave: number;
  named: Array<{ name: string; ackedAtSend: number; acked: boolean }>;
}

export class Kill9Harness {
  private readonly options: Kill9Options;
  private readonly report: Kill9Report;
  private log: OpLog;
  private namedCounter = 0;
  private pool: WorkerPool | null = null;

  constructor(options: Kill9Options) {
    this.options = options;
    this.log = new OpLog(options.seed, options.keySpace, options.preloadOps, options.noiseKeys);
    this.report = { trials: 0, killsMidSave: 0, restarts: 0, writesAcked: 0, savesAcked: 0, namedSnapshotsAcked: 0, foldersChecked: 0, foldersWithCollections: 0, startSeconds: 0, runSeconds: 0, checkSeconds: 0, failures: {}, firstFailures: [] };
  }

  private failure(kind: string, detail: string): void {
    this.report.failures[kind] = (this.report.failures[kind] ?? 0) + 1;
    if (this.report.firstFailures.length < kFirstFailuresMax) this.report.firstFailures.push(`trial ${this.report.trials}: ${kind}: ${detail}`);
    this.options.log?.(`FAILURE ${kind}: ${detail}`);
  }

  async run(): Promise<Kill9Report> {
    this.pool = createWorkerPool(2);
    try {
      return await this.trials();
    } finally {
      await this.pool.destroy();
      this.pool = null;
    }
  }

  private async trials(): Promise<Kill9Report> {
    let dataDir = '';
    let state: TrialState | null = null;
    let random = mix(this.options.seed ^ 0x6b39);
    const next = (): number => (random = mix(random + 0x9e3779b9));
    for (let trial = 0; trial < this.options.trials; trial++) {
      if (trial % this.options.chainLength === 0 || state === null) {
        if (dataDir !== '') rmSync(dataDir, { recursive: true, force: true });
        dataDir = mkdtempSync(join(this.options.workDir, 'kill9-'));
        state = { loaded: 0, sentMax: 0, sent: 0, acked: 0, ackedBeforeLastSave: 0, named: [] };
      }
      this.report.trials++;
      const runMsMin = this.options.runMsMin ?? 0;
      const killAfterMs = runMsMin + (next() % Math.max(1, this.options.runMsMax - runMsMin));
      const ok = await this.trial(dataDir, state, killAfterMs, trial);
      if (!ok) state = null;
      this.options.log?.(`trial ${trial}: kill after ${killAfterMs} ms, loaded ${state?.loaded ?? '-'}`);
    }
    if (dataDir !== '') rmSync(dataDir, { recursive: true, force: true });
    return this.report;
  }

  /** One trial; false when the chain cannot go on (the server would not start again). */
  private async trial(dataDir: string, state: TrialState, killAfterMs: number, trial: number): Promise<boolean> {
    let server: Server;
    const startedAt = performance.now();
    try {
      // One worker or two: with one, every task of a save runs after the previous one, the
      // interleaving that left saves torn most often.
      const workers = Math.floor(trial / kNoiseDepths.length) % 2 === 0 ? '1' : '2';
      server = await startServer(this.options.serverEntry, dataDir, ['-S', '1', '--snapevery', '1', '--snapkeep', '3', '--workers', workers]);
    } catch (error) {
      this.failure('server refused to start', (error as Error).message);
      return false;
    }
    const runAt = performance.now();
    this.report.startSeconds += (runAt - startedAt) / 1000;
    state.sent = state.loaded;
    state.acked = state.loaded;
    state.ackedBeforeLastSave = state.loaded;
    state.named = [];
    const killed = new Promise<void>((resolve) => setTimeout(resolve, killAfterMs));
    let stop = false;
    const clients: Array<{ close(): void }> = [];
    const work = this.drive(server, state, trial, () => stop, clients).catch(() => undefined);
    await killed;
    server.proc.kill('SIGKILL');
    await server.exited;
    stop = true;
    for (const client of clients) client.close();
    await work;
    state.sentMax = Math.max(state.sentMax, state.sent);
    if (leftovers(dataDir).length > 0) this.report.killsMidSave++;
    const checkAt = performance.now();
    this.report.runSeconds += (checkAt - runAt) / 1000;
    try {
      return await this.check(dataDir, state);
    } finally {
      this.report.checkSeconds += (performance.now() - checkAt) / 1000;
    }
  }

  private async drive(server: Server, state: TrialState, trial: number, stopped: () => boolean, clients: Array<{ close(): void }>): Promise<void> {
    const writerResp = resp(server.respPort);
    const saverResp = resp(server.respPort);
    clients.push({ close: () => writerResp.disconnect() }, { close: () => saverResp.disconnect() });
    await Promise.all([writerResp.connect(), saverResp.connect()]);
    const skyDefault = await SkyClient.connect(server.port);
    const skyApp = await SkyClient.connect(server.port);
    const skySaver = await SkyClient.connect(server.port);
    const skyNoise = await SkyClient.connect(server.port);
    const skyNoiseWriter = await SkyClient.connect(server.port);
    clients.push(skyDefault, skyApp, skySaver, skyNoise, skyNoiseWriter);
    await skyApp.run('CREATE', 'KEYSPACE', 'app');
    await skyApp.run('CREATE', 'TABLE', kAppTable, 'keymap(binstr,binstr)');
    await skyApp.run('CREATE', 'TABLE', kNoiseTable, 'keymap(binstr,binstr)');
    if (!skyOk(await skyApp.run('USE', kAppTable))) throw new Error('USE app:t failed');
    if (!skyOk(await skyNoise.run('USE', kNoiseTable))) throw new Error('USE app:noise failed');
    if (!skyOk(await skyNoiseWriter.run('USE', kNoiseTable))) throw new Error('USE app:noise failed');
    const noise = this.noiseWriter(state, skyNoiseWriter, kNoiseDepths[trial % kNoiseDepths.length] as number, stopped);
    const writer = this.writer(state, writerResp, skyDefault, skyApp, skyNoise, stopped);
    const saves = this.saver(state, saverResp, stopped);
    const named = this.namedSnapshots(state, skySaver, trial, stopped);
    await Promise.allSettled([writer, saves, named, noise]);
  }

  private async writer(state: TrialState, redis: Redis, skyDefault: SkyClient, skyApp: SkyClient, skyNoise: SkyClient, stopped: () => boolean): Promise<void> {
    while (!stopped() && state.sent < this.log.noise) {
      const from = state.sent + 1;
      const to = Math.min(this.log.noise, state.sent + kPreloadBatchOps);
      const queries: string[][] = [];
      for (let i = from; i <= to; i++) queries.push(['USET', `n${i}`, OpLog.noiseValue(i)]);
      state.sent = to;
      skyNoise.send(pipeline(...queries));
      const reply = (await skyNoise.response()).toString('latin1');
      if (reply !== `*${queries.length}\n${':1\n1\n'.repeat(queries.length)}`) return;
      state.acked = to;
      this.report.writesAcked += to - from + 1;
    }
    while (!stopped() && state.sent < this.log.noise + this.options.preloadOps) {
      const batch = redis.pipeline();
      const from = state.sent + 1;
      const to = Math.min(this.log.noise + this.options.preloadOps, state.sent + kPreloadBatchOps);
      for (let i = from; i <= to; i++) {
        const op = this.log.op(i);
        if (op.field !== undefined) batch.hset(op.key, op.field, op.value as string);
        else batch.set(op.key, op.value as string);
      }
      state.sent = to;
      const results = await batch.exec();
      if (results === null || results.some(([error]) => error !== null)) return;
      state.acked = to;
      this.report.writesAcked += to - from + 1;
    }
    while (!stopped()) {
      const i = state.sent + 1;
      const op = this.log.op(i);
      state.sent = i;
      let ok: boolean;
      if (op.field !== undefined) {
        ok = typeof (op.value === null ? await redis.hdel(op.key, op.field) : await redis.hset(op.key, op.field, op.value)) === 'number';
      } else if (op.overResp) {
        if (op.value === null) ok = typeof (await redis.del(op.key)) === 'number';
        else if (op.expiresAtMs !== 0) ok = (await redis.set(op.key, op.value, 'PXAT', op.expiresAtMs)) === 'OK';
        else ok = (await redis.set(op.key, op.value)) === 'OK';
      } else {
        const client = op.table === kAppTable ? skyApp : skyDefault;
        ok = skyOk(op.value === null ? await client.run('DEL', op.key) : await client.run('USET', op.key, op.value));
      }
      if (!ok) {
        this.failure('write refused', `op ${i} on ${op.table}`);
        return;
      }
      state.acked = i;
      this.report.writesAcked++;
    }
  }

  /** Rewrites app:noise with the values it already holds, in pipelines, once the log has set them. */
  private async noiseWriter(state: TrialState, sky: SkyClient, depth: number, stopped: () => boolean): Promise<void> {
    let random = mix(this.options.seed ^ state.sent);
    while (!stopped()) {
      if (state.acked < this.log.noise) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        continue;
      }
      const queries: string[][] = [];
      for (let q = 0; q < depth; q++) {
        random = mix(random + 0x9e3779b9);
        const r = 1 + (random % this.log.noise);
        queries.push(['USET', `n${r}`, OpLog.noiseValue(r)]);
      }
      sky.send(pipeline(...queries));
      const reply = (await sky.response()).toString('latin1');
      if (reply !== `*${depth}\n${':1\n1\n'.repeat(depth)}`) {
        this.failure('write refused', `noise pipeline answered ${JSON.stringify(reply.slice(0, 40))}`);
        return;
      }
    }
  }

  private async saver(state: TrialState, redis: Redis, stopped: () => boolean): Promise<void> {
    for (let n = 0; !stopped(); n++) {
      if (n % 4 === 3) {
        await redis.bgsave();
        await new Promise((resolve) => setTimeout(resolve, 30));
        continue;
      }
      const ackedAtSend = state.acked;
      const reply = await redis.save();
      if (reply !== 'OK') continue;
      state.ackedBeforeLastSave = Math.max(state.ackedBeforeLastSave, ackedAtSend);
      this.report.savesAcked++;
    }
  }

  private async namedSnapshots(state: TrialState, sky: SkyClient, trial: number, stopped: () => boolean): Promise<void> {
    for (let n = 0; !stopped(); n++) {
      await new Promise((resolve) => setTimeout(resolve, kNamedEveryMs));
      if (n % 5 === 4) {
        await sky.run('MKSNAP');
        continue;
      }
      const record = { name: `kill9/s${String(this.namedCounter++).padStart(7, '0')}-t${trial}`, ackedAtSend: state.acked, acked: false };
      state.named.push(record);
      const reply = await sky.run('MKSNAP', record.name);
      record.acked = reply === '*1\n!1\n0\n';
      if (record.acked) this.report.namedSnapshotsAcked++;
    }
  }

  /** Check a save folder: it verifies and holds state(p) for some p >= `atLeast`; returns p or -1. */
  private async checkFolder(dir: string, what: string, atLeast: number, sent: number): Promise<number> {
    this.report.foldersChecked++;
    // The real `snapshots verify` (parallel decode in worker threads, every table's coverage).
    const verdict = await verifySave(this.pool as WorkerPool, dir);
    if (verdict.problems.length > 0) {
      this.failure(`${what} does not verify`, `${dir}: ${verdict.problems[0]?.message ?? ''}`);
      return -1;
    }
    let content: ReturnType<typeof readFolder>;
    try {
      content = readFolder(dir);
    } catch (error) {
      this.failure(`${what} does not load`, `${dir}: ${(error as Error).message}`);
      return -1;
    }
    if (content.collections > 0) this.report.foldersWithCollections++;
    const p = this.log.prefixOf(content.digest, content.lastSet, Math.max(sent, content.lastSet));
    if (p < 0) {
      this.failure(`${what} is not a prefix of the writes`, `${dir}: ${content.digest.count} records, last op ${content.lastSet}`);
      return -1;
    }
    if (p < atLeast) this.failure(`${what} misses acknowledged writes`, `${dir}: holds writes up to ${p}, ${atLeast} were acknowledged before it`);
    return p;
  }

  private async check(dataDir: string, state: TrialState): Promise<boolean> {
    let server: Server;
    try {
      server = await startServer(this.options.serverEntry, dataDir, ['--nosave', '--workers', '2']);
    } catch (error) {
      this.failure('restart refused', (error as Error).message);
      return false;
    }
    this.report.restarts++;
    try {
      const live = join(dataDir, 'ks');
      let loaded = 0;
      if (existsSync(live)) {
        loaded = await this.checkFolder(live, 'data/ks', Math.max(state.loaded, state.ackedBeforeLastSave), state.sentMax);
        if (loaded < 0) return false;
        await this.checkServed(server, readFolder(live));
      } else if (state.ackedBeforeLastSave > 0 || state.loaded > 0) {
        this.failure('data/ks missing', `after ${state.ackedBeforeLastSave} writes were acknowledged by a SAVE`);
        return false;
      }
      await this.checkSnapshots(dataDir, state);
      const left = leftovers(dataDir);
      if (left.length > 0) this.failure('temporary folders left after restart', left.join(', '));
      state.loaded = loaded;
      return true;
    } finally {
      server.proc.kill('SIGTERM');
      const code = await server.exited;
      if (code !== 0) this.failure('shutdown after the check', `exit code ${String(code)}: ${server.output().split('\n').slice(-8).join(' | ')}`);
    }
  }

  /** The restarted server serves what data/ks holds (counts of both tables and sampled values). */
  private async checkServed(server: Server, content: ReturnType<typeof readFolder>): Promise<void> {
    const redis = resp(server.respPort);
    const sky = await SkyClient.connect(server.port);
    try {
      await redis.connect();
      const size = await redis.dbsize();
      if (size !== (content.counts.get(kDefaultTable) ?? 0)) this.failure('served data differs from data/ks', `DBSIZE ${size}, ks holds ${content.counts.get(kDefaultTable) ?? 0}`);
      const appCount = content.counts.get(kAppTable) ?? 0;
      if (content.counts.has(kAppTable)) {
        const reply = await sky.run('DBSIZE', kAppTable);
        if (reply !== `*1\n:${String(appCount).length}\n${appCount}\n`) this.failure('served data differs from data/ks', `DBSIZE app:t answered ${JSON.stringify(reply)}, ks holds ${appCount}`);
      }
      let sampled = 0;
      for (const [id, value] of content.values) {
        const [table, key] = id.split('\n') as [string, string];
        if (table !== kDefaultTable || sampled++ >= kSampledGets) continue;
        const got = await redis.get(key);
        if (got !== value) this.failure('served data differs from data/ks', `GET ${key} answered ${String(got).slice(0, 20)}, ks holds ${value.slice(0, 20)}`);
      }
    } finally {
      redis.disconnect();
      sky.close();
    }
  }

  private async checkSnapshots(dataDir: string, state: TrialState): Promise<void> {
    const snaps = join(dataDir, 'snaps');
    if (existsSync(snaps)) {
      for (const name of readdirSync(snaps)) {
        if (/^\d{8}-\d{6}$/.test(name)) await this.checkFolder(join(snaps, name), 'local snapshot', 0, state.sentMax);
      }
    }
    const named = join(dataDir, 'rsnap', 'kill9');
    const present = existsSync(named) ? readdirSync(named).filter((name) => !name.startsWith('.')) : [];
    for (const name of present) {
      const record = state.named.find((candidate) => candidate.name === `kill9/${name}`);
      await this.checkFolder(join(named, name), 'named snapshot', record?.acked === true ? record.ackedAtSend : 0, state.sentMax);
    }
    for (const record of state.named) {
      if (record.acked && !present.includes(record.name.slice('kill9/'.length))) this.failure('acknowledged named snapshot missing', record.name);
    }
    // Keep the folder count bounded; the newest stay to be checked again after the next kill.
    const sorted = present.sort();
    for (const name of sorted.slice(0, Math.max(0, sorted.length - kNamedKeptBetweenTrials))) rmSync(join(named, name), { recursive: true, force: true });
  }
}
