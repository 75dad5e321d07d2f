/**
 * Skyhash load bench, in the spirit of Skytable's sky-bench: C connections drive SET, UPDATE
 * and GET on unique keys against a frostkv server, unpipelined (`*1` requests) and pipelined
 * (`*D` requests of D queries), checking every reply byte for byte.
 *
 *   node --import tsx bench/skyhash.ts                   # N = 1M ops per action, 3 rounds
 *   node --import tsx bench/skyhash.ts --smoke           # tiny N, one round, seconds
 *   options: --port P (use a running server on 127.0.0.1:P instead of starting one; never
 *            flushed), -c/--connections C (50), -d/--value-bytes D (64), -n/--ops N,
 *            --pipeline D (16), --rounds R (3), --periodic-save (keep the default 120 s
 *            BGSAVE of the started server; off by default, like Redis under --save "")
 *
 * Scenarios (one JSON line each on stdout; notes on stderr):
 *   env               machine, commit, how the server was started
 *   set/update/get    per action and pipeline depth: opsPerSec (median of rounds), latency
 *                     p50Ms/p99Ms (medians of the rounds' percentiles) and maxMs (max over
 *                     rounds) per request, or per pipeline when pipeline > 1; errors (replies
 *                     that were not exactly the expected bytes, all rounds); CPU used by the
 *                     server and by this load generator during the action
 *
 * Keys are `<prefix>` + 12 digits, unique per round and depth (SET never overwrites in Skyhash,
 * so every SET must answer 0). UPDATE rewrites every key SET wrote; GET then must return the
 * updated value, which embeds the key's digits. A short unmeasured warm-up runs first.
 * The load generator is one Node thread; on this 2-core machine it shares the CPU with the
 * server (see the cpu fields).
 */

import { emit, machineFacts, maxOf, median, modeOf, note, typedPercentile, argValue } from './support.js';
import { FrostServerProcess, frostEntry } from './net-frostkv.js';
import { processCpuMs } from './net-proc.js';
import { runWorkload, skyQuery, skyRoundTrip, type RunResult, type SkyAction } from './net-skyhash.js';

const kBench = 'skyhash';
const kActions: readonly SkyAction[] = ['set', 'update', 'get'];

function numberArg(argv: readonly string[], names: readonly string[], fallback: number): number {
  for (const name of names) {
    const raw = argValue(argv, name);
    if (raw === undefined) continue;
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${raw}`);
    return value;
  }
  return fallback;
}

interface Measured {
  result: RunResult;
  serverCpuMs: number | null;
  clientCpuMs: number;
}

async function measure(serverPid: number | null, run: () => Promise<RunResult>): Promise<Measured> {
  const serverBefore = serverPid === null ? null : processCpuMs(serverPid);
  const clientBefore = process.cpuUsage();
  const result = await run();
  const client = process.cpuUsage(clientBefore);
  const serverAfter = serverPid === null ? null : processCpuMs(serverPid);
  return {
    result,
    serverCpuMs: serverBefore === null || serverAfter === null ? null : serverAfter - serverBefore,
    clientCpuMs: (client.user + client.system) / 1000,
  };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const mode = modeOf(argv);
  const smoke = mode === 'smoke';
  const connections = numberArg(argv, ['-c', '--connections'], 50);
  const valueBytes = numberArg(argv, ['-d', '--value-bytes'], 64);
  const depth = numberArg(argv, ['--pipeline'], 16);
  const ops = numberArg(argv, ['-n', '--ops'], smoke ? 4000 : 1_000_000);
  const rounds = numberArg(argv, ['--rounds'], smoke ? 1 : 3);
  const givenPort = argValue(argv, '--port');
  const depths = depth === 1 ? [1] : [1, depth];
  // A tag unique to this run so a reused server never holds our keys already.
  const tag = `${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;

  let server: FrostServerProcess | null = null;
  let port: number;
  if (givenPort === undefined) {
    server = await FrostServerProcess.start({ resp: false, periodicSave: argv.includes('--periodic-save') });
    port = server.skyhashPort;
  } else {
    port = Number(givenPort);
    if (!Number.isInteger(port) || port <= 0) throw new Error(`--port must be a port number, got ${givenPort}`);
  }
  const facts = machineFacts();
  emit(kBench, 'env', {
    ...facts,
    server: server === null ? `running on 127.0.0.1:${port}` : `started (${server.entry === 'dist' ? 'compiled dist/' : 'src/ through tsx'})`,
    buildStale: server === null ? false : frostEntry().stale,
    periodicSave: server === null ? 'unknown' : argv.includes('--periodic-save'),
    connections,
    valueBytes,
    opsPerAction: ops,
    pipeline: depth,
    rounds,
  });

  try {
    // Which type symbol GET replies carry depends on the table's value type.
    const probeKey = `probe${tag}`;
    await skyRoundTrip(port, skyQuery('SET', probeKey, 'x'));
    const probe = (await skyRoundTrip(port, skyQuery('GET', probeKey))).toString('latin1');
    const valueSymbol = probe.startsWith('*1\n+') ? '+' : '?';
    if (!probe.startsWith(`*1\n${valueSymbol}1\nx\n`)) throw new Error(`GET of a probe key answered ${JSON.stringify(probe)}`);
    await skyRoundTrip(port, skyQuery('DEL', probeKey));

    const runAll = async (prefix: string, n: number, d: number, record: ((action: SkyAction, m: Measured) => void) | null): Promise<void> => {
      const batches = Math.floor(n / d);
      for (const action of kActions) {
        const m = await measure(server?.pid ?? null, () =>
          runWorkload(port, { action, depth: d, keyPrefix: prefix, valueBytes, valueSymbol }, batches, connections),
        );
        if (m.result.errors > 0) note(`${action} P=${d}: ${m.result.errors} unexpected replies, e.g. ${m.result.errorSamples.join(', ')}`);
        record?.(action, m);
      }
    };

    const warmupOps = Math.min(ops, Math.max(2000, Math.floor(ops / 20)));
    for (const d of depths) await runAll(`w${tag}d${d}:`, warmupOps, d, null);
    note(`warm-up done (${warmupOps} ops per action and depth, not measured)`);

    const results = new Map<string, Measured[]>();
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? depths : [...depths].reverse();
      for (const d of order) {
        await runAll(`b${tag}r${round}d${d}:`, ops, d, (action, m) => {
          const id = `${action}/${d}`;
          results.set(id, [...(results.get(id) ?? []), m]);
          note(`round ${round + 1}/${rounds} ${action} P=${d}: ${Math.round(m.result.ops / (m.result.wallMs / 1000))} ops/s`);
        });
      }
      if (server !== null && round < rounds - 1) {
        // Only a server this bench started is ever flushed.
        const reply = (await skyRoundTrip(port, skyQuery('FLUSHDB'))).toString('latin1');
        if (reply !== '*1\n!1\n0\n') throw new Error(`FLUSHDB answered ${JSON.stringify(reply)}`);
      }
    }

    let totalErrors = 0;
    for (const d of depths) {
      for (const action of kActions) {
        const runs = results.get(`${action}/${d}`) ?? [];
        const opsPerSec = runs.map((m) => m.result.ops / (m.result.wallMs / 1000));
        const p50 = runs.map((m) => typedPercentile(m.result.latencyMs, m.result.batches, 50));
        const p99 = runs.map((m) => typedPercentile(m.result.latencyMs, m.result.batches, 99));
        const max = runs.map((m) => typedPercentile(m.result.latencyMs, m.result.batches, 100));
        const errors = runs.reduce((sum, m) => sum + m.result.errors, 0);
        totalErrors += errors;
        const serverCpu = runs.map((m) => (m.serverCpuMs === null ? null : (100 * m.serverCpuMs) / m.result.wallMs));
        const clientCpu = runs.map((m) => (100 * m.clientCpuMs) / m.result.wallMs);
        emit(kBench, action, {
          pipeline: d,
          latencyPer: d === 1 ? 'request' : 'pipeline',
          connections,
          valueBytes,
          ops,
          rounds: runs.length,
          opsPerSec: median(opsPerSec),
          opsPerSecRounds: opsPerSec.map((value) => Math.round(value)),
          p50Ms: median(p50),
          p99Ms: median(p99),
          maxMs: maxOf(max),
          errors,
          serverCpuPct: serverCpu.every((value) => value !== null) ? median(serverCpu as number[]) : undefined,
          loadGenCpuPct: median(clientCpu),
        });
      }
    }
    return totalErrors === 0 ? 0 : 1;
  } finally {
    await server?.stop();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`skyhash bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
