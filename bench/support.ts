/**
 * Shared helpers for the bench scripts: argument parsing, statistics, the one-JSON-line output
 * contract (one JSON line per scenario, a smoke mode, the peer in the same run), forced garbage collection, machine facts.
 *
 * Contract: stdout carries only JSON lines, one per scenario figure, each with a `bench` and a
 * `scenario` field and units last in every numeric key; every human note goes to stderr.
 * `emit` refuses non-finite numbers so a broken measurement fails loudly instead of printing
 * `null` into the results.
 */

import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Print one scenario line on stdout. Numbers are rounded to 4 significant decimals of their unit. */
export function emit(bench: string, scenario: string, fields: Record<string, JsonValue | undefined>): void {
  const line: Record<string, JsonValue> = { bench, scenario };
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new Error(`bench ${bench}/${scenario}: ${key} is not finite (${value})`);
      line[key] = roundFigure(value);
    } else {
      line[key] = value;
    }
  }
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

function roundFigure(value: number): number {
  if (Number.isInteger(value)) return value;
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return Math.round(value);
  if (magnitude >= 1) return Number(value.toFixed(3));
  return Number(value.toPrecision(4));
}

/** A human note on stderr. */
export function note(message: string): void {
  process.stderr.write(`${message}\n`);
}

// ------------------------------------------------------------------ statistics

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile (p in 0..100) of an unsorted list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function maxOf(values: readonly number[]): number {
  let max = Number.NEGATIVE_INFINITY;
  for (const value of values) if (value > max) max = value;
  return max;
}

export function minOf(values: readonly number[]): number {
  let min = Number.POSITIVE_INFINITY;
  for (const value of values) if (value < min) min = value;
  return min;
}

/** Percentile of a Float64Array prefix without copying it into a JS array (sorts a copy). */
export function typedPercentile(values: Float64Array, length: number, p: number): number {
  if (length === 0) throw new Error('percentile of an empty list');
  const sorted = values.slice(0, length).sort();
  const rank = Math.min(length - 1, Math.max(0, Math.ceil((p / 100) * length) - 1));
  return sorted[rank] as number;
}

/** a / b, or 0 when b is 0 (a ratio with no peer figure is reported as absent by callers). */
export function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

// ------------------------------------------------------------------ process

let gcFunction: (() => void) | null = null;

/** Force a full garbage collection (works without --expose-gc on the command line). */
export function collectGarbage(): void {
  if (gcFunction === null) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (typeof exposed === 'function') {
      gcFunction = exposed;
    } else {
      setFlagsFromString('--expose-gc');
      gcFunction = runInNewContext('gc') as () => void;
    }
  }
  gcFunction();
  gcFunction();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function nowNs(): bigint {
  return process.hrtime.bigint();
}

export function elapsedMs(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e6;
}

export interface MachineFacts {
  cpuModel: string;
  cores: number;
  totalMemBytes: number;
  nodeVersion: string;
  commit: string;
  /** 1-minute load average when the bench started: other work on the machine skews results. */
  loadAvg1m: number;
}

export function machineFacts(): MachineFacts {
  // FROSTKV_BENCH_COMMIT names the commit when the bench runs from an exported tree (git archive).
  let commit = process.env.FROSTKV_BENCH_COMMIT ?? 'unknown';
  if (process.env.FROSTKV_BENCH_COMMIT === undefined) {
    try {
      const git = (args: string[]): string => execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      commit = git(['rev-parse', '--short', 'HEAD']);
      // Uncommitted changes to the measured code make the commit alone a wrong label.
      if (git(['status', '--porcelain', '--', 'src', 'workers']) !== '') commit += '-dirty';
    } catch {
      // Not a git checkout: the results file must then name the commit by hand.
    }
  }
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    totalMemBytes: totalmem(),
    nodeVersion: process.version,
    commit,
    loadAvg1m: loadavg()[0] ?? 0,
  };
}

/** Mode flags shared by the benches: --smoke (tiny, seconds), default, --full (adds 5M keys). */
export type BenchMode = 'smoke' | 'default' | 'full';

export function modeOf(argv: readonly string[]): BenchMode {
  if (argv.includes('--smoke')) return 'smoke';
  if (argv.includes('--full')) return 'full';
  return 'default';
}

/** `--name value` from argv, or undefined. */
export function argValue(argv: readonly string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  if (at < 0) return undefined;
  return argv[at + 1];
}

export function argNumber(argv: readonly string[], name: string, fallback: number): number {
  const raw = argValue(argv, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}

// ------------------------------------------------------------------ keys and values

/** Digits of `index`, zero-padded to `width`, written as ASCII into `out` at `offset`. */
export function writeDigits(out: Uint8Array, offset: number, index: number, width: number): void {
  let rest = index;
  for (let i = offset + width - 1; i >= offset; i--) {
    out[i] = 0x30 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
}

/**
 * A permutation of 0..n-1 (i -> i * stride mod n) so reads, updates and deletes visit keys in
 * an order unrelated to insertion order, the same order for every system.
 */
export function permutationStride(n: number): number {
  const candidates = [1_000_003, 999_983, 7919, 104_729, 15_485_863];
  for (const stride of candidates) if (gcd(stride, n) === 1 && stride % n > 1) return stride;
  return 1;
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}
