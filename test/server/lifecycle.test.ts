import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SkyClient } from '../support/skyhash.js';
import { freePort, spawnCli, type ChildServer } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { kExitShutdownAbandoned } from '../../src/server/process-signals.js';

const failingServe = fileURLToPath(new URL('./fixtures/serve-failing-saves.ts', import.meta.url));

async function ready(child: ChildServer): Promise<void> {
  await child.waitFor(/ready to accept connections/);
}

async function waitFor(condition: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('frostkv as a user runs it', () => {
  it('serves from a config file, snapshots, saves on SIGTERM with exit 0, and reads everything back after a restart', async () => {
    const dir = tempDir();
    const port = await freePort();
    const configFile = join(dir, 'frostkv.toml');
    writeFileSync(
      configFile,
      [
        '[server]',
        `port = ${port}`,
        'noart = true',
        `data_dir = "${join(dir, 'data')}"`,
        '[bgsave]',
        'every = 3600',
        '[snapshot]',
        'every = 600',
        'atmost = 4',
        '',
      ].join('\n'),
    );
    const first = spawnCli(['-c', configFile]);
    await ready(first);
    expect(first.output()).toMatch(/setting snapshot\.every = 600 \(from .*frostkv\.toml\)/);
    const client = await SkyClient.connect(port);
    expect(await client.run('CREATE', 'KEYSPACE', 'app')).toBe('*1\n!1\n0\n');
    expect(await client.run('CREATE', 'TABLE', 'app:notes', 'keymap(str,str)')).toBe('*1\n!1\n0\n');
    expect(await client.run('USE', 'app:notes')).toBe('*1\n!1\n0\n');
    for (let i = 0; i < 500; i++) expect(await client.run('SET', `note:${i}`, `text ${i} ✓`)).toBe('*1\n!1\n0\n');
    expect(await client.run('MKSNAP')).toBe('*1\n!1\n0\n');
    expect(await client.run('MKSNAP', 'before-edit')).toBe('*1\n!1\n0\n');
    expect(await client.run('UPDATE', 'note:0', 'edited')).toBe('*1\n!1\n0\n');
    client.close();
    first.proc.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.output()).toMatch(/bgsave done: 500 keys/);
    expect(first.output()).toMatch(/shutdown complete/);
    expect(readdirSync(join(dir, 'data', 'snaps')).length).toBe(1);
    expect(existsSync(join(dir, 'data', 'rsnap', 'before-edit', 'MANIFEST'))).toBe(true);
    expect(existsSync(join(dir, 'data', 'frostkv.lock'))).toBe(false);

    const second = spawnCli(['-c', configFile]);
    await ready(second);
    const again = await SkyClient.connect(port);
    expect(await again.run('USE', 'app:notes')).toBe('*1\n!1\n0\n');
    expect(await again.run('DBSIZE')).toBe('*1\n:3\n500\n');
    expect(await again.run('GET', 'note:0')).toBe('*1\n+6\nedited\n');
    expect(await again.run('GET', 'note:499')).toBe(`*1\n+${Buffer.byteLength('text 499 ✓')}\n${Buffer.from('text 499 ✓').toString('latin1')}\n`);
    again.close();
    second.proc.kill('SIGINT');
    expect((await second.exited).code).toBe(0);

    // --restore: start on the named snapshot; the replaced live save is kept in backups/.
    const third = spawnCli(['-c', configFile, '--restore', join(dir, 'data', 'rsnap', 'before-edit')]);
    await ready(third);
    const restored = await SkyClient.connect(port);
    expect(await restored.run('USE', 'app:notes')).toBe('*1\n!1\n0\n');
    expect(await restored.run('GET', 'note:0')).toBe(`*1\n+${Buffer.byteLength('text 0 ✓')}\n${Buffer.from('text 0 ✓').toString('latin1')}\n`);
    restored.close();
    third.proc.kill('SIGTERM');
    expect((await third.exited).code).toBe(0);
    expect(readdirSync(join(dir, 'data', 'backups')).length).toBe(1);
  }, 90_000);

  it('refuses writes with code 5 while snapshots cannot be written, keeps serving reads, and recovers', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const port = await freePort();
    const server = spawnCli(['--data-dir', dataDir, '--port', String(port), '--noart', '--snapevery', '1', '--snapkeep', '2']);
    await ready(server);
    const client = await SkyClient.connect(port);
    expect(await client.run('SET', 'k', 'v')).toBe('*1\n!1\n0\n');
    // Root ignores permission bits, so the snapshot folder is made unusable by putting a file
    // where the folder must be: creating a snapshot inside it fails for every user.
    await waitFor(async () => existsSync(join(dataDir, 'snaps')), 'the first snapshot');
    // Renamed, not deleted: a snapshot may be writing inside it right now.
    renameSync(join(dataDir, 'snaps'), join(dir, 'old-snaps'));
    writeFileSync(join(dataDir, 'snaps'), 'not a folder');
    let attempt = 0;
    const trySet = async (): Promise<string> => client.run('SET', `attempt:${attempt++}`, 'v');
    await waitFor(async () => (await trySet()) === '*1\n!1\n5\n', 'writes to be refused');
    expect(await client.run('GET', 'k')).toBe('*1\n?1\nv\n');
    expect(await client.run('SYS', 'METRIC', 'health')).toBe('*1\n+8\ncritical\n');
    expect(await client.run('MKSNAP', 'still-works')).toBe('*1\n!1\n0\n');
    expect(server.output()).toMatch(/entering read-only mode/);
    rmSync(join(dataDir, 'snaps'));
    await waitFor(async () => (await trySet()) === '*1\n!1\n0\n', 'writes to come back');
    expect(await client.run('SYS', 'METRIC', 'health')).toBe('*1\n+4\ngood\n');
    client.close();
    server.proc.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  }, 60_000);

  it('gives up on a failing final save after three more signals, exiting non-zero and saying what is lost', async () => {
    const dir = tempDir();
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', failingServe, '--data-dir', join(dir, 'data'), '--port', String(port), '--noart'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await waitFor(async () => /ready to accept connections/.test(output), 'the server');
    const client = await SkyClient.connect(port);
    expect(await client.run('SET', 'k', 'v')).toBe('*1\n!1\n0\n');
    client.close();
    child.kill('SIGTERM');
    await waitFor(async () => /final save attempt 1 failed/.test(output), 'the first failed attempt');
    // One signal at a time: two identical signals pending together would be delivered once.
    child.kill('SIGTERM');
    await waitFor(async () => /still shutting down; 2 more to give up/.test(output), 'the second signal');
    child.kill('SIGINT');
    await waitFor(async () => /still shutting down; 1 more to give up/.test(output), 'the third signal');
    child.kill('SIGTERM');
    expect(await exited).toBe(kExitShutdownAbandoned);
    expect(output).toMatch(/giving up on the final save: 1 changes since start \(no live save had completed\) are lost/);
  }, 60_000);

  it('refuses a second server on the same data directory and exits 1 naming the holder', async () => {
    const dataDir = join(tempDir(), 'data');
    const first = spawnCli(['--data-dir', dataDir, '--port', String(await freePort()), '--noart']);
    await ready(first);
    const second = spawnCli(['--data-dir', dataDir, '--port', String(await freePort()), '--noart']);
    expect((await second.exited).code).toBe(1);
    expect(second.output()).toMatch(new RegExp(`pid ${first.proc.pid}`));
    first.proc.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
  }, 60_000);

  it('prints every problem of a bad configuration with its key path and exits 2', async () => {
    const dir = tempDir();
    const configFile = join(dir, 'bad.toml');
    writeFileSync(configFile, '[server]\nport = 0\nmaxcon = "lots"\n[snapshot]\nevery = 10\n[nosuch]\nkey = 1\n');
    const child = spawnCli(['-c', configFile]);
    expect((await child.exited).code).toBe(2);
    const text = child.output();
    expect(text).toContain('bad value for `server.port`');
    expect(text).toContain('server.maxclient');
    expect(text).toContain('snapshot.atmost');
    expect(text).toContain('nosuch');
  }, 30_000);
});
