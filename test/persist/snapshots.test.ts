import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { open } from '../../src/database.js';
import { isSafeSnapshotName, snapshotNameFor } from '../../src/persist/format.js';
import { MemoryLogger } from '../../src/util/log.js';
import { tempDir } from '../support/tmp.js';

const snapshotsOn = (atmost: number) => ({ snapshot: { enabled: true, every: 3600, atmost, failsafe: true } });

function localNames(dataDir: string): string[] {
  return readdirSync(join(dataDir, 'snaps')).filter((name) => /^\d{8}-\d{6}$/.test(name)).sort();
}

async function nextSecond(): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1_000 - (Date.now() % 1_000) + 20));
}

describe('local snapshots and retention', () => {
  it('keep the newest `atmost` by name, counting pre-existing folders and ignoring unknown entries', async () => {
    const dataDir = tempDir();
    mkdirSync(join(dataDir, 'snaps', '20200101-000000'), { recursive: true });
    mkdirSync(join(dataDir, 'snaps', '20200102-000000'));
    mkdirSync(join(dataDir, 'snaps', '20200103-000000'));
    mkdirSync(join(dataDir, 'snaps', 'manual-backup'));
    writeFileSync(join(dataDir, 'snaps', 'notes.txt'), 'keep me');
    const logger = new MemoryLogger();
    const db = await open({ server: { dataDir }, ...snapshotsOn(2) }, { logger, saveOnShutdown: false });
    expect(logger.has('warn', /notes\.txt/)).toBe(true);
    expect(logger.has('warn', /manual-backup/)).toBe(true);
    expect(db.status().persistence!.snapshotCount).toBe(3);
    db.table().set('k', 'v');
    const made = await db.snapshot();
    expect(made.code).toBe('ok');
    expect(localNames(dataDir)).toEqual(['20200103-000000', made.name]);
    expect(db.status().persistence!.snapshotCount).toBe(2);
    expect(readFileSync(join(dataDir, 'snaps', 'notes.txt'), 'utf8')).toBe('keep me');
    expect(existsSync(join(dataDir, 'snaps', 'manual-backup'))).toBe(true);
    await db.close();

    // After a restart with atmost lowered, the next snapshot prunes down to the new limit.
    const again = await open({ server: { dataDir }, ...snapshotsOn(1) }, { saveOnShutdown: false });
    await nextSecond();
    const second = await again.snapshot();
    expect(second.code).toBe('ok');
    expect(localNames(dataDir)).toEqual([second.name]);
    await again.close();
  });

  it('keep every snapshot when atmost is 0, and never prune named snapshots', async () => {
    const dataDir = tempDir();
    mkdirSync(join(dataDir, 'snaps', '20200101-000000'), { recursive: true });
    const db = await open({ server: { dataDir }, ...snapshotsOn(0) }, { saveOnShutdown: false });
    expect((await db.snapshot('named-a')).code).toBe('ok');
    expect((await db.snapshot()).code).toBe('ok');
    expect(localNames(dataDir).length).toBe(2);
    expect(existsSync(join(dataDir, 'rsnap', 'named-a', 'MANIFEST'))).toBe(true);
    await db.close();
  });

  it('never overwrite a folder that already has the name of this second', async () => {
    const dataDir = tempDir();
    const now = Date.now();
    // Every second the snapshot may try (its first and 3 retries), with room for a slow open().
    for (let s = 0; s < 30; s++) {
      mkdirSync(join(dataDir, 'snaps', snapshotNameFor(now + s * 1000)), { recursive: true });
      writeFileSync(join(dataDir, 'snaps', snapshotNameFor(now + s * 1000), 'marker'), 'original');
    }
    const db = await open({ server: { dataDir }, ...snapshotsOn(0) }, { saveOnShutdown: false });
    const result = await db.snapshot();
    expect(result.code).toBe('failed');
    expect(result.report?.failure?.step).toBe('exists');
    expect(readFileSync(join(dataDir, 'snaps', result.name!, 'marker'), 'utf8')).toBe('original');
    expect(db.status().readOnly).toBe(false);
    await db.close();
  });

  it('two unnamed snapshots in one second: the second counts the first as its own when nothing changed, else waits for the next second', async () => {
    const dataDir = tempDir();
    const db = await open({ server: { dataDir }, ...snapshotsOn(0) }, { saveOnShutdown: false });
    db.table().set('k', '1');
    await nextSecond();
    const first = await db.snapshot();
    const covered = await db.snapshot();
    expect(first.code).toBe('ok');
    expect(covered.code).toBe('ok');
    expect(covered.name).toBe(first.name);
    expect(covered.message).toMatch(/covered by/);
    db.table().set('k', '2');
    const later = await db.snapshot();
    expect(later.code).toBe('ok');
    expect(later.name! > first.name!).toBe(true);
    expect(localNames(dataDir)).toEqual([first.name, later.name]);
    await db.close();
  });

  it('a folder of this second that another run left makes the snapshot cut again in the next second', async () => {
    const dataDir = tempDir();
    const db = await open({ server: { dataDir }, ...snapshotsOn(0) }, { saveOnShutdown: false });
    await nextSecond();
    const taken = snapshotNameFor(Date.now());
    mkdirSync(join(dataDir, 'snaps', taken), { recursive: true });
    writeFileSync(join(dataDir, 'snaps', taken, 'marker'), 'original');
    db.table().set('k', 'v');
    const result = await db.snapshot();
    expect(result.code).toBe('ok');
    expect(result.name! > taken).toBe(true);
    expect(readFileSync(join(dataDir, 'snaps', taken, 'marker'), 'utf8')).toBe('original');
    await db.close();
  });

  it('periodic snapshots and client MKSNAPs in the same seconds never fail and never turn the database read-only', async () => {
    const dataDir = tempDir();
    const db = await open(
      { server: { dataDir }, bgsave: { enabled: false, every: 120 }, snapshot: { enabled: true, every: 1, atmost: 0, failsafe: true } },
      { saveOnShutdown: false },
    );
    const codes = new Map<string, number>();
    let readOnlySeen = false;
    const until = Date.now() + 4_000;
    for (let i = 0; Date.now() < until; i++) {
      db.table().set(`k${i % 50}`, String(i));
      const result = await db.snapshot();
      codes.set(result.code, (codes.get(result.code) ?? 0) + 1);
      if (db.status().readOnly) readOnlySeen = true;
      await new Promise((resolve) => setTimeout(resolve, 20 + (i % 7) * 30));
    }
    expect(readOnlySeen).toBe(false);
    expect(codes.get('failed') ?? 0).toBe(0);
    expect(codes.get('ok') ?? 0).toBeGreaterThan(3);
    expect(db.status().persistence!.snapshot.status).not.toBe('err');
    await db.close();
  });

  it('answer disabled without [snapshot], and busy while a local snapshot runs', async () => {
    const off = await open({ server: { dataDir: tempDir() } }, { saveOnShutdown: false });
    expect((await off.snapshot()).code).toBe('disabled');
    expect((await off.snapshot('named-works-anyway')).code).toBe('ok');
    await off.close();
    const db = await open({ server: { dataDir: tempDir() }, ...snapshotsOn(0) }, { saveOnShutdown: false });
    for (let i = 0; i < 50_000; i++) db.table().set(`k${i}`, 'v');
    const first = db.snapshot();
    const second = await db.snapshot();
    expect(second.code).toBe('busy');
    expect((await first).code).toBe('ok');
    const sameName = db.snapshot('dup');
    expect((await db.snapshot('dup')).code).toBe('busy');
    expect((await sameName).code).toBe('ok');
    expect((await db.snapshot('dup')).code).toBe('duplicate');
    await db.close();
  });
});

describe('named snapshot names', () => {
  const unsafe = [
    '',
    '/absolute',
    '..',
    '.',
    'a/../b',
    '../escape',
    '.hidden',
    'a/.hidden',
    'back\\slash',
    'nul\0byte',
    'ctrl\u0001char',
    'a//b',
    'trailing/',
    'space name',
    'ünïcode',
    'x'.repeat(129),
    `${'a'.repeat(128)}/${'b'.repeat(127)}`,
  ];
  const safe = ['a', 'a/b/c', 'v1.2_3-x', 'x'.repeat(128), `${'a'.repeat(127)}/${'b'.repeat(127)}`, '2024-01-01'];

  it('accepts exactly the safe forms', () => {
    for (const name of unsafe) expect(isSafeSnapshotName(name), JSON.stringify(name)).toBe(false);
    for (const name of safe) expect(isSafeSnapshotName(name), JSON.stringify(name)).toBe(true);
  });

  it('refuses every unsafe form with invalid-name and writes nothing outside rsnap', async () => {
    const dataDir = tempDir();
    const db = await open({ server: { dataDir } }, { saveOnShutdown: false });
    for (const name of unsafe) {
      const result = await db.snapshot(name);
      expect(result.code, JSON.stringify(name)).toBe('invalid-name');
    }
    expect(readdirSync(dataDir).sort()).toEqual(['frostkv.lock']);
    const nested = await db.snapshot('team/2024/q1');
    expect(nested.code).toBe('ok');
    expect(existsSync(join(dataDir, 'rsnap', 'team', '2024', 'q1', 'MANIFEST'))).toBe(true);
    await db.close();
  });

  it('works when snaps/ and rsnap/ are symlinks to another directory (offsite backups)', async () => {
    const dataDir = tempDir();
    const offsite = tempDir();
    mkdirSync(join(offsite, 'local'));
    mkdirSync(join(offsite, 'named'));
    symlinkSync(join(offsite, 'local'), join(dataDir, 'snaps'));
    symlinkSync(join(offsite, 'named'), join(dataDir, 'rsnap'));
    const db = await open({ server: { dataDir }, ...snapshotsOn(1) }, { saveOnShutdown: false });
    db.table().set('k', 'v');
    const local = await db.snapshot();
    expect(local.code).toBe('ok');
    expect((await db.snapshot('release/1')).code).toBe('ok');
    expect(existsSync(join(offsite, 'local', local.name!, 'MANIFEST'))).toBe(true);
    expect(existsSync(join(offsite, 'named', 'release', '1', 'MANIFEST'))).toBe(true);
    await nextSecond();
    const next = await db.snapshot();
    expect(readdirSync(join(offsite, 'local'))).toEqual([next.name]);
    await db.close();
    const restored = await open({ server: { dataDir: tempDir() }, restore: join(dataDir, 'rsnap', 'release', '1') }, { saveOnShutdown: false });
    expect(restored.table().getString('k')).toBe('v');
    await restored.close();
  });
});
