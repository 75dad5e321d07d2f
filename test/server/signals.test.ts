/**
 * Signals and exit codes of `frostkv serve`, against a real child process: SIGHUP (a closed
 * terminal or ssh session) and SIGPIPE are ignored and lose nothing; giving up on the final
 * save stops waiting for it at once, exits with its own code and says what is lost.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { open } from '../../src/database.js';
import { silentLogger } from '../../src/util/log.js';
import { kExitShutdownAbandoned } from '../../src/server/process-signals.js';
import { SkyClient } from '../support/skyhash.js';
import { freePort, spawnCli, type ChildServer } from '../support/server.js';
import { tempDir } from '../support/tmp.js';

const kOk = '*1\n!1\n0\n';

async function serveOn(dataDir: string, port: number): Promise<ChildServer> {
  const child = spawnCli(['--data-dir', dataDir, '--port', String(port), '--noart']);
  await child.waitFor(/ready to accept connections/);
  return child;
}

/** Restart on the data directory and read every key back. */
async function expectSaved(dataDir: string, keys: string[]): Promise<void> {
  const port = await freePort();
  const again = await serveOn(dataDir, port);
  const client = await SkyClient.connect(port);
  for (const key of keys) expect(await client.run('GET', key)).toBe(`*1\n?${`value of ${key}`.length}\nvalue of ${key}\n`);
  client.close();
  again.proc.kill('SIGTERM');
  expect((await again.exited).code).toBe(0);
}

async function set(client: SkyClient, key: string): Promise<void> {
  expect(await client.run('SET', key, `value of ${key}`)).toBe(kOk);
}

describe('frostkv serve: signals', () => {
  it('ignores SIGHUP (logged once) and SIGPIPE, keeps serving, and SIGTERM still saves every write', async () => {
    const dataDir = join(tempDir(), 'data');
    const port = await freePort();
    const child = await serveOn(dataDir, port);
    const client = await SkyClient.connect(port);
    await set(client, 'before-hup');
    child.proc.kill('SIGHUP');
    await child.waitFor(/SIGHUP received/);
    child.proc.kill('SIGHUP');
    child.proc.kill('SIGPIPE');
    await set(client, 'after-hup');
    client.close();
    child.proc.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.output().match(/SIGHUP/g)).toHaveLength(1);
    expect(child.output()).toMatch(/INFO: SIGHUP received: ignored/);
    expect(child.output()).toMatch(/shutdown complete/);
    await expectSaved(dataDir, ['before-hup', 'after-hup']);
  }, 60_000);

  it('loses nothing when the terminal is gone: SIGHUP with stdout closed, then SIGTERM', async () => {
    const dataDir = join(tempDir(), 'data');
    const port = await freePort();
    const child = await serveOn(dataDir, port);
    const client = await SkyClient.connect(port);
    await set(client, 'before-hup');
    // The terminal closes: every later log line meets a broken pipe (EPIPE).
    child.proc.stdout?.destroy();
    child.proc.kill('SIGHUP');
    await new Promise((resolve) => setTimeout(resolve, 300));
    await set(client, 'after-hup');
    client.close();
    child.proc.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(join(dataDir, 'frostkv.lock'))).toBe(false);
    await expectSaved(dataDir, ['before-hup', 'after-hup']);
  }, 60_000);

  it('gives up on a final save that is still running: exits at once with its own code, saying what is lost', async () => {
    const dataDir = join(tempDir(), 'data');
    // A data set whose final save takes a second or more, so the give-up lands during it.
    const db = await open({ server: { dataDir }, bgsave: { enabled: true, every: 3600 } }, { logger: silentLogger });
    const value = Buffer.alloc(3000, 120);
    const table = db.table();
    for (let i = 0; i < 100_000; i++) table.set(`key:${i}`, value);
    await db.close();
    const port = await freePort();
    const child = await serveOn(dataDir, port);
    const client = await SkyClient.connect(port);
    // Every segment changes, so the final save has to write the whole data set again.
    for (let i = 0; i < 100_000; i += 20) expect(await client.run('UPDATE', `key:${i}`, 'changed')).toBe(kOk);
    client.close();
    child.proc.kill('SIGINT');
    await child.waitFor(/SIGINT received: shutting down/);
    const gaveUpAt = Date.now();
    for (const left of [2, 1]) {
      child.proc.kill('SIGINT');
      await child.waitFor(new RegExp(`${left} more to give up`));
    }
    child.proc.kill('SIGINT');
    const exit = await child.exited;
    const output = child.output();
    expect(exit).toEqual({ code: kExitShutdownAbandoned, signal: null });
    expect(Date.now() - gaveUpAt).toBeLessThan(5_000);
    expect(output).toMatch(/giving up on the final save: 5000 changes since the last successful live save \(\d{4}-\d\d-\d\dT[\d:.]+Z, kept in .*ks\) are lost; exiting with code 3/);
    expect(output).not.toMatch(/shutdown complete/);
    expect(output).not.toMatch(/bgsave done/);
    // The previous live save is intact: the server starts on it.
    const port2 = await freePort();
    const again = await serveOn(dataDir, port2);
    const check = await SkyClient.connect(port2);
    expect(await check.run('DBSIZE')).toBe('*1\n:6\n100000\n');
    check.close();
    again.proc.kill('SIGTERM');
    expect((await again.exited).code).toBe(0);
  }, 120_000);

  it('documents the exit codes in --help', async () => {
    const child = spawnCli(['--help']);
    expect((await child.exited).code).toBe(0);
    expect(child.output()).toMatch(/Exit codes:/);
    expect(child.output()).toMatch(new RegExp(`\\b${kExitShutdownAbandoned}\\b.*gave up on the final save`, 's'));
  }, 30_000);
});
