/**
 * redis-benchmark through nutcracker against two frostkv shards (child processes, the CLI as
 * users start it): it completes without errors, its random keys (-r) reach both shards, and
 * every key it wrote reads back through the proxy. redis-benchmark's opening CONFIG GET is not
 * supported by twemproxy; redis-benchmark warns about it and goes on (as it does against
 * twemproxy in front of Redis). Skipped with a note when redis-benchmark or nutcracker is
 * missing, unless CI is set (then it fails).
 */

import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/server.js';
import { kNutcrackerBin, kNutcrackerSkip, poolYaml, startNutcracker, startShard, type Nutcracker, type ShardProcess } from '../support/nutcracker.js';
import { RawClient, show } from '../server/resp/raw.js';

const kInCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const kHasBenchmark = spawnSync('sh', ['-c', 'command -v redis-benchmark'], { stdio: 'ignore' }).status === 0;
const kSkip = kNutcrackerSkip || (!kHasBenchmark && !kInCi);
const kMissing = [kHasBenchmark ? null : 'redis-benchmark', kNutcrackerBin === null ? 'nutcracker' : null].filter((name) => name !== null);
const kNote = kSkip ? ` [SKIPPED: ${kMissing.join(' and ')} not installed]` : '';
if (kSkip) console.warn(`SKIPPED: ${kMissing.join(' and ')} not installed; install redis-tools and nutcracker to run the redis-benchmark-through-the-proxy test`);

const kKeyspace = 1000;
const kBenchmarkTimeoutMs = 30_000;

let shards: ShardProcess[] = [];
let proxy: Nutcracker;

beforeAll(async () => {
  if (kSkip) return;
  shards = await Promise.all([0, 1].map(() => startShard({ extraArgs: ['--nosave'] })));
  const listenPort = await freePort();
  const servers = shards.map((shard, index) => ({ host: '127.0.0.1', port: shard.respPort, name: `shard${index}` }));
  proxy = await startNutcracker(poolYaml({ servers, listenPort }), listenPort);
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await Promise.all(shards.map((shard) => shard.stop()));
});

function runBenchmark(args: string[]): Promise<{ code: number | null; output: string }> {
  if (!kHasBenchmark) throw new Error('redis-benchmark is not installed and CI is set: install redis-tools');
  return new Promise((resolve, reject) => {
    const child = spawn('redis-benchmark', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-benchmark did not finish within ${kBenchmarkTimeoutMs} ms:\n${output}`));
    }, kBenchmarkTimeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe.skipIf(kSkip)(`redis-benchmark through nutcracker${kNote}`, () => {
  it('-t set,get -n 2000 -c 10 -P 4 -r 1000 completes without errors and its keys reach both shards', async () => {
    const run = await runBenchmark(['-h', '127.0.0.1', '-p', String(proxy.port), '-t', 'set,get', '-n', '2000', '-c', '10', '-P', '4', '-r', String(kKeyspace), '-q']);
    expect(run.code, run.output).toBe(0);
    // The one warning allowed: twemproxy does not forward CONFIG.
    const rest = run.output.replace('WARNING: Could not fetch server CONFIG', '');
    expect(rest, run.output).not.toMatch(/ERR|error|WARN/i);
    const finals = run.output.split(/[\r\n]+/).map((line) => line.trim()).filter((line) => /^[A-Z]+: [\d.]+ requests per second/.test(line));
    expect(finals.map((line) => line.split(':')[0]).sort()).toEqual(['GET', 'SET']);
    for (const line of finals) expect(Number(/: ([\d.]+) requests/.exec(line)?.[1])).toBeGreaterThan(0);

    const sizes: number[] = [];
    for (const shard of shards) {
      const client = await RawClient.connect(shard.respPort);
      sizes.push(Number(show(await client.call('DBSIZE')).slice(1)));
      client.destroy();
    }
    for (const size of sizes) expect(size).toBeGreaterThan(0);
    expect(sizes[0]! + sizes[1]!).toBeLessThanOrEqual(kKeyspace);
    // Every key redis-benchmark wrote (key:%012d, a 3-byte value by default) reads back through the proxy.
    const client = await RawClient.connect(proxy.port);
    const keys = Array.from({ length: kKeyspace }, (_, i) => `key:${String(i).padStart(12, '0')}`);
    const reply = await client.call('MGET', ...keys);
    client.destroy();
    expect(reply.t).toBe('*');
    const present = (reply.v as Array<{ v: Buffer | null }>).filter((item) => item.v !== null);
    expect(present.length).toBe(sizes[0]! + sizes[1]!);
    for (const item of present) expect(item.v?.length).toBe(3);
  }, 45_000);
});
