/**
 * Named snapshots (`MKSNAP <name>`) never leave data/rsnap through a symlink below it: every
 * component under rsnap is resolved, and a name whose folder would land outside is refused
 * before anything is created. A symlinked rsnap itself (rsnap on another disk) stays allowed.
 * Real files and real symlinks; the embedded API runs the same code as the server's MKSNAP.
 */

import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, realpathSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database } from '../../src/database.js';
import { tempDir } from '../support/tmp.js';

async function withDb(dataDir: string, body: (db: Database) => Promise<void>): Promise<void> {
  const db = await open({ server: { dataDir }, bgsave: { enabled: false, every: 120 } }, { saveOnShutdown: false });
  try {
    db.table().set('k', 'v');
    await body(db);
  } finally {
    await db.close();
  }
}

/** A data directory whose rsnap/ holds `link` -> a directory outside the data directory. */
function dataDirWithEscape(): { dataDir: string; outside: string } {
  const root = tempDir();
  const dataDir = join(root, 'data');
  const outside = join(root, 'outside');
  mkdirSync(join(dataDir, 'rsnap'), { recursive: true });
  mkdirSync(outside);
  symlinkSync(outside, join(dataDir, 'rsnap', 'evil'));
  return { dataDir, outside };
}

describe('MKSNAP <name> and symlinks below rsnap/', () => {
  it('refuses evil/x when rsnap/evil is a symlink to a folder outside the data directory, and writes nothing there', async () => {
    const { dataDir, outside } = dataDirWithEscape();
    await withDb(dataDir, async (db) => {
      const result = await db.snapshot('evil/x');
      expect(result.code).toBe('invalid-name');
      expect(result.message).toMatch(/evil.*outside|leaves/);
    });
    expect(readdirSync(outside)).toEqual([]);
  });

  it('refuses deeper names through the symlink without creating any folder outside', async () => {
    const { dataDir, outside } = dataDirWithEscape();
    await withDb(dataDir, async (db) => {
      expect((await db.snapshot('evil/a/b/c')).code).toBe('invalid-name');
    });
    expect(readdirSync(outside)).toEqual([]);
  });

  it('refuses a name through a dangling symlink and creates nothing at its target', async () => {
    const root = tempDir();
    const dataDir = join(root, 'data');
    mkdirSync(join(dataDir, 'rsnap'), { recursive: true });
    const target = join(root, 'not-yet');
    symlinkSync(target, join(dataDir, 'rsnap', 'dangle'));
    await withDb(dataDir, async (db) => {
      expect((await db.snapshot('dangle/x')).code).not.toBe('ok');
      expect((await db.snapshot('dangle')).code).not.toBe('ok');
    });
    expect(existsSync(target)).toBe(false);
  });

  it('treats a symlink as the last component as taken (duplicate), never writing through it', async () => {
    const { dataDir, outside } = dataDirWithEscape();
    await withDb(dataDir, async (db) => {
      expect((await db.snapshot('evil')).code).toBe('duplicate');
    });
    expect(readdirSync(outside)).toEqual([]);
  });

  it('allows a symlink below rsnap that stays inside rsnap, publishing in the resolved folder', async () => {
    const dataDir = tempDir();
    mkdirSync(join(dataDir, 'rsnap', 'real'), { recursive: true });
    symlinkSync(join(dataDir, 'rsnap', 'real'), join(dataDir, 'rsnap', 'alias'));
    await withDb(dataDir, async (db) => {
      expect((await db.snapshot('alias/x')).code).toBe('ok');
    });
    expect(statSync(join(dataDir, 'rsnap', 'real', 'x', 'MANIFEST')).isFile()).toBe(true);
  });

  it('still allows rsnap itself to be a symlink to another disk (the offsite trick)', async () => {
    const root = tempDir();
    const dataDir = join(root, 'data');
    const offsite = join(root, 'offsite');
    mkdirSync(dataDir);
    mkdirSync(offsite);
    symlinkSync(offsite, join(dataDir, 'rsnap'));
    await withDb(dataDir, async (db) => {
      const result = await db.snapshot('nightly/1');
      expect(result.code).toBe('ok');
      expect(result.path).toBe(join(realpathSync(offsite), 'nightly', '1'));
    });
    expect(statSync(join(realpathSync(offsite), 'nightly', '1', 'MANIFEST')).isFile()).toBe(true);
  });

  it('creates missing parent folders of a nested name inside rsnap', async () => {
    const dataDir = tempDir();
    await withDb(dataDir, async (db) => {
      expect((await db.snapshot('a/b/c')).code).toBe('ok');
    });
    expect(statSync(join(dataDir, 'rsnap', 'a', 'b', 'c', 'MANIFEST')).isFile()).toBe(true);
  });
});
