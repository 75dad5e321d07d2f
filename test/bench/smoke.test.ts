/**
 * The benches' smoke modes, run as real child processes so the bench scripts cannot rot:
 * exit code 0, every stdout line is one JSON object with the expected scenario names, every
 * number finite, and the headline figures positive. No timing is asserted here (the goals in
 * bench/RESULTS.md are measured by bench scripts, never by timed tests).
 */

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsxLoader = import.meta.resolve('tsx');
/** Each smoke run takes a few seconds; this bounds a hung one well inside the test timeout. */
const kBenchTimeoutMs = 50_000;
/** collections.ts --smoke starts two servers beside the embedded runs: up to ~40 s on a busy machine. */
const kCollectionsTimeoutMs = 80_000;

interface Run {
  code: number | null;
  lines: Array<Record<string, unknown>>;
  stdout: string;
  stderr: string;
}

function runBench(file: string, args: string[], env: Record<string, string> = {}, timeoutMs = kBenchTimeoutMs): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, `bench/${file}`, '--smoke', ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    // A hung bench must not outlive the test (the test's own timeout does not kill children).
    const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      const lines = stdout
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => {
          try {
            return JSON.parse(line) as Record<string, unknown>;
          } catch {
            throw new Error(`stdout line is not JSON: ${line}\nstderr:\n${stderr}`);
          }
        });
      resolve({ code, lines, stdout, stderr });
    });
  });
}

/** Every number anywhere in the line is finite (emit() refuses NaN/Infinity; JSON turns them into null). */
function expectFiniteNumbers(line: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(line)) {
    expect(value, `${String(line.scenario)}.${key} is null`).not.toBeNull();
    if (typeof value === 'number') expect(Number.isFinite(value), `${String(line.scenario)}.${key}`).toBe(true);
  }
}

function expectPositive(line: Record<string, unknown>, keys: readonly string[]): void {
  for (const key of keys) {
    const value = line[key];
    expect(typeof value, `${String(line.scenario)}.${key} missing`).toBe('number');
    expect(value as number, `${String(line.scenario)}.${key}`).toBeGreaterThan(0);
  }
}

function scenarios(run: Run): Set<string> {
  return new Set(run.lines.map((line) => String(line.scenario)));
}

describe('bench smoke modes', () => {
  it('embedded.ts --smoke prints one JSON line per scenario with finite, positive figures', async () => {
    const run = await runBench('embedded.ts', []);
    expect(run.code, run.stderr).toBe(0);
    for (const line of run.lines) {
      expect(line.bench).toBe('embedded');
      expectFiniteNumbers(line);
    }
    expect([...scenarios(run)].sort()).toEqual(['cow', 'delete', 'env', 'freeze', 'get', 'insert', 'memory', 'update']);
    for (const op of ['insert', 'update', 'get', 'delete']) {
      const lines = run.lines.filter((line) => line.scenario === op);
      // string and Buffer keys, each for the handle and the raw table
      expect(lines).toHaveLength(4);
      for (const line of lines) expectPositive(line, ['keys', 'opsPerSec', 'mapOpsPerSec', 'ratio']);
    }
    const freezes = run.lines.filter((line) => line.scenario === 'freeze');
    expect(freezes.map((line) => line.subject).sort()).toEqual(['frostkv-engine', 'frostkv-engine', 'frostkv-table', 'frostkv-table']);
    for (const line of freezes) expectPositive(line, ['cuts', 'segmentCount', 'pauseMsMedian', 'pauseMsMax', 'releaseMsMedian']);
    for (const line of run.lines.filter((l) => l.scenario === 'cow')) {
      expectPositive(line, ['copies', 'normalWriteUsMedian', 'firstWriteCopyUsMedian', 'cowBytesPerCopiedSegment']);
    }
    const memory = run.lines.filter((line) => line.scenario === 'memory');
    expect(memory.map((line) => line.keyKind).sort()).toEqual(['buffer', 'string']);
    for (const line of memory) expectPositive(line, ['keys', 'dataBytesPerKey', 'mapHeapUsedBytesPerKey', 'arrayBuffersBytesPerKey']);
  }, 60_000);

  const snapshotScenarios = [
    'bulk-load',
    'cut-pause',
    'env',
    'event-loop-delay',
    'memory-under-save',
    'peer',
    'save-live',
    'snapshot-named',
    'startup',
    'write-under-save',
  ];

  function checkSnapshotRun(run: Run): Record<string, unknown> {
    expect(run.code, run.stderr).toBe(0);
    for (const line of run.lines) {
      expect(line.bench).toBe('snapshot');
      expectFiniteNumbers(line);
    }
    expect([...scenarios(run)].sort()).toEqual(snapshotScenarios);
    const one = (name: string): Record<string, unknown> => {
      const lines = run.lines.filter((line) => line.scenario === name);
      expect(lines, name).toHaveLength(1);
      return lines[0] as Record<string, unknown>;
    };
    expectPositive(one('bulk-load'), ['keys', 'opsPerSec', 'dataBytes']);
    for (const name of ['snapshot-named', 'save-live']) expectPositive(one(name), ['durationMs', 'sizeBytes', 'mbPerSec', 'cutPauseMs']);
    expectPositive(one('save-live'), ['startStallMs']);
    expectPositive(one('cut-pause'), ['cuts', 'cutPauseMsMedian', 'cutPauseMsMax']);
    expectPositive(one('write-under-save'), ['idleSetsPerSec', 'savingSetsPerSec', 'idleSetLatencyUsP99', 'savingSetLatencyUsP99', 'savesPerWindow']);
    expectPositive(one('memory-under-save'), ['dataBytes']);
    expectPositive(one('startup'), ['openMs', 'openEmptyDirMs', 'sizeBytes']);
    return one('peer');
  }

  it('snapshot.ts --smoke runs and, when Redis is installed, measures it side by side', async () => {
    const run = await runBench('snapshot.ts', []);
    const peer = checkSnapshotRun(run);
    expect(['installed', 'not installed']).toContain(peer.status);
    if (peer.status === 'installed') {
      const line = (name: string) => run.lines.find((l) => l.scenario === name) as Record<string, unknown>;
      expectPositive(line('save-live'), ['redisDurationMs', 'redisDumpBytes', 'ratio']);
      expectPositive(line('startup'), ['redisReadyMs', 'ratio']);
      expectPositive(line('cut-pause'), ['redisForkMsMedian']);
      if (peer.redisBenchmark === true) expectPositive(line('write-under-save'), ['redisIdleRps', 'redisSavingRps', 'redisIdleP99Ms']);
    }
  }, 60_000);

  it('snapshot.ts --smoke says so clearly when Redis is not installed', async () => {
    const run = await runBench('snapshot.ts', [], { REDIS_SERVER_BIN: '/nonexistent/redis-server', REDIS_BENCHMARK_BIN: '/nonexistent/redis-benchmark' });
    const peer = checkSnapshotRun(run);
    expect(peer).toMatchObject({ peer: 'redis', status: 'not installed' });
    for (const line of run.lines) {
      for (const key of Object.keys(line)) expect(key.startsWith('redis'), `${String(line.scenario)}.${key}`).toBe(false);
    }
  }, 60_000);

  const collectionScenarios = ['env', 'expiry-burst', 'expiry-burst-resp', 'hash-load', 'hash-save', 'hash-save-resp', 'peer'];

  /** Like expectFiniteNumbers, but `peer` may be null: these scenarios name a missing peer that way, with a reason. */
  function checkCollectionLine(line: Record<string, unknown>): void {
    expect(line.bench).toBe('collections');
    for (const [key, value] of Object.entries(line)) {
      if (key === 'peer' && value === null) {
        expect(typeof line.peerReason, `${String(line.scenario)}.peerReason`).toBe('string');
        continue;
      }
      expect(value, `${String(line.scenario)}.${key} is null`).not.toBeNull();
      if (typeof value === 'number') expect(Number.isFinite(value), `${String(line.scenario)}.${key}`).toBe(true);
    }
  }

  function checkCollectionsEmbedded(run: Run): (name: string) => Record<string, unknown> {
    expect(run.code, run.stderr).toBe(0);
    for (const line of run.lines) checkCollectionLine(line);
    expect([...scenarios(run)].sort()).toEqual(collectionScenarios);
    const one = (name: string): Record<string, unknown> => run.lines.find((line) => line.scenario === name) as Record<string, unknown>;
    const hash = one('hash-save');
    expect(hash).toMatchObject({ fields: 20_000, peer: null });
    expectPositive(hash, ['hashBytes', 'idleHsetsPerSec', 'savingHsetsPerSec', 'idleBatchMsP99', 'savingBatchMsP99', 'saves', 'saveMsMedian', 'cowBytesPeak']);
    const burst = one('expiry-burst');
    expect(burst).toMatchObject({ expiringKeys: 20_000, peer: null });
    expectPositive(burst, ['idleSetsPerSec', 'burstSetsPerSec', 'expiredBySweep', 'sweepSlices', 'sweepSliceMsP50']);
    // Every expiring key is gone by the end of the window (lazily or by the sweep).
    expect(burst.removedShare).toBe(1);
    return one;
  }

  it('collections.ts --smoke saves a large hash under HSET load and expires a burst of keys, beside Redis when installed', async () => {
    const run = await runBench('collections.ts', [], { FROSTKV_BENCH_ENTRY: 'tsx' }, kCollectionsTimeoutMs);
    const one = checkCollectionsEmbedded(run);
    const peer = one('peer');
    if (peer.status !== 'installed' || peer.redisBenchmark !== true) return;
    const hash = one('hash-save-resp');
    expect(hash.peer).toBe('redis');
    expectPositive(hash, ['frostkvIdleRps', 'frostkvSavingRps', 'frostkvBgsaveIdleMs', 'redisIdleRps', 'redisSavingRps', 'redisBgsaveIdleMs', 'bgsaveRatio', 'savingP99Ratio']);
    const burst = one('expiry-burst-resp');
    expectPositive(burst, ['frostkvIdleRps', 'frostkvBurstRps', 'redisIdleRps', 'redisBurstRps', 'burstP99Ratio']);
    expect(burst.frostkvRemovedShare).toBe(1);
    expect(burst.redisRemovedShare).toBe(1);
    expect(run.lines.filter((line) => line.scenario === 'hash-load').map((line) => line.system).sort()).toEqual(['frostkv', 'frostkv-embedded', 'redis']);
  }, 90_000);

  it('collections.ts --smoke says peer: null with the reason when Redis and redis-benchmark are missing', async () => {
    const run = await runBench('collections.ts', [], { REDIS_SERVER_BIN: '/nonexistent/redis-server', REDIS_BENCHMARK_BIN: '/nonexistent/redis-benchmark' });
    const one = checkCollectionsEmbedded(run);
    expect(one('peer')).toMatchObject({ peer: 'redis', status: 'not installed' });
    for (const name of ['hash-save-resp', 'expiry-burst-resp']) expect(one(name)).toMatchObject({ peer: null, measured: false });
    for (const line of run.lines) {
      for (const key of Object.keys(line)) expect(key.startsWith('redis'), `${String(line.scenario)}.${key}`).toBe(key === 'redisBenchmark');
    }
  }, 60_000);

  it('kill9.ts --smoke builds the server, runs two kill -9 trials and prints their counts', async () => {
    const run = await runBench('kill9.ts', []);
    expect(run.code, run.stderr).toBe(0);
    expect(run.lines).toHaveLength(1);
    const line = run.lines[0] as Record<string, unknown>;
    expect(line).toMatchObject({ bench: 'kill9', scenario: 'smoke', trials: 2, restarts: 2, failuresTotal: 0 });
    expectFiniteNumbers(line);
    expectPositive(line, ['writesAcked', 'foldersChecked', 'durationSeconds']);
  }, 60_000);
});
