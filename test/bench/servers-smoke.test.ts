/**
 * The network benches' smoke modes (bench/skyhash.ts, bench/vs-redis.ts, bench/tls.ts), run as real child
 * processes so they cannot rot: exit code 0, every stdout line one JSON object whose numbers are
 * all finite, the expected scenarios present, and no reply errors. No timing is asserted
 * (the goals in bench/RESULTS.md: targets are measured by bench scripts, never by timed tests).
 */

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsxLoader = import.meta.resolve('tsx');
/** Each smoke run takes seconds; this bounds a hung one inside the test timeout. */
const kBenchTimeoutMs = 60_000;

type Line = Record<string, unknown>;

interface Run {
  code: number | null;
  lines: Line[];
  stderr: string;
}

function runBench(file: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, `bench/${file}`, '--smoke'], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    // The test's own timeout does not kill children: a hung bench must not outlive the test.
    const killer = setTimeout(() => child.kill('SIGKILL'), kBenchTimeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      const lines: Line[] = [];
      for (const text of stdout.split('\n')) {
        if (text.length === 0) continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          return reject(new Error(`stdout line is not JSON: ${text}\nstderr:\n${stderr}`));
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return reject(new Error(`stdout line is not a JSON object: ${text}`));
        lines.push(parsed as Line);
      }
      resolve({ code, lines, stderr });
    });
  });
}

/** Every number anywhere in the value (arrays included) is finite, and nothing is null. */
function expectFinite(value: unknown, path: string): void {
  expect(value, `${path} is null`).not.toBeNull();
  if (typeof value === 'number') expect(Number.isFinite(value), `${path} = ${value}`).toBe(true);
  else if (Array.isArray(value)) value.forEach((item, index) => expectFinite(item, `${path}[${index}]`));
  else if (typeof value === 'object' && value !== null) for (const [key, item] of Object.entries(value)) expectFinite(item, `${path}.${key}`);
}

function expectPositive(line: Line, keys: readonly string[]): void {
  for (const key of keys) {
    expect(typeof line[key], `${String(line.scenario)}.${key} missing`).toBe('number');
    expect(line[key] as number, `${String(line.scenario)}.${key}`).toBeGreaterThan(0);
  }
}

function checkLines(run: Run, bench: string): void {
  expect(run.code, run.stderr).toBe(0);
  expect(run.lines.length).toBeGreaterThan(0);
  for (const line of run.lines) {
    expect(line.bench).toBe(bench);
    expectFinite(line, String(line.scenario));
  }
}

const saveScenarios = [
  'bgsave-idle',
  'bulk-load',
  'cut-pause',
  'memory-during-save',
  'mksnap',
  'save-sync',
  'write-p99-back-to-back',
  'write-p99-single-save',
  'write-throughput-back-to-back',
  'write-throughput-single-save',
];

describe('network bench smoke modes', () => {
  it('skyhash.ts --smoke runs SET/UPDATE/GET unpipelined and pipelined with every reply as expected (server from src/ through tsx)', async () => {
    const run = await runBench('skyhash.ts', { FROSTKV_BENCH_ENTRY: 'tsx' });
    checkLines(run, 'skyhash');
    const env = run.lines.find((line) => line.scenario === 'env') as Line;
    expect(env.server).toBe('started (src/ through tsx)');
    for (const action of ['set', 'update', 'get']) {
      const lines = run.lines.filter((line) => line.scenario === action);
      expect(lines.map((line) => line.pipeline).sort((a, b) => Number(a) - Number(b))).toEqual([1, 16]);
      for (const line of lines) {
        expect(line.errors, `${action} P=${String(line.pipeline)}`).toBe(0);
        expectPositive(line, ['opsPerSec', 'p50Ms', 'p99Ms', 'maxMs', 'ops']);
      }
    }
  }, 90_000);

  it('vs-redis.ts --smoke measures both servers side by side when Redis is installed', async () => {
    const run = await runBench('vs-redis.ts');
    checkLines(run, 'vs-redis');
    const peer = run.lines.find((line) => line.scenario === 'peer') as Line;
    expect(['installed', 'not installed']).toContain(peer.status);
    const names = new Set(run.lines.map((line) => String(line.scenario)));
    for (const name of saveScenarios) expect(names.has(name), name).toBe(true);
    expectPositive(run.lines.find((line) => line.scenario === 'bgsave-idle') as Line, ['frostkvDurationMs', 'frostkvSaveBytes']);
    expectPositive(run.lines.find((line) => line.scenario === 'write-p99-back-to-back') as Line, ['frostkvIdleP99Ms', 'frostkvSavingP99Ms', 'frostkvSavesPerWindow']);
    if (peer.status === 'installed') {
      for (const name of saveScenarios) {
        const line = run.lines.find((l) => l.scenario === name) as Line;
        expect(typeof line.ratio, `${name}.ratio`).toBe('number');
      }
      expectPositive(run.lines.find((line) => line.scenario === 'bgsave-idle') as Line, ['redisDurationMs', 'redisDumpBytes', 'ratio']);
      if (peer.redisBenchmark === true) {
        const bench = run.lines.filter((line) => line.scenario === 'redis-benchmark');
        // SET GET INCR HSET MSET and the custom SET ... EX, each at -P 1 and -P 16.
        expect(bench).toHaveLength(12);
        expect(new Set(bench.map((line) => line.command))).toEqual(new Set(['SET', 'GET', 'INCR', 'HSET', 'MSET (10 keys)', 'SET EX 100']));
        for (const line of bench) expectPositive(line, ['frostkvRps', 'redisRps', 'ratio', 'frostkvP99Ms', 'redisP99Ms']);
      }
    }
  }, 90_000);

  it('tls.ts --smoke measures TLS against plain for Skyhash and RESP, and Redis over TLS when installed', async () => {
    const run = await runBench('tls.ts', { FROSTKV_BENCH_ENTRY: 'tsx' });
    checkLines(run, 'tls');
    const names = run.lines.map((line) => String(line.scenario));
    for (const name of ['frostkv-skyhash-plain', 'frostkv-skyhash-tls', 'frostkv-resp-plain', 'frostkv-resp-tls']) expect(names, name).toContain(name);
    for (const line of run.lines.filter((l) => l.scenario !== 'peer')) expectPositive(line, ['opsPerSec']);
    const peer = run.lines.find((line) => line.scenario === 'peer') as Line;
    if (peer.status === 'installed') expect(names).toEqual(expect.arrayContaining(['redis-resp-plain', 'redis-resp-tls']));
    expect(typeof (run.lines.find((line) => line.scenario === 'frostkv-resp-tls') as Line).costVsPlainPct).toBe('number');
  }, 90_000);

  it('vs-redis.ts --smoke still runs, and says so, when Redis is not installed', async () => {
    const run = await runBench('vs-redis.ts', { REDIS_SERVER_BIN: '/nonexistent/redis-server', REDIS_BENCHMARK_BIN: '/nonexistent/redis-benchmark' });
    checkLines(run, 'vs-redis');
    expect(run.lines.find((line) => line.scenario === 'peer')).toMatchObject({ peer: 'redis', status: 'not installed' });
    const names = new Set(run.lines.map((line) => String(line.scenario)));
    for (const name of saveScenarios) expect(names.has(name), name).toBe(true);
    for (const line of run.lines.filter((l) => l.scenario !== 'peer')) {
      for (const key of Object.keys(line)) expect(key.startsWith('redis') || key === 'ratio', `${String(line.scenario)}.${key}`).toBe(false);
    }
  }, 90_000);
});
