/**
 * maxclient as Redis handles it: the open-files limit is raised toward the hard limit, a
 * maxclient that still does not fit is lowered (logged once) instead of warned about or refused
 * in prod mode, a connection past the limit gets an error before the close, and running out of
 * file descriptors is logged.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { helpText } from '../../src/config/load.js';
import { readOpenFilesLimits, raiseOpenFilesLimit } from '../../src/config/rlimit.js';
import { FdWatch } from '../../src/server/admission.js';
import { MemoryLogger } from '../../src/util/log.js';
import { freePort, kCliEntry, startInProcess, type InProcessServer } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { makeTlsFixture } from '../support/tls.js';
import { peer } from '../support/peer.js';

const kReplyWithinMs = 3_000;

/** Connect, send `hello`, and collect everything until the server closes (or the deadline). */
async function talk(port: number, hello: string, settleMs = 200): Promise<{ text: string; closed: boolean; socket: Socket }> {
  const client = await peer(port);
  client.socket.write(hello);
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), kReplyWithinMs);
    void client.closed.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
    // A served connection answers and stays open: wait for its reply, then a little longer.
    client.socket.once('data', () => setTimeout(() => resolve(client.socket.destroyed), settleMs));
  });
  return { text: client.text(), closed, socket: client.socket };
}

describe('a connection past maxclient', () => {
  let server: InProcessServer;
  afterAll(async () => {
    await server?.stop();
  });

  it('gets RESP "-ERR max number of clients reached" or a Skyhash error element, then the close', async () => {
    server = await startInProcess({ server: { maxclient: 2 } }, { resp: true });
    const first = await talk(server.respPort as number, 'PING\r\n');
    const second = await talk(server.port, '*1\n~1\n4\nHEYA\n');
    expect([first.text, first.closed]).toEqual(['+PONG\r\n', false]);
    expect([second.text, second.closed]).toEqual(['*1\n+4\nHEY!\n', false]);

    const resp = await talk(server.respPort as number, 'PING\r\n');
    expect([resp.text, resp.closed]).toEqual(['-ERR max number of clients reached\r\n', true]);
    const skyhash = await talk(server.port, '*1\n~1\n4\nHEYA\n');
    expect([skyhash.text, skyhash.closed]).toEqual(['*1\n!23\nerr-max-clients-reached\n', true]);

    first.socket.write('INFO stats\r\n');
    const stats = await new Promise<string>((resolve) => first.socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1'))));
    expect(stats).toContain('rejected_connections:2\r\n');
    first.socket.destroy();
    second.socket.destroy();
  });
});

describe('the documentation of maxclient', () => {
  it('--help and frostkv.example.toml say what a connection past it gets, not that it waits', () => {
    const example = readFileSync(new URL('../../frostkv.example.toml', import.meta.url), 'utf8');
    for (const text of [helpText(), example]) {
      expect(text).toContain('-ERR max number of clients reached');
      expect(text).toContain('err-max-clients-reached');
      expect(text).not.toMatch(/connections\s+wait/);
    }
  });
});

describe('the open-files limit', () => {
  it('raises the soft limit of a process toward its hard limit (prlimit on that pid)', async () => {
    const child = spawn('bash', ['-c', 'ulimit -Sn 256 && exec sleep 30'], { stdio: 'ignore' });
    try {
      const pid = child.pid as number;
      const deadline = Date.now() + 5_000;
      while (readOpenFilesLimits(pid).soft !== 256 || !readFileSync(`/proc/${pid}/cmdline`, 'latin1').startsWith('sleep')) {
        if (Date.now() > deadline) throw new Error('the child never lowered its limit');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const hard = readOpenFilesLimits(pid).hard as number;
      expect(hard).toBeGreaterThan(300);
      expect(raiseOpenFilesLimit(300, pid)).toEqual({ soft: 300, hard });
      expect(raiseOpenFilesLimit(hard + 1_000_000, pid)).toEqual({ soft: hard, hard });
      // Already high enough: nothing to do, nothing changes.
      expect(raiseOpenFilesLimit(10, pid)).toEqual({ soft: hard, hard });
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('logs running out of file descriptors, at most once per interval', async () => {
    const logger = new MemoryLogger();
    const files: number[] = [];
    try {
      for (let i = 0; i < 8; i++) files.push(openSync(kCliEntry, 'r'));
      // The limit as if these files had used up the last descriptors.
      const watch = new FdWatch(logger, () => files[files.length - 1] as number);
      await watch.sample();
      await watch.sample();
      expect(watch.listenerError(Object.assign(new Error('accept EMFILE'), { code: 'EMFILE' }))).toBe(true);
      expect(watch.listenerError(Object.assign(new Error('accept ECONNABORTED'), { code: 'ECONNABORTED' }))).toBe(false);
      expect(watch.exhaustedCount).toBe(3);
      const warnings = logger.lines.filter((line) => line.level === 'warn');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]?.message).toMatch(/^out of file descriptors \([0-9]+ of [0-9]+ file descriptors are open\)/);
    } finally {
      for (const fd of files) closeSync(fd);
    }
    // Plenty of room: no warning.
    const calm = new MemoryLogger();
    await new FdWatch(calm, () => 1_000_000).sample();
    expect(calm.lines).toEqual([]);
  });
});

interface Child {
  output(): string;
  waitFor(pattern: RegExp): Promise<void>;
  kill(): Promise<number | null>;
}

/** The CLI under a hard and soft open-files limit of `files` (set by bash before exec). */
function cliWithFiles(files: number, args: string[]): Child {
  const proc = spawn('bash', ['-c', `ulimit -n ${files} && exec "$0" "$@"`, process.execPath, '--import', 'tsx', kCliEntry, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  proc.stdout.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  proc.stderr.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  return {
    output: () => text,
    async waitFor(pattern: RegExp): Promise<void> {
      const deadline = Date.now() + 30_000;
      while (!pattern.test(text)) {
        if (done) throw new Error(`the server exited before printing ${String(pattern)}:\n${text}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(pattern)}:\n${text}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    kill(): Promise<number | null> {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

describe('the default maxclient under a low open-files limit', () => {
  it('starts in prod mode, lowers maxclient to fit (logged once, no warning), and refuses one more with an error', async () => {
    const dir = tempDir();
    const [port, respPort, sslPort] = [await freePort(), await freePort(), await freePort()];
    // Prod mode needs TLS (Skytable 0.7's rule): a generated certificate, with its TLS port beside the plain one.
    const tls = makeTlsFixture();
    const ssl = ['--sslkey', tls.key, '--sslchain', tls.chain, '--sslport', String(sslPort)];
    const child = cliWithFiles(200, ['--mode', 'prod', '--noart', '--port', String(port), '--resp-port', String(respPort), ...ssl, '--data-dir', join(dir, 'data')]);
    let exitCode: number | null = null;
    try {
      await child.waitFor(/ready to accept connections/);
      const lowered = /maxclient lowered from 50000 to ([0-9]+): the open-files limit is 200 \(hard limit 200\)/.exec(child.output());
      expect(lowered, child.output()).not.toBeNull();
      expect(child.output().match(/maxclient lowered/g)).toHaveLength(1);
      expect(child.output()).not.toMatch(/WARN.*maxclient/);
      const maxclient = Number(lowered?.[1]);
      expect(maxclient).toBeGreaterThan(10);
      expect(maxclient).toBeLessThanOrEqual(200 - 32);

      const info = await talk(respPort, 'INFO clients\r\n');
      expect(info.text).toContain(`maxclients:${maxclient}\r\n`);
      const held: Socket[] = [info.socket];
      for (let i = 1; i < maxclient; i++) {
        const served = await talk(i % 2 === 0 ? respPort : port, i % 2 === 0 ? 'PING\r\n' : '*1\n~1\n4\nHEYA\n', 0);
        expect(served.closed, `connection ${i + 1}`).toBe(false);
        held.push(served.socket);
      }
      const refused = await talk(respPort, 'PING\r\n');
      expect([refused.text, refused.closed]).toEqual(['-ERR max number of clients reached\r\n', true]);
      for (const socket of held) socket.destroy();
    } finally {
      exitCode = await child.kill();
    }
    expect(exitCode).toBe(0);
  }, 60_000);
});
