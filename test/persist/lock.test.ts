/**
 * The data directory lock with real processes: a lock the kernel releases when its holder dies
 * (a SIGKILLed holder never blocks a restart, nor does a lock file naming a live pid that is
 * not a holder, nor pid 1 in a fresh pid namespace), two processes taking it at the same moment
 * never both get it, and a refusal names the holder.
 */

import { describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { open } from '../../src/database.js';
import { acquireDataDirLock } from '../../src/persist/lock.js';
import { ErrorCode } from '../../src/util/errors.js';
import { tempDir } from '../support/tmp.js';

const kChild = fileURLToPath(new URL('./fixtures/lock-child.ts', import.meta.url));
const kLockFile = 'frostkv.lock';
const kSameMomentRounds = 100;
const kColdStartRounds = 4;
const kNamespaceRestarts = 5;
const kChildTimeoutMs = 20_000;

const children = new Set<ChildProcess>();
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

interface Child {
  proc: ChildProcess;
  /** The next line the child prints. */
  line(): Promise<string>;
  exited: Promise<number | null>;
}

function track(proc: ChildProcess): Child {
  children.add(proc);
  const lines: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  let buffered = '';
  proc.stdout?.setEncoding('utf8').on('data', (text: string) => {
    buffered += text;
    for (let at = buffered.indexOf('\n'); at >= 0; at = buffered.indexOf('\n')) {
      const line = buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
      const wake = waiting.shift();
      if (wake === undefined) lines.push(line);
      else wake(line);
    }
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => {
    children.delete(proc);
    for (const wake of waiting.splice(0)) wake('(exited)');
    resolve(code);
  }));
  return {
    proc,
    exited,
    line: () => {
      const ready = lines.shift();
      if (ready !== undefined) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('child did not answer in time')), kChildTimeoutMs);
        waiting.push((line) => {
          clearTimeout(timer);
          resolve(line);
        });
      });
    },
  };
}

function startChild(dataDir: string, mode: 'open' | 'repl', wrapper: string[] = [], env: NodeJS.ProcessEnv = process.env): Child {
  const command = [...wrapper, process.execPath, '--import', 'tsx', kChild, dataDir, mode];
  return track(spawn(command[0] as string, command.slice(1), { stdio: ['pipe', 'pipe', 'inherit'], env }));
}

/** A PATH holding only the named commands (symlinks to the real ones). */
function pathWith(commands: string[]): string {
  const bin = tempDir();
  for (const command of commands) {
    const real = spawnSync('sh', ['-c', `command -v ${command}`]).stdout.toString().trim();
    symlinkSync(real, join(bin, command));
  }
  return bin;
}

async function killHard(child: Child): Promise<void> {
  child.proc.kill('SIGKILL');
  await child.exited;
}

/** A pid that certainly belongs to no process now (a child that has exited). */
function deadPid(): number {
  const done = spawnSync('true');
  return done.pid as number;
}

function writeLockFile(dataDir: string, pid: number): void {
  writeFileSync(join(dataDir, kLockFile), `${JSON.stringify({ pid, host: hostname(), startedAt: new Date(0).toISOString() })}\n`);
}

describe('the data directory lock is released by the kernel with its holder', () => {
  it('a SIGKILLed holder never blocks a restart (three kills in a row)', async () => {
    const dataDir = tempDir();
    for (let round = 0; round < 3; round++) {
      const holder = startChild(dataDir, 'open');
      expect(await holder.line()).toBe(`locked ${holder.proc.pid}`);
      await killHard(holder);
    }
    const db = await open({ server: { dataDir } }, { saveOnShutdown: false });
    await db.close();
  }, 60_000);

  it('takes over a lock file whose recorded pid is alive but is not a frostkv holder', async () => {
    const dataDir = tempDir();
    const unrelated = spawn('sleep', ['30']);
    children.add(unrelated);
    try {
      writeLockFile(dataDir, unrelated.pid as number);
      const lock = acquireDataDirLock(dataDir);
      lock.release();
      // pid 1 is always alive (init, or this container's first process).
      writeLockFile(dataDir, 1);
      const db = await open({ server: { dataDir } }, { saveOnShutdown: false });
      await db.close();
      // A lock file left by this very process (a pid it has now) is no reason to refuse either.
      writeLockFile(dataDir, process.pid);
      acquireDataDirLock(dataDir).release();
    } finally {
      unrelated.kill('SIGKILL');
    }
  }, 30_000);

  it('restarts as pid 1 in a fresh pid namespace after SIGKILL, five times in a row', async (context) => {
    const isRoot = process.getuid?.() === 0;
    const unshare = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']);
    if (!isRoot || unshare.status !== 0) {
      context.skip(`needs root and a working unshare(1) (uid ${String(process.getuid?.())}, unshare status ${String(unshare.status)})`);
    }
    const dataDir = tempDir();
    for (let round = 0; round < kNamespaceRestarts; round++) {
      const wrapped = startChild(dataDir, 'open', ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child']);
      expect(await wrapped.line(), `restart ${round}`).toBe('locked 1');
      // SIGKILL the node process itself: pid 1 inside, the child unshare forked (seen from here).
      const forked = spawnSync('sh', ['-c', `cat /proc/${wrapped.proc.pid}/task/*/children`]).stdout.toString().trim().split(/\s+/);
      const nodePid = Number(forked[0]);
      expect(nodePid).toBeGreaterThan(1);
      process.kill(nodePid, 'SIGKILL');
      await wrapped.exited;
    }
  }, 120_000);
});

describe('two processes never both hold one data directory', () => {
  it(`${kSameMomentRounds} rounds of two processes taking the lock at the same moment: exactly one gets it`, async () => {
    const dataDir = tempDir();
    const a = startChild(dataDir, 'repl');
    const b = startChild(dataDir, 'repl');
    try {
      for (let round = 0; round < kSameMomentRounds; round++) {
        // Odd rounds start from a stale lock file (its pid is dead): both would take it over.
        if (round % 2 === 1) writeLockFile(dataDir, deadPid());
        a.proc.stdin?.write('acquire\n');
        b.proc.stdin?.write('acquire\n');
        const [answerA, answerB] = await Promise.all([a.line(), b.line()]);
        const winners = [answerA, answerB].filter((answer) => answer === 'got');
        expect(winners.length, `round ${round}: ${answerA} / ${answerB}`).toBe(1);
        const loser = answerA === 'got' ? answerB : answerA;
        expect(loser).toMatch(new RegExp(`^refused ${ErrorCode.dataDirLocked} `));
        const winner = answerA === 'got' ? a : b;
        winner.proc.stdin?.write('release\n');
        expect(await winner.line()).toBe('released');
      }
    } finally {
      a.proc.stdin?.end();
      b.proc.stdin?.end();
      await Promise.all([a.exited, b.exited]);
    }
  }, 120_000);

  it('two frostkv processes started at the same moment: one runs, the other is refused naming it', async () => {
    for (let round = 0; round < kColdStartRounds; round++) {
      const dataDir = tempDir();
      if (round % 2 === 1) writeLockFile(dataDir, deadPid());
      const pair = [startChild(dataDir, 'open'), startChild(dataDir, 'open')];
      const answers = await Promise.all(pair.map((child) => child.line()));
      const winner = answers.findIndex((answer) => answer.startsWith('locked '));
      expect(winner, answers.join(' / ')).toBeGreaterThanOrEqual(0);
      const loser = 1 - winner;
      expect(answers[loser]).toMatch(new RegExp(`^refused ${ErrorCode.dataDirLocked} .*pid ${pair[winner]?.proc.pid}`));
      expect(await pair[loser]?.exited).toBe(3);
      await killHard(pair[winner] as Child);
    }
  }, 120_000);
});

describe('the lock helpers', () => {
  it('falls back to perl without flock(1); the two helpers exclude each other; neither is a clear error', async () => {
    const dataDir = tempDir();
    const viaFlock = startChild(dataDir, 'repl', [], { ...process.env, PATH: pathWith(['flock']) });
    const viaPerl = startChild(dataDir, 'repl', [], { ...process.env, PATH: pathWith(['perl']) });
    const viaNothing = startChild(dataDir, 'repl', [], { ...process.env, PATH: pathWith([]) });
    try {
      viaPerl.proc.stdin?.write('acquire\n');
      expect(await viaPerl.line()).toBe('got');
      viaFlock.proc.stdin?.write('acquire\n');
      expect(await viaFlock.line()).toMatch(new RegExp(`^refused ${ErrorCode.dataDirLocked} .*pid ${viaPerl.proc.pid}`));
      viaPerl.proc.stdin?.write('release\n');
      expect(await viaPerl.line()).toBe('released');
      viaFlock.proc.stdin?.write('acquire\n');
      expect(await viaFlock.line()).toBe('got');
      viaPerl.proc.stdin?.write('acquire\n');
      expect(await viaPerl.line()).toMatch(new RegExp(`^refused ${ErrorCode.dataDirLocked} .*pid ${viaFlock.proc.pid}`));
      viaNothing.proc.stdin?.write('acquire\n');
      expect(await viaNothing.line()).toMatch(new RegExp(`^refused ${ErrorCode.dataDirUnusable} .*none of flock, perl is installed`));
    } finally {
      for (const child of [viaFlock, viaPerl, viaNothing]) child.proc.stdin?.end();
      await Promise.all([viaFlock.exited, viaPerl.exited, viaNothing.exited]);
    }
  }, 30_000);
});

describe('what a refusal says', () => {
  it('names the holder process (pid and host), and says so when this process holds it', async () => {
    const dataDir = tempDir();
    const holder = startChild(dataDir, 'open');
    expect(await holder.line()).toBe(`locked ${holder.proc.pid}`);
    try {
      expect(() => acquireDataDirLock(dataDir)).toThrow(
        expect.objectContaining({ code: ErrorCode.dataDirLocked, message: expect.stringMatching(new RegExp(`pid ${holder.proc.pid} on host ${hostname()}`)) }),
      );
    } finally {
      await killHard(holder);
    }
    const mine = acquireDataDirLock(dataDir);
    expect(() => acquireDataDirLock(dataDir)).toThrow(expect.objectContaining({ code: ErrorCode.dataDirLocked, message: expect.stringContaining('this process already has it open') }));
    mine.release();
    expect(existsSync(join(dataDir, kLockFile))).toBe(false);
  }, 30_000);
});
