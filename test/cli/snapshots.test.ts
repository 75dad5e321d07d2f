import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { open } from '../../src/database.js';
import { parseManifest, serializeManifest } from '../../src/persist/format.js';
import { freePort, spawnCli } from '../support/server.js';
import { tempDir } from '../support/tmp.js';

async function makeData(): Promise<{ dataDir: string; local: string }> {
  const dataDir = tempDir();
  const db = await open({ server: { dataDir }, snapshot: { enabled: true, every: 3600, atmost: 0, failsafe: true } }, { saveOnShutdown: false });
  for (let i = 0; i < 1_000; i++) db.table().set(`k${i}`, `v${i}`);
  expect((await db.snapshot('release/1')).code).toBe('ok');
  const local = await db.snapshot();
  db.table().set('later', 'x');
  expect((await db.save()).ok).toBe(true);
  await db.close();
  return { dataDir, local: local.name! };
}

describe('frostkv snapshots (offline commands)', () => {
  it('lists every save with its cut time, keys and size', async () => {
    const { dataDir, local } = await makeData();
    const run = spawnCli(['snapshots', 'list', '--data-dir', dataDir]);
    expect((await run.exited).code).toBe(0);
    const lines = run.output().trim().split('\n');
    expect(lines[0]).toMatch(/^SAVE\s+KIND\s+CUT TIME\s+KEYS\s+SIZE$/);
    expect(lines.some((line) => /^ks\s+live\s+\d{4}-\d\d-\d\d .* UTC\s+1001\s/.test(line))).toBe(true);
    expect(lines.some((line) => new RegExp(`^snaps/${local}\\s+local\\s.*\\s1000\\s`).test(line))).toBe(true);
    expect(lines.some((line) => /^rsnap\/release\/1\s+named\s.*\s1000\s/.test(line))).toBe(true);
  }, 30_000);

  it('verifies a good snapshot (exit 0) and names the bad file of a corrupt one (exit 1)', async () => {
    const { dataDir } = await makeData();
    const folder = join(dataDir, 'rsnap', 'release', '1');
    const good = spawnCli(['snapshots', 'verify', folder]);
    expect((await good.exited).code).toBe(0);
    expect(good.output()).toMatch(/OK — 1000 keys/);
    const part = readdirSync(join(folder, 'default', 'default'))[0]!;
    const path = join(folder, 'default', 'default', part);
    const bytes = readFileSync(path);
    bytes[10] = (bytes[10] as number) ^ 0x40;
    writeFileSync(path, bytes);
    const bad = spawnCli(['snapshots', 'verify', folder]);
    expect((await bad.exited).code).toBe(1);
    expect(bad.output()).toMatch(new RegExp(`BAD[\\s\\S]*${part.replace('.', '\\.')}[\\s\\S]*checksum`));
  }, 30_000);

  it('refuses (exit 1) a snapshot whose manifest lost a data file, naming the hash range it misses', async () => {
    const dataDir = tempDir();
    const db = await open({ server: { dataDir }, bgsave: { enabled: false, every: 120 } }, { saveOnShutdown: false });
    for (let i = 0; i < 100_000; i++) db.table().set(`k${i}`, `v${i}`);
    expect((await db.snapshot('two-files')).code).toBe('ok');
    await db.close();
    const folder = join(dataDir, 'rsnap', 'two-files');
    const manifest = parseManifest(readFileSync(join(folder, 'MANIFEST')), folder);
    const table = manifest.keyspaces[0]!.tables[0]!;
    expect(table.files.length).toBeGreaterThan(1);
    const dropped = table.files.pop()!;
    table.records -= dropped.records;
    manifest.totals.records -= dropped.records;
    manifest.totals.files -= 1;
    writeFileSync(join(folder, 'MANIFEST'), serializeManifest(manifest));
    const run = spawnCli(['snapshots', 'verify', folder]);
    expect((await run.exited).code).toBe(1);
    expect(run.output()).toMatch(/BAD[\s\S]*blocks cover the hash space failed: table default:default: hash range [0-9a-f]{8}\.\.[0-9a-f]{8} is in no block/);
  }, 30_000);

  it('restores into a stopped data directory, and refuses while a server holds it', async () => {
    const { dataDir } = await makeData();
    const restored = spawnCli(['snapshots', 'restore', join(dataDir, 'rsnap', 'release', '1'), '--data-dir', dataDir]);
    expect((await restored.exited).code).toBe(0);
    expect(restored.output()).toMatch(/restored .* \(1000 keys/);
    expect(readdirSync(join(dataDir, 'backups')).length).toBe(1);
    const db = await open({ server: { dataDir } }, { saveOnShutdown: false });
    expect(db.table().has('later')).toBe(false);
    await db.close();

    const server = spawnCli(['--data-dir', dataDir, '--port', String(await freePort()), '--noart']);
    await server.waitFor(/ready to accept connections/);
    const refused = spawnCli(['snapshots', 'restore', join(dataDir, 'rsnap', 'release', '1'), '--data-dir', dataDir]);
    expect((await refused.exited).code).toBe(1);
    expect(refused.output()).toMatch(new RegExp(`refusing to restore: .*pid ${server.proc.pid}`));
    server.proc.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  }, 60_000);

  it('list refuses (exit 1) a data directory that does not exist or is a file, naming it once', async () => {
    const missing = join(tempDir(), 'nowhere');
    const run = spawnCli(['snapshots', 'list', '--data-dir', missing]);
    expect((await run.exited).code).toBe(1);
    expect(run.output()).not.toContain('(no saves');
    expect(run.output()).toMatch(new RegExp(`^error: the data directory ${missing} does not exist\n$`));
    const file = join(tempDir(), 'file');
    writeFileSync(file, 'x');
    const onFile = spawnCli(['snapshots', 'list', '--data-dir', file]);
    expect((await onFile.exited).code).toBe(1);
    expect(onFile.output()).toMatch(new RegExp(`^error: the data directory ${file} is a regular file, not a directory\n$`));
    const empty = spawnCli(['snapshots', 'list', '--data-dir', tempDir()]);
    expect((await empty.exited).code).toBe(0);
    expect(empty.output()).toMatch(/\(no saves in /);
  }, 30_000);

  it('verify prints each path once: a missing folder, and a folder with a corrupt MANIFEST', async () => {
    const missing = join(tempDir(), 'gone');
    const gone = spawnCli(['snapshots', 'verify', missing]);
    expect((await gone.exited).code).toBe(1);
    expect(gone.output().split(missing).length - 1, gone.output()).toBe(1);
    expect(gone.output()).toMatch(/does not exist/);
    const folder = tempDir();
    writeFileSync(join(folder, 'MANIFEST'), 'junk');
    const bad = spawnCli(['snapshots', 'verify', folder]);
    expect((await bad.exited).code).toBe(1);
    expect(bad.output().split(folder).length - 1, bad.output()).toBe(1);
    expect(bad.output()).toMatch(/BAD[\s\S]*MANIFEST: manifest checksum line failed/);
  }, 30_000);
});
