/**
 * bench/scale-out.ts --smoke, run as a real child process so it cannot rot: exit code 0, every
 * stdout line one JSON object with finite numbers, a throughput line for every system x shard
 * count x command (and the direct baselines), a summary per shard count and command with Redis's
 * figures and the ratio when Redis is installed, and without them when it is not. No timing is
 * asserted. Skipped with a note when nutcracker or redis-benchmark is missing, unless CI is set.
 */

import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { kNutcrackerBin } from '../support/nutcracker.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsxLoader = import.meta.resolve('tsx');
const kBenchTimeoutMs = 60_000;
const kInCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const kHasBenchmark = spawnSync('sh', ['-c', 'command -v redis-benchmark'], { stdio: 'ignore' }).status === 0;
const kMissing = [kNutcrackerBin === null ? 'nutcracker' : null, kHasBenchmark ? null : 'redis-benchmark'].filter((name) => name !== null);
const kSkip = kMissing.length > 0 && !kInCi;
const kNote = kSkip ? ` [SKIPPED: ${kMissing.join(' and ')} not installed]` : '';

type Line = Record<string, unknown>;

function runBench(env: Record<string, string> = {}, extraArgs: string[] = []): Promise<{ code: number | null; lines: Line[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, 'bench/scale-out.ts', '--smoke', ...extraArgs], {
      cwd: root,
      env: { ...process.env, ...(kNutcrackerBin === null ? {} : { NUTCRACKER_BIN: kNutcrackerBin }), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const killer = setTimeout(() => child.kill('SIGKILL'), kBenchTimeoutMs);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      try {
        const lines = stdout.split('\n').filter((text) => text.length > 0).map((text) => JSON.parse(text) as Line);
        resolve({ code, lines, stderr });
      } catch (error) {
        reject(new Error(`stdout is not JSON lines: ${(error as Error).message}\n${stdout}\n${stderr}`));
      }
    });
  });
}

function expectFinite(line: Line): void {
  for (const [key, value] of Object.entries(line)) {
    expect(value, `${String(line.scenario)}.${key}`).not.toBeNull();
    if (typeof value === 'number') expect(Number.isFinite(value), `${String(line.scenario)}.${key}`).toBe(true);
  }
}

const kShardings = ['direct', 1, 2, 3];

describe.skipIf(kSkip)(`bench/scale-out.ts --smoke${kNote}`, () => {
  it('measures frostkv and Redis through nutcracker at 1, 2 and 3 shards, and direct', async () => {
    const run = await runBench();
    expect(run.code, run.stderr).toBe(0);
    for (const line of run.lines) {
      expect(line.bench).toBe('scale-out');
      expectFinite(line);
    }
    expect(run.lines.find((line) => line.scenario === 'env')).toMatchObject({ nutcracker: '0.5.0', rounds: 1 });
    const peer = run.lines.find((line) => line.scenario === 'peer') as Line;
    const systems = peer.status === 'installed' ? ['frostkv', 'redis'] : ['frostkv'];
    const throughput = run.lines.filter((line) => line.scenario === 'throughput');
    expect(throughput).toHaveLength(systems.length * kShardings.length * 2);
    for (const system of systems) {
      for (const shards of kShardings) {
        for (const command of ['SET', 'GET']) {
          const line = throughput.find((l) => l.system === system && l.shards === shards && l.command === command);
          expect(line, `${system} ${String(shards)} ${command}`).toBeDefined();
          for (const key of ['rps', 'p50Ms', 'p99Ms']) expect((line as Line)[key] as number, `${system} ${String(shards)} ${command} ${key}`).toBeGreaterThan(0);
        }
      }
    }
    const summary = run.lines.filter((line) => line.scenario === 'summary');
    expect(summary).toHaveLength(kShardings.length * 2);
    for (const line of summary) {
      expect(line.frostkvRps as number).toBeGreaterThan(0);
      if (peer.status === 'installed') expect(line.ratio as number).toBeGreaterThan(0);
    }
  }, 90_000);

  it('still runs, frostkv alone and saying so, when redis-server is not installed', async () => {
    // One shard count only (--shards 1) keeps this run short.
    const run = await runBench({ REDIS_SERVER_BIN: '/nonexistent/redis-server' }, ['--shards', '1']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.lines.find((line) => line.scenario === 'peer')).toMatchObject({ peer: 'redis', status: 'not installed' });
    const throughput = run.lines.filter((line) => line.scenario === 'throughput');
    expect(new Set(throughput.map((line) => line.system))).toEqual(new Set(['frostkv']));
    expect(throughput.map((line) => `${String(line.shards)} ${String(line.command)}`).sort()).toEqual(['1 GET', '1 SET', 'direct GET', 'direct SET']);
    for (const line of run.lines.filter((l) => l.scenario === 'summary')) {
      expect(Object.keys(line).some((key) => key.startsWith('redis') || key === 'ratio'), JSON.stringify(line)).toBe(false);
    }
  }, 90_000);
});
