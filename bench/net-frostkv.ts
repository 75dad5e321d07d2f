/**
 * frostkv as a server process for the network benches (bench/skyhash.ts, bench/vs-redis.ts):
 * start `frostkv serve` on a temporary data directory and free loopback ports, wait until both
 * listeners accept connections and Skyhash answers HEYA (the data has loaded), stop it by its own pid.
 *
 * Guarantees:
 * - Runs the compiled build (`dist/src/cli/main.js`) when it exists, otherwise (or with
 *   FROSTKV_BENCH_ENTRY=tsx) `src/cli/main.ts` through tsx (CI runs the tests without building). Which one ran is returned as `entry`, and
 *   a compiled build older than any file under src/ or workers/ is reported as stale on stderr
 *   so a result is never silently measured on old code.
 * - Only the process this module spawned is ever signalled, by its pid; it is SIGKILLed when
 *   the bench process exits without stopping it.
 * - The temporary data directory is removed by `stop()`.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './redis-peer.js';
import { note, sleep } from './support.js';

const kRoot = fileURLToPath(new URL('../', import.meta.url));
// FROSTKV_BENCH_SERVER names another compiled CLI (a `tsc -p tsconfig.build.json --outDir X` build,
// X/src/cli/main.js) so a bench can measure a build of its own without rewriting the shared dist/.
const kCompiledMain = process.env.FROSTKV_BENCH_SERVER ?? join(kRoot, 'dist', 'src', 'cli', 'main.js');
const kSourceMain = join(kRoot, 'src', 'cli', 'main.ts');
/** A large live save can take a while to load; give up on startup after this long. */
const kStartupTimeoutMs = 120_000;
/** After SIGTERM (with --nosave nothing is saved) wait this long before SIGKILL. */
const kStopGraceMs = 15_000;

export type FrostEntry = 'dist' | 'tsx';

export interface FrostStartOptions {
  /** Also listen for RESP2 on a free port. */
  resp: boolean;
  /** Keep the periodic BGSAVE (default: off with --nosave, like Redis started with --save ""). */
  periodicSave?: boolean;
  /** Extra CLI flags. */
  extraArgs?: string[];
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  });
}

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtimeMs(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Which entry point a server start will use, and whether a compiled build is older than the sources. */
export function frostEntry(): { entry: FrostEntry; stale: boolean } {
  // FROSTKV_BENCH_ENTRY=tsx forces the source entry (how the tests prove the fallback works).
  if (process.env.FROSTKV_BENCH_ENTRY === 'tsx' || !existsSync(kCompiledMain)) return { entry: 'tsx', stale: false };
  const built = statSync(kCompiledMain).mtimeMs;
  const sources = Math.max(newestMtimeMs(join(kRoot, 'src')), newestMtimeMs(join(kRoot, 'workers')));
  return { entry: 'dist', stale: sources > built };
}

const kHeyaQuery = '*1\n~1\n4\nHEYA\n';
const kHeyaReply = '*1\n+4\nHEY!\n';

/**
 * Whether the Skyhash port answers HEYA with HEY!. The listeners open before the data loads
 * (and answer `err-loading` meanwhile), so an accepted connection alone does not mean ready.
 */
function answersHeya(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    const done = (ready: boolean): void => {
      socket.destroy();
      resolve(ready);
    };
    socket.setEncoding('latin1');
    socket.once('connect', () => socket.write(kHeyaQuery));
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (reply.length >= kHeyaReply.length || reply.includes('err-')) done(reply === kHeyaReply);
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** Whether a TCP connect to the loopback `port` succeeds (the bench scripts' readiness probe). */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export class FrostServerProcess {
  readonly skyhashPort: number;
  readonly respPort: number | null;
  readonly dataDir: string;
  readonly entry: FrostEntry;
  readonly pid: number;
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private log = '';

  private constructor(child: ChildProcess, exited: Promise<number | null>, skyhashPort: number, respPort: number | null, dataDir: string, entry: FrostEntry) {
    this.child = child;
    this.exited = exited;
    this.skyhashPort = skyhashPort;
    this.respPort = respPort;
    this.dataDir = dataDir;
    this.entry = entry;
    this.pid = child.pid ?? -1;
    const keep = (chunk: string): void => {
      // The last few KiB of the server's log, for error messages.
      this.log = (this.log + chunk).slice(-8192);
    };
    child.stdout?.setEncoding('utf8').on('data', keep);
    child.stderr?.setEncoding('utf8').on('data', keep);
  }

  /** The tail of the server's log (stdout and stderr). */
  get logTail(): string {
    return this.log;
  }

  static async start(options: FrostStartOptions): Promise<FrostServerProcess> {
    installExitHook();
    const { entry, stale } = frostEntry();
    if (stale) note('WARNING: dist/ is older than src/ or workers/: run `npm run build` first, or the bench measures old code');
    const skyhashPort = await freePort();
    const respPort = options.resp ? await freePort() : null;
    const dataDir = mkdtempSync(join(tmpdir(), 'frostkv-netbench-'));
    const args = ['--noart', '--data-dir', dataDir, '--port', String(skyhashPort), '--log-level', 'warn'];
    if (respPort !== null) args.push('--resp-port', String(respPort));
    if (options.periodicSave !== true) args.push('--nosave');
    args.push(...(options.extraArgs ?? []));
    const command = entry === 'dist' ? [kCompiledMain, ...args] : ['--import', 'tsx', kSourceMain, ...args];
    const child = spawn(process.execPath, command, { cwd: kRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => {
        running.delete(child);
        resolve(code);
      });
    });
    const server = new FrostServerProcess(child, exited, skyhashPort, respPort, dataDir, entry);
    const startedAt = performance.now();
    for (;;) {
      if (child.exitCode !== null) throw new Error(`frostkv exited during startup (code ${child.exitCode}):\n${server.logTail}`);
      const up = (await answersHeya(skyhashPort)) && (respPort === null || (await canConnect(respPort)));
      if (up) return server;
      if (performance.now() - startedAt > kStartupTimeoutMs) {
        await server.stop();
        throw new Error(`frostkv did not listen within ${kStartupTimeoutMs} ms:\n${server.logTail}`);
      }
      await sleep(20);
    }
  }

  /** SIGTERM (SIGKILL after a grace period), then remove the data directory. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.pid > 0) {
      this.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const graceOver = await Promise.race([
        this.exited.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), kStopGraceMs))),
      ]);
      clearTimeout(timer);
      if (graceOver && this.child.exitCode === null) {
        this.child.kill('SIGKILL');
        await this.exited;
      }
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
