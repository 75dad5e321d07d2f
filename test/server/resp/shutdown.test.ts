/**
 * RESP SHUTDOWN as Redis users send it: `frostkv serve` as a child process (the CLI) exits 0
 * after it, with or without its final save as asked; the argument rules and the refusal in
 * MULTI are Redis 7.0's; a save that fails keeps the server serving unless FORCE; an embedded
 * server stops without ending its host process.
 */

import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { withDefaults } from '../../../src/config/types.js';
import { newFaultPlan } from '../../../src/persist/fs-seam.js';
import type { FaultInjector } from '../../../src/persist/persistence.js';
import { FrostServer } from '../../../src/server/server.js';
import { MemoryLogger } from '../../../src/util/log.js';
import { freePort, spawnCli, type ChildServer } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';
import { RawClient } from './raw.js';

const kSyntax = 'ERR syntax error';
const kHasCli = spawnSync('sh', ['-c', 'command -v redis-cli'], { stdio: 'ignore' }).status === 0;
const kInCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';

const logText = (logger: MemoryLogger): string => logger.lines.map((line) => line.message).join('\n');

const children: ChildServer[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.proc.exitCode === null && child.proc.signalCode === null) {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
  }
});

async function serve(dataDir: string, extra: string[] = []): Promise<{ child: ChildServer; respPort: number }> {
  const port = await freePort();
  const respPort = await freePort();
  const child = spawnCli(['--data-dir', dataDir, '--port', String(port), '--resp-port', String(respPort), '--noart', ...extra]);
  children.push(child);
  await child.waitFor(/ready to accept connections/, 30_000);
  return { child, respPort };
}

describe('SHUTDOWN against frostkv serve', () => {
  it('saves, closes the connection without a reply, and exits 0; a restart reads the write back', async () => {
    const dataDir = tempDir();
    const { child, respPort } = await serve(dataDir);
    const client = await RawClient.connect(respPort);
    expect(await client.call('SET', 'k', 'v1')).toEqual({ t: '+', v: 'OK' });
    const before = client.bytes.length;
    client.write('*1\r\n$8\r\nSHUTDOWN\r\n');
    await client.waitClosed(30_000);
    expect(client.bytes.length, 'no reply to SHUTDOWN').toBe(before);
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.output()).toMatch(/SHUTDOWN from client \d+: shutting down/);
    const again = await serve(dataDir);
    const reader = await RawClient.connect(again.respPort);
    expect(await reader.call('GET', 'k')).toMatchObject({ t: '$', v: Buffer.from('v1') });
    reader.destroy();
  });

  it('NOSAVE exits 0 without the final save: the write since the last save is gone', async () => {
    const dataDir = tempDir();
    const { child, respPort } = await serve(dataDir);
    const client = await RawClient.connect(respPort);
    expect(await client.call('SET', 'kept', '1')).toEqual({ t: '+', v: 'OK' });
    expect(await client.call('SAVE')).toEqual({ t: '+', v: 'OK' });
    expect(await client.call('SET', 'lost', '2')).toEqual({ t: '+', v: 'OK' });
    client.write('*2\r\n$8\r\nshutdown\r\n$6\r\nnosave\r\n');
    await client.waitClosed(30_000);
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.output()).toMatch(/shutting down without the final save/);
    const again = await serve(dataDir);
    const reader = await RawClient.connect(again.respPort);
    expect(await reader.call('GET', 'kept')).toMatchObject({ t: '$', v: Buffer.from('1') });
    expect(await reader.call('GET', 'lost')).toMatchObject({ t: '$', v: null });
    reader.destroy();
  });

  it('SAVE saves even when the server runs with --nosave', async () => {
    const dataDir = tempDir();
    const { child, respPort } = await serve(dataDir, ['--nosave']);
    const client = await RawClient.connect(respPort);
    expect(await client.call('SET', 'k', 'saved')).toEqual({ t: '+', v: 'OK' });
    client.write('*2\r\n$8\r\nSHUTDOWN\r\n$4\r\nSAVE\r\n');
    await client.waitClosed(30_000);
    expect(await child.exited).toEqual({ code: 0, signal: null });
    const again = await serve(dataDir, ['--nosave']);
    const reader = await RawClient.connect(again.respPort);
    expect(await reader.call('GET', 'k')).toMatchObject({ t: '$', v: Buffer.from('saved') });
    reader.destroy();
  });

  it("answers Redis's errors for bad arguments, ABORT and MULTI, and keeps serving", async () => {
    const { child, respPort } = await serve(tempDir());
    const client = await RawClient.connect(respPort);
    for (const args of [['FOO'], ['SAVE', 'NOSAVE'], ['ABORT', 'NOW'], ['NOSAVE', 'ABORT']]) {
      expect(await client.call('SHUTDOWN', ...args), args.join(' ')).toEqual({ t: '-', v: kSyntax });
    }
    expect(await client.call('SHUTDOWN', 'ABORT')).toEqual({ t: '-', v: 'ERR No shutdown in progress.' });
    expect(await client.call('MULTI')).toEqual({ t: '+', v: 'OK' });
    expect(await client.call('SHUTDOWN')).toEqual({ t: '-', v: 'ERR Command not allowed inside a transaction' });
    expect(await client.call('EXEC')).toMatchObject({ t: '-', v: expect.stringMatching(/^EXECABORT/) });
    expect(await client.call('PING')).toEqual({ t: '+', v: 'PONG' });
    expect(child.proc.exitCode).toBeNull();
    client.destroy();
  });

  it.skipIf(!kHasCli && !kInCi)('redis-cli SHUTDOWN stops the server and exits 0', async () => {
    const { child, respPort } = await serve(tempDir());
    const run = spawnSync('redis-cli', ['-p', String(respPort), 'SHUTDOWN'], { encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(0);
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });
});

describe('SHUTDOWN on an embedded server', () => {
  async function embedded(faults: FaultInjector): Promise<{ server: FrostServer; logger: MemoryLogger }> {
    const config = withDefaults({
      server: { dataDir: tempDir(), port: 0 },
      bgsave: { enabled: true, every: 120 },
      resp: { enabled: true, port: 0 },
      workers: { threads: 1 },
    });
    const logger = new MemoryLogger();
    const server = await FrostServer.start(config, { logger, saveOnShutdown: true, faults });
    return { server, logger };
  }

  it('a failing save answers the error and keeps serving; FORCE then stops anyway, and the host keeps running', async () => {
    const faults: FaultInjector = { plan: null };
    const { server, logger } = await embedded(faults);
    const client = await RawClient.connect(server.addresses.resp?.port ?? 0);
    expect(await client.call('SET', 'k', 'v')).toEqual({ t: '+', v: 'OK' });
    faults.plan = newFaultPlan('write', 1, true);
    expect(await client.call('SHUTDOWN')).toEqual({ t: '-', v: 'ERR Errors trying to SHUTDOWN. Check logs.' });
    expect(logText(logger)).toMatch(/the save before stopping failed, so frostkv keeps serving/);
    expect(await client.call('PING')).toEqual({ t: '+', v: 'PONG' });
    client.write('*2\r\n$8\r\nSHUTDOWN\r\n$5\r\nFORCE\r\n');
    await client.waitClosed(30_000);
    expect(logText(logger)).toMatch(/FORCE: the save before stopping failed .* writes since the last successful save are lost/);
    // The server closed its listeners and database; this process (its host) is still here.
    const deadline = Date.now() + 30_000;
    while (!server.db.engine.isClosed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(server.db.engine.isClosed).toBe(true);
    await expect(RawClient.connect(server.addresses.resp?.port ?? 0)).rejects.toThrow();
  });
});
