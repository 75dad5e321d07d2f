import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { open } from '../../src/database.js';
import { createWorkerPool, type WorkerPool } from '../../src/persist/worker-pool.js';
import { restoreSave, verifySave } from '../../src/persist/restore.js';
import { tempDir } from '../support/tmp.js';

let pool: WorkerPool;
let dataDir: string;
let localName: string;

beforeAll(async () => {
  pool = createWorkerPool(2);
  dataDir = tempDir();
  const db = await open({ server: { dataDir }, snapshot: { enabled: true, every: 3600, atmost: 0, failsafe: true } }, { saveOnShutdown: false });
  db.createKeyspace('app');
  db.createTable('app:t', 'keymap(str,str)');
  db.table().set('state', 'A');
  db.table('app:t').set('x', 'in A');
  expect((await db.snapshot('state-a')).code).toBe('ok');
  const local = await db.snapshot();
  expect(local.code).toBe('ok');
  localName = local.name!;
  db.table().set('state', 'B');
  db.dropTable('app:t');
  expect((await db.save()).ok).toBe(true);
  await db.close();
});
afterAll(async () => {
  await pool.destroy();
});

function copyOfData(): string {
  const dir = tempDir();
  cpSync(dataDir, dir, { recursive: true });
  return dir;
}

describe('restore', () => {
  for (const source of ['rsnap/state-a', 'snaps/local', 'a copy elsewhere']) {
    it(`installs a verified save from ${source} and keeps the replaced live save in backups/`, async () => {
      const dir = copyOfData();
      let from = source === 'rsnap/state-a' ? join(dir, 'rsnap', 'state-a') : join(dir, 'snaps', localName);
      if (source === 'a copy elsewhere') {
        from = join(tempDir(), 'exported');
        cpSync(join(dir, 'rsnap', 'state-a'), from, { recursive: true });
      }
      const db = await open({ server: { dataDir: dir }, restore: from }, { saveOnShutdown: false });
      expect(db.table().getString('state')).toBe('A');
      expect(db.table('app:t').getString('x')).toBe('in A');
      await db.close();
      const backups = readdirSync(join(dir, 'backups'));
      expect(backups.length).toBe(1);
      const backup = join(dir, 'backups', backups[0]!);
      expect((await verifySave(pool, backup)).ok).toBe(true);
      const old = await open({ server: { dataDir: tempDir() }, restore: backup }, { saveOnShutdown: false });
      expect(old.table().getString('state')).toBe('B');
      expect(old.tables('app')).toEqual([]);
      await old.close();
    });
  }

  it('works offline into a stopped data directory and refuses the live save itself', async () => {
    const dir = copyOfData();
    const report = await restoreSave(pool, dir, join(dir, 'rsnap', 'state-a'));
    expect(report.backup).not.toBeNull();
    expect(existsSync(join(dir, 'ks', 'MANIFEST'))).toBe(true);
    await expect(restoreSave(pool, dir, join(dir, 'ks'))).rejects.toThrow(expect.objectContaining({ code: 'ERR_RESTORE_REFUSED' }));
    await expect(restoreSave(pool, dir, join(dir, 'no-such-folder'))).rejects.toThrow(expect.objectContaining({ code: 'ERR_RESTORE_REFUSED' }));
    const db = await open({ server: { dataDir: dir } }, { saveOnShutdown: false });
    expect(db.table().getString('state')).toBe('A');
    await db.close();
  });

  it('restores into an empty data directory without making a backup', async () => {
    const dir = tempDir();
    const db = await open({ server: { dataDir: dir }, restore: join(dataDir, 'rsnap', 'state-a') }, { saveOnShutdown: false });
    expect(db.table().getString('state')).toBe('A');
    await db.close();
    expect(existsSync(join(dir, 'backups'))).toBe(false);
  });
});
