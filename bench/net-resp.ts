/**
 * RESP load tools for bench/vs-redis.ts, the same bytes for Redis and frostkv:
 * - `bulkLoad`: exactly N keys `key:%012d` with fixed-size values, pipelined on a few
 *   connections (every reply checked to be `+OK`);
 * - `WriteLoad`: a fixed-concurrency closed-loop SET load (each connection keeps one SET in
 *   flight) over existing keys, recording the start time and latency of every request;
 * - `runRedisBenchmark`: `redis-benchmark -t set,get ... --csv`, both rows parsed.
 *
 * Guarantees: latencies are measured from the write call to the arrival of the reply's last
 * byte (performance.now(), sub-microsecond resolution); a reply other than `+OK\r\n` is counted
 * as an error, never silently accepted. This is a closed-loop load: while a server stalls, no
 * new requests are sent, so a stall shows up as a few very slow requests and fewer requests in
 * total, not as a queue of delayed ones (coordinated omission; the p99 understates a stall).
 */

import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { openSocket } from './net-skyhash.js';
import { writeDigits } from './support.js';

export const kKeyDigits = 12;
export const kKeyPrefix = 'key:';
export const kKeyBytes = kKeyPrefix.length + kKeyDigits;
const kOk = Buffer.from('+OK\r\n', 'latin1');

/** `*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000000\r\n$<v>\r\n<value>\r\n` with the offsets of the digits. */
function setTemplate(valueBytes: number, fill: string): { bytes: Buffer; keyAt: number; valueAt: number | null } {
  const head = `*3\r\n$3\r\nSET\r\n$${kKeyBytes}\r\n`;
  const mid = `\r\n$${valueBytes}\r\n`;
  const bytes = Buffer.alloc(head.length + kKeyBytes + mid.length + valueBytes + 2);
  let at = bytes.write(head, 0, 'latin1');
  const keyAt = at + kKeyPrefix.length;
  at += bytes.write(kKeyPrefix, at, 'latin1');
  at += bytes.write('0'.repeat(kKeyDigits), at, 'latin1');
  at += bytes.write(mid, at, 'latin1');
  bytes.fill(fill.charCodeAt(0), at, at + valueBytes);
  const valueAt = valueBytes >= kKeyDigits ? at + valueBytes - kKeyDigits : null;
  at += valueBytes;
  bytes.write('\r\n', at, 'latin1');
  return { bytes, keyAt, valueAt };
}

/** Count complete `+OK\r\n` replies (and anything else as errors) in a reply stream. */
class OkCounter {
  private tail: Buffer | null = null;
  oks = 0;
  errors = 0;
  lastError = '';

  /** Feed a chunk; returns the number of complete replies it finished. */
  push(chunk: Buffer): number {
    let buffer = this.tail === null ? chunk : Buffer.concat([this.tail, chunk]);
    let replies = 0;
    let at = 0;
    for (;;) {
      if (buffer.length - at >= kOk.length && buffer[at] === 0x2b && buffer[at + 1] === 0x4f && buffer[at + 2] === 0x4b && buffer[at + 3] === 0x0d) {
        at += kOk.length;
        this.oks++;
        replies++;
        continue;
      }
      const end = buffer.indexOf('\r\n', at);
      if (end < 0) break;
      // Any other single-line reply (an error) counts as one failed reply.
      this.errors++;
      this.lastError = buffer.toString('latin1', at, end);
      at = end + 2;
      replies++;
    }
    buffer = buffer.subarray(at);
    this.tail = buffer.length === 0 ? null : Buffer.from(buffer);
    return replies;
  }
}

/**
 * Write keys 0..n-1 (`key:%012d`, value filler 'v' + the key's digits) with pipelines of
 * `batch` SETs, `connections` connections each keeping `inFlight` pipelines outstanding.
 */
export async function bulkLoad(port: number, n: number, valueBytes: number, options = { connections: 2, batch: 1000, inFlight: 4 }): Promise<{ ms: number; errors: number }> {
  const template = setTemplate(valueBytes, 'v');
  const batches = Math.ceil(n / options.batch);
  let nextBatch = 0;
  const counters: OkCounter[] = [];
  const sockets = await Promise.all(Array.from({ length: options.connections }, () => openSocket(port)));
  const startedAt = performance.now();
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve, reject) => {
          const counter = new OkCounter();
          counters.push(counter);
          // Commands in each pipeline still owed a reply, oldest first.
          const sizes: number[] = [];
          let replied = 0;
          const send = (): void => {
            while (sizes.length < options.inFlight && nextBatch < batches) {
              const first = nextBatch++ * options.batch;
              const count = Math.min(options.batch, n - first);
              const out = Buffer.allocUnsafe(template.bytes.length * count);
              for (let i = 0; i < count; i++) {
                const base = i * template.bytes.length;
                template.bytes.copy(out, base);
                writeDigits(out, base + template.keyAt, first + i, kKeyDigits);
                if (template.valueAt !== null) writeDigits(out, base + template.valueAt, first + i, kKeyDigits);
              }
              sizes.push(count);
              socket.write(out);
            }
            if (sizes.length === 0 && nextBatch >= batches) resolve();
          };
          socket.on('data', (chunk: Buffer) => {
            replied += counter.push(chunk);
            while (sizes.length > 0 && replied >= (sizes[0] as number)) replied -= sizes.shift() as number;
            send();
          });
          socket.on('error', reject);
          socket.on('close', () => {
            if (sizes.length > 0) reject(new Error('bulk load: the server closed the connection'));
          });
          send();
        }),
    ),
  );
  const ms = performance.now() - startedAt;
  for (const socket of sockets) socket.destroy();
  const errors = counters.reduce((sum, counter) => sum + counter.errors, 0);
  if (errors > 0) throw new Error(`bulk load: ${errors} SETs failed, e.g. ${counters.find((c) => c.errors > 0)?.lastError ?? ''}`);
  return { ms, errors };
}

/** A growable array of doubles. */
class Series {
  data = new Float64Array(1 << 16);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }
}

export interface WindowStats {
  requests: number;
  seconds: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Closed-loop SET load over keys 0..keys-1 (random, seeded): `connections` sockets, one SET in
 * flight on each. Times are performance.now() ms in this process.
 */
export class WriteLoad {
  readonly startMs = new Series();
  readonly latencyMs = new Series();
  errors = 0;
  lastError = '';
  private stopping = false;
  private sockets: Socket[] = [];
  private finished: Promise<void> = Promise.resolve();

  constructor(
    private readonly port: number,
    private readonly keys: number,
    private readonly valueBytes: number,
    private readonly connections: number,
    private readonly seed = 12345,
  ) {}

  async start(): Promise<void> {
    this.sockets = await Promise.all(Array.from({ length: this.connections }, () => openSocket(this.port)));
    let state = this.seed >>> 0;
    const nextKey = (): number => {
      // xorshift32: the same key sequence for every system.
      state ^= state << 13;
      state >>>= 0;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      return state % this.keys;
    };
    const runs = this.sockets.map(
      (socket, index) =>
        new Promise<void>((resolve, reject) => {
          const template = setTemplate(this.valueBytes, index % 2 === 0 ? 'w' : 'x');
          const counter = new OkCounter();
          let sentAt = 0;
          const send = (): void => {
            if (this.stopping) {
              resolve();
              return;
            }
            const key = nextKey();
            writeDigits(template.bytes, template.keyAt, key, kKeyDigits);
            if (template.valueAt !== null) writeDigits(template.bytes, template.valueAt, key, kKeyDigits);
            sentAt = performance.now();
            socket.write(template.bytes);
          };
          socket.on('data', (chunk: Buffer) => {
            const errorsBefore = counter.errors;
            if (counter.push(chunk) === 0) return;
            const now = performance.now();
            this.startMs.push(sentAt);
            this.latencyMs.push(now - sentAt);
            if (counter.errors > errorsBefore) {
              this.errors++;
              this.lastError = counter.lastError;
            }
            send();
          });
          socket.on('error', reject);
          socket.on('close', () => {
            if (!this.stopping) reject(new Error('write load: the server closed a connection'));
            resolve();
          });
          send();
        }),
    );
    this.finished = Promise.all(runs).then(() => undefined);
  }

  /** Stop sending; resolves when every connection has its last reply. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.finished;
    for (const socket of this.sockets) socket.destroy();
  }

  /** Requests that completed in [fromMs, toMs). */
  window(fromMs: number, toMs: number): WindowStats {
    const picked: number[] = [];
    const starts = this.startMs.data;
    const latencies = this.latencyMs.data;
    for (let i = 0; i < this.latencyMs.length; i++) {
      const end = (starts[i] as number) + (latencies[i] as number);
      if (end >= fromMs && end < toMs) picked.push(latencies[i] as number);
    }
    const seconds = (toMs - fromMs) / 1000;
    if (picked.length === 0) return { requests: 0, seconds, opsPerSec: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 };
    picked.sort((a, b) => a - b);
    const rank = (p: number): number => picked[Math.min(picked.length - 1, Math.max(0, Math.ceil((p / 100) * picked.length) - 1))] as number;
    return { requests: picked.length, seconds, opsPerSec: picked.length / seconds, p50Ms: rank(50), p99Ms: rank(99), maxMs: picked[picked.length - 1] as number };
  }

  /** (time, latency) of every request completed in [fromMs, toMs), time relative to `originMs`. */
  points(fromMs: number, toMs: number, originMs: number): Array<{ tMs: number; latencyMs: number }> {
    const out: Array<{ tMs: number; latencyMs: number }> = [];
    for (let i = 0; i < this.latencyMs.length; i++) {
      const start = this.startMs.data[i] as number;
      const latency = this.latencyMs.data[i] as number;
      const end = start + latency;
      if (end >= fromMs && end < toMs) out.push({ tMs: start - originMs, latencyMs: latency });
    }
    return out;
  }
}

export interface BenchmarkRow {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * `redis-benchmark -h 127.0.0.1 -p <port> -t set,get -c <c> -d <d> -r <r> -n <n> -P <p> -q --csv`;
 * resolves with the SET and GET rows.
 */
export function runRedisBenchmarkSetGet(
  bin: string,
  port: number,
  options: { clients: number; valueBytes: number; keyspace: number; requests: number; pipeline: number },
): Promise<{ args: string[]; rows: Map<string, BenchmarkRow> }> {
  const args = [
    '-h', '127.0.0.1',
    '-p', String(port),
    '-t', 'set,get',
    '-c', String(options.clients),
    '-d', String(options.valueBytes),
    '-r', String(options.keyspace),
    '-n', String(options.requests),
    '-P', String(options.pipeline),
    '-q',
    '--csv',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`redis-benchmark exited with ${code}: ${err}${out}`));
      const lines = out.split('\n').map((line) => line.trim()).filter((line) => line.startsWith('"'));
      const header = lines.find((line) => line.startsWith('"test"'));
      if (header === undefined) return reject(new Error(`redis-benchmark printed no CSV header: ${out}${err}`));
      const names = header.split(',').map((cell) => cell.replace(/"/g, ''));
      const rows = new Map<string, BenchmarkRow>();
      for (const line of lines) {
        if (line === header) continue;
        const cells = line.split(',').map((cell) => cell.replace(/"/g, ''));
        const field = (name: string): number => {
          const value = Number(cells[names.indexOf(name)]);
          if (!Number.isFinite(value)) throw new Error(`redis-benchmark CSV has no ${name}: ${header} / ${line}`);
          return value;
        };
        try {
          rows.set(cells[0] as string, { rps: field('rps'), p50Ms: field('p50_latency_ms'), p99Ms: field('p99_latency_ms'), maxMs: field('max_latency_ms') });
        } catch (error) {
          return reject(error as Error);
        }
      }
      if (!rows.has('SET') || !rows.has('GET')) return reject(new Error(`redis-benchmark printed no SET/GET rows: ${out}`));
      resolve({ args, rows });
    });
  });
}
