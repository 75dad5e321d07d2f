/**
 * Redis as a side-by-side peer for the benches: find it, start it on a free loopback port with
 * persistence off (`--save "" --appendonly no`), talk RESP over a raw socket (no npm client),
 * bulk-load keys pipelined, run BGSAVE and watch it through INFO, restart it on its dump and
 * time the load, and drive `redis-benchmark`.
 *
 * Guarantees: only the redis-server processes this module spawned are ever stopped (by their
 * own pid, at exit too); `redisInstalled()` answers without throwing when Redis is missing.
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { sleep } from './support.js';
import { freePort } from '../test/support/ports.js';

export { freePort };

/**
 * Binaries, overridable so a test can prove the benches run without Redis
 * (REDIS_SERVER_BIN=/nonexistent) or point at a Redis built elsewhere.
 */
const kServerBin = process.env.REDIS_SERVER_BIN ?? 'redis-server';
const kBenchmarkBin = process.env.REDIS_BENCHMARK_BIN ?? 'redis-benchmark';

export interface RedisInstallation {
  serverVersion: string;
  hasBenchmark: boolean;
}

/** The installed redis-server's version, or null when it is not installed. */
export function redisInstalled(): RedisInstallation | null {
  const server = spawnSync(kServerBin, ['--version'], { encoding: 'utf8' });
  if (server.error !== undefined || server.status !== 0) return null;
  const version = /v=([0-9.]+)/.exec(server.stdout)?.[1] ?? 'unknown';
  const bench = spawnSync(kBenchmarkBin, ['--version'], { encoding: 'utf8' });
  return { serverVersion: version, hasBenchmark: bench.error === undefined && bench.status === 0 };
}


// ------------------------------------------------------------------ RESP client

export type RespReply = string | number | Buffer | null | RespError | RespReply[];

export class RespError extends Error {}

interface Waiter {
  remaining: number;
  last: RespReply;
  errors: number;
  resolve: (reply: RespReply) => void;
  reject: (error: Error) => void;
}

/** Parse one reply at `offset`; null when the buffer does not hold all of it yet. */
function parseReply(buffer: Buffer, offset: number): { value: RespReply; next: number } | null {
  if (offset >= buffer.length) return null;
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd < 0) return null;
  const type = buffer[offset];
  const line = buffer.toString('latin1', offset + 1, lineEnd);
  const afterLine = lineEnd + 2;
  switch (type) {
    case 0x2b: // +
      return { value: line, next: afterLine };
    case 0x2d: // -
      return { value: new RespError(line), next: afterLine };
    case 0x3a: // :
      return { value: Number(line), next: afterLine };
    case 0x24: {
      // $
      const length = Number(line);
      if (length < 0) return { value: null, next: afterLine };
      if (buffer.length < afterLine + length + 2) return null;
      return { value: buffer.subarray(afterLine, afterLine + length), next: afterLine + length + 2 };
    }
    case 0x2a: {
      // *
      const count = Number(line);
      if (count < 0) return { value: null, next: afterLine };
      const items: RespReply[] = [];
      let at = afterLine;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, at);
        if (item === null) return null;
        items.push(item.value);
        at = item.next;
      }
      return { value: items, next: at };
    }
    default:
      throw new Error(`unexpected RESP type byte ${String(type)}`);
  }
}

export function encodeCommand(args: ReadonlyArray<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`, 'latin1')];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg, 'latin1') : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`, 'latin1'), bytes, Buffer.from('\r\n', 'latin1'));
  }
  return Buffer.concat(parts);
}

export class RespClient {
  private readonly socket: Socket;
  private pending: Buffer = Buffer.alloc(0);
  private readonly waiters: Waiter[] = [];
  private failure: Error | null = null;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    const fail = (error: Error): void => {
      this.failure = error;
      for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('redis connection closed')));
  }

  static connect(port: number): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      socket.setNoDelay(true);
      socket.once('error', reject);
      socket.connect(port, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve(new RespClient(socket));
      });
    });
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    let offset = 0;
    for (;;) {
      const waiter = this.waiters[0];
      if (waiter === undefined) break;
      const parsed = parseReply(this.pending, offset);
      if (parsed === null) break;
      offset = parsed.next;
      if (parsed.value instanceof RespError) waiter.errors++;
      waiter.last = parsed.value;
      waiter.remaining--;
      if (waiter.remaining === 0) {
        this.waiters.shift();
        waiter.resolve(waiter.last);
      }
    }
    // Copy the unparsed tail so a big chunk is not kept alive by a small remainder.
    this.pending = offset === this.pending.length ? Buffer.alloc(0) : Buffer.from(this.pending.subarray(offset));
  }

  /** Send raw RESP holding `replies` commands; resolves with the last reply, rejects if any failed. */
  pipeline(bytes: Buffer, replies: number): Promise<RespReply> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        remaining: replies,
        last: null,
        errors: 0,
        resolve: (reply) => {
          if (waiter.errors > 0) reject(new Error(`${waiter.errors} of ${replies} pipelined commands failed; last reply ${String(reply)}`));
          else resolve(reply);
        },
        reject,
      };
      this.waiters.push(waiter);
      this.socket.write(bytes);
    });
  }

  async command(...args: string[]): Promise<RespReply> {
    const reply = await new Promise<RespReply>((resolve, reject) => {
      if (this.failure !== null) return reject(this.failure);
      this.waiters.push({ remaining: 1, last: null, errors: 0, resolve, reject });
      this.socket.write(encodeCommand(args));
    });
    if (reply instanceof RespError) throw reply;
    return reply;
  }

  /** `INFO section` as a field map. */
  async info(section: string): Promise<Map<string, string>> {
    const reply = await this.command('INFO', section);
    const text = Buffer.isBuffer(reply) ? reply.toString('latin1') : String(reply);
    const fields = new Map<string, string>();
    for (const line of text.split('\r\n')) {
      const at = line.indexOf(':');
      if (at > 0) fields.set(line.slice(0, at), line.slice(at + 1));
    }
    return fields;
  }

  close(): void {
    this.socket.destroy();
  }
}

export function infoNumber(fields: Map<string, string>, name: string): number {
  const raw = fields.get(name);
  if (raw === undefined) throw new Error(`INFO has no field ${name}`);
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`INFO field ${name} is not a number: ${raw}`);
  return value;
}

// ------------------------------------------------------------------ server process

const started = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of started) if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  });
}

export class RedisServer {
  readonly port: number;
  readonly dir: string;
  private child: ChildProcess;
  private exited: Promise<void>;

  private constructor(port: number, dir: string, child: ChildProcess, exited: Promise<void>) {
    this.port = port;
    this.dir = dir;
    this.child = child;
    this.exited = exited;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  private static spawnServer(port: number, dir: string): { child: ChildProcess; exited: Promise<void> } {
    installExitHook();
    const child = spawn(
      kServerBin,
      [
        '--port', String(port),
        '--bind', '127.0.0.1',
        '--save', '',
        '--appendonly', 'no',
        '--dir', dir,
        '--dbfilename', 'dump.rdb',
        '--daemonize', 'no',
        '--protected-mode', 'no',
        '--loglevel', 'warning',
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
    started.add(child);
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => {
        started.delete(child);
        resolve();
      });
    });
    return { child, exited };
  }

  /**
   * Start redis-server on `dir` (loading `dir/dump.rdb` if present); resolves once PING answers
   * PONG (Redis answers -LOADING while it loads), with the milliseconds from spawn to then.
   */
  static async start(dir: string, port?: number): Promise<{ server: RedisServer; readyMs: number }> {
    const chosen = port ?? (await freePort());
    const startedAt = performance.now();
    const { child, exited } = RedisServer.spawnServer(chosen, dir);
    let childExited = false;
    void exited.then(() => {
      childExited = true;
    });
    for (;;) {
      if (childExited) throw new Error(`redis-server on port ${chosen} exited during startup`);
      try {
        const client = await RespClient.connect(chosen);
        try {
          for (;;) {
            try {
              const reply = await client.command('PING');
              if (reply === 'PONG') {
                const readyMs = performance.now() - startedAt;
                return { server: new RedisServer(chosen, dir, child, exited), readyMs };
              }
            } catch (error) {
              if (!(error instanceof RespError) || !error.message.startsWith('LOADING')) throw error;
            }
            await sleep(2);
          }
        } finally {
          client.close();
        }
      } catch (error) {
        if (error instanceof RespError) throw error;
        await sleep(2);
      }
      if (performance.now() - startedAt > 600_000) throw new Error('redis-server did not answer within 10 minutes');
    }
  }

  /** SHUTDOWN NOSAVE and wait for the process to exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    try {
      const client = await RespClient.connect(this.port);
      client.command('SHUTDOWN', 'NOSAVE').catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 10_000)))]);
      clearTimeout(timer);
      client.close();
    } catch {
      // Connection refused: fall through to the signal.
    }
    if (this.child.exitCode === null && this.child.pid !== undefined) {
      process.kill(this.child.pid, 'SIGKILL');
      await this.exited;
    }
  }
}

// ------------------------------------------------------------------ redis-benchmark

export interface RedisBenchmarkResult {
  requests: number;
  rps: number;
  avgLatencyMs: number;
  p50LatencyMs: number;
  p95LatencyMs: number;
  p99LatencyMs: number;
  maxLatencyMs: number;
  wallSeconds: number;
}

/** `redis-benchmark -t set -P <pipeline> -c <clients> -r <keyspace> -d <valueBytes> -n <requests> --csv`. */
export function runRedisBenchmark(
  port: number,
  options: { requests: number; keyspace: number; valueBytes: number; clients: number; pipeline: number },
): Promise<RedisBenchmarkResult> {
  const args = [
    '-h', '127.0.0.1',
    '-p', String(port),
    '-t', 'set',
    '-P', String(options.pipeline),
    '-c', String(options.clients),
    '-r', String(options.keyspace),
    '-d', String(options.valueBytes),
    '-n', String(options.requests),
    '--csv',
  ];
  const startedAt = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(kBenchmarkBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallSeconds = (performance.now() - startedAt) / 1000;
      if (code !== 0) return reject(new Error(`redis-benchmark exited with ${code}: ${err}`));
      const lines = out.split('\n').map((line) => line.trim()).filter((line) => line.startsWith('"'));
      const header = lines.find((line) => line.startsWith('"test"'));
      const row = lines.find((line) => line.startsWith('"SET"'));
      if (header === undefined || row === undefined) return reject(new Error(`redis-benchmark printed no CSV result: ${out}`));
      const names = header.split(',').map((cell) => cell.replace(/"/g, ''));
      const cells = row.split(',').map((cell) => cell.replace(/"/g, ''));
      const field = (name: string): number => {
        const at = names.indexOf(name);
        const value = Number(cells[at]);
        if (at < 0 || !Number.isFinite(value)) throw new Error(`redis-benchmark CSV has no ${name}: ${header} / ${row}`);
        return value;
      };
      try {
        resolve({
          requests: options.requests,
          rps: field('rps'),
          avgLatencyMs: field('avg_latency_ms'),
          p50LatencyMs: field('p50_latency_ms'),
          p95LatencyMs: field('p95_latency_ms'),
          p99LatencyMs: field('p99_latency_ms'),
          maxLatencyMs: field('max_latency_ms'),
          wallSeconds,
        });
      } catch (error) {
        reject(error as Error);
      }
    });
  });
}
