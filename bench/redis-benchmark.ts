/**
 * `redis-benchmark` with any arguments (`-t` tests or one custom command), every CSV row parsed,
 * for bench/vs-redis.ts and bench/collections.ts: the same load against Redis and frostkv.
 *
 * Guarantees: a run that exits non-zero, prints no CSV header or a row without a finite rps or
 * latency is rejected with redis-benchmark's own output, never turned into a zero figure; rows
 * keep redis-benchmark's test names (`SET`, `MSET (10 keys)`, or a custom command's text).
 */

import { spawn } from 'node:child_process';

export const kBenchmarkBin = process.env.REDIS_BENCHMARK_BIN ?? 'redis-benchmark';

export interface BenchmarkCsvRow {
  test: string;
  rps: number;
  avgMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface BenchmarkRun {
  /** The full argument list, for the results page. */
  args: string[];
  rows: BenchmarkCsvRow[];
  wallSeconds: number;
}

/** The quoted cells of one CSV line (redis-benchmark quotes every cell and never a quote). */
function cells(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"/g)].map((match) => match[1] as string);
}

function parseCsv(out: string): BenchmarkCsvRow[] {
  const lines = out.split('\n').map((line) => line.trim()).filter((line) => line.startsWith('"'));
  const header = lines.find((line) => line.startsWith('"test"'));
  if (header === undefined) throw new Error(`redis-benchmark printed no CSV header: ${out.slice(0, 500)}`);
  const names = cells(header);
  const rows: BenchmarkCsvRow[] = [];
  for (const line of lines) {
    if (line === header) continue;
    const row = cells(line);
    const field = (name: string): number => {
      const value = Number(row[names.indexOf(name)]);
      if (names.indexOf(name) < 0 || !Number.isFinite(value)) throw new Error(`redis-benchmark CSV has no ${name}: ${header} / ${line}`);
      return value;
    };
    rows.push({ test: row[0] as string, rps: field('rps'), avgMs: field('avg_latency_ms'), p50Ms: field('p50_latency_ms'), p99Ms: field('p99_latency_ms'), maxMs: field('max_latency_ms') });
  }
  if (rows.length === 0) throw new Error(`redis-benchmark printed no result rows: ${out.slice(0, 500)}`);
  return rows;
}

/**
 * `redis-benchmark -h 127.0.0.1 -p <port> <args> -q --csv`. `args` is everything else: `-t`,
 * `-c`, `-n`, `-P`, `-r`, `-d`, or a custom command at the end.
 */
export function runBenchmark(port: number, args: readonly string[]): Promise<BenchmarkRun> {
  // Options must precede a custom command: -q --csv go before its first word.
  const split = findCommandStart(args);
  const options = split < 0 ? args : args.slice(0, split);
  const command = split < 0 ? [] : args.slice(split);
  const ordered = ['-h', '127.0.0.1', '-p', String(port), ...options, '-q', '--csv', ...command];
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(kBenchmarkBin, ordered, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`redis-benchmark exited with ${String(code)}: ${err}${out}`));
      try {
        resolve({ args: ordered, rows: parseCsv(out), wallSeconds: (performance.now() - startedAt) / 1000 });
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}

/** Options of redis-benchmark that take a value (the ones these benches pass). */
const kValueOptions = new Set(['-c', '-n', '-d', '-P', '-r', '-t', '-h', '-p', '--threads', '-a', '--user', '--dbnum']);

function findCommandStart(args: readonly string[]): number {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (kValueOptions.has(arg)) {
      i++;
      continue;
    }
    if (!arg.startsWith('-')) return i;
  }
  return -1;
}

/** The command line as it would be typed, without host and port (for the results page). */
export function commandLine(run: BenchmarkRun): string {
  return `redis-benchmark ${run.args.slice(4).join(' ')}`;
}
