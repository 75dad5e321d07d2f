/**
 * Real frostkv servers for tests: in this process on ephemeral ports (fast, for protocol
 * conformance) or as a child process running the CLI (for lifecycle, signals and exit codes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { withDefaults, type PartialConfig } from '../../src/config/types.js';
import { FrostServer } from '../../src/server/server.js';
import { MemoryLogger } from '../../src/util/log.js';
import { tempDir } from './tmp.js';
export { freePort } from './ports.js';

export const kCliEntry = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Children still running when a test file ends (a failed test) are killed, never left behind. */
const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  children.clear();
});

export interface InProcessServer {
  server: FrostServer;
  port: number;
  respPort: number | null;
  dataDir: string;
  logger: MemoryLogger;
  stop(): Promise<void>;
}

/** Start a server in this process on ephemeral ports (Skyhash, and RESP when `resp`). */
export async function startInProcess(partial: PartialConfig = {}, options: { resp?: boolean } = {}): Promise<InProcessServer> {
  const dataDir = partial.server?.dataDir ?? tempDir();
  const config = withDefaults({
    ...partial,
    server: { ...partial.server, dataDir, port: 0 },
    bgsave: { enabled: false, every: 120, ...partial.bgsave },
    resp: { ...partial.resp, enabled: options.resp === true, port: 0 },
  });
  const logger = new MemoryLogger();
  const server = await FrostServer.start(config, { logger, saveOnShutdown: false });
  let stopped = false;
  return {
    server,
    port: server.addresses.skyhash.port,
    respPort: server.addresses.resp?.port ?? null,
    dataDir,
    logger,
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await server.shutdown();
    },
  };
}


export interface ChildServer {
  proc: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or null) and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

/** Run `frostkv <args>` as a child process (through tsx, from source). */
export function spawnCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildServer {
  const proc = spawn(process.execPath, ['--import', 'tsx', kCliEntry, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  proc.on('exit', () => children.delete(proc));
  let text = '';
  const waiters: Array<() => void> = [];
  const onText = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
    for (const wake of waiters.splice(0)) wake();
  };
  proc.stdout?.on('data', onText);
  proc.stderr?.on('data', onText);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('exit', (code, signal) => {
      for (const wake of waiters.splice(0)) wake();
      resolve({ code, signal });
    });
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  return {
    proc,
    output: () => text,
    exited,
    async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(text)) {
        if (done) throw new Error(`the process exited before printing ${String(pattern)}:\n${text}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out waiting for ${String(pattern)}:\n${text}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 200));
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
  };
}
