/**
 * Data directories that cannot be used get errors that name the path, what was expected and
 * the cause (not Node's bare `EEXIST ... mkdir` or `ENOENT`), at open and when a save fails.
 * Real files; read-only and full file systems are real tmpfs mounts when running as root
 * (chmod does not stop root), else a directory without write permission.
 */

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { open } from '../../src/database.js';
import { ErrorCode } from '../../src/util/errors.js';
import { tempDir } from '../support/tmp.js';

const kTinyTmpfsKiB = 512;
const kValueBytes = 64 * 1024;
const isRoot = process.getuid?.() === 0;

/** Mount a tmpfs of `sizeKiB` on a new temp dir; `undefined` when mounting is not possible here. */
function mountTmpfs(sizeKiB: number): { dir: string; remount(mode: 'ro' | 'rw'): void; unmount(): void } | undefined {
  if (!isRoot) return undefined;
  const dir = tempDir();
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKiB}k`, 'tmpfs', dir]).status !== 0) return undefined;
  return {
    dir,
    remount(mode): void {
      const run = spawnSync('mount', ['-o', `remount,${mode}`, dir]);
      if (run.status !== 0) throw new Error(`remount ${mode} failed: ${run.stderr.toString()}`);
    },
    unmount(): void {
      spawnSync('umount', ['-l', dir]);
    },
  };
}

const kNoMountReason = 'needs root and mount(8) for a real read-only or full tmpfs (chmod does not stop root)';

describe('the data directory at open', () => {
  it('a regular file where the data directory should be: names it and says it is not a directory', async () => {
    const file = join(tempDir(), 'data');
    writeFileSync(file, 'not a folder');
    const failure = await open({ server: { dataDir: file } }).then(() => null, (error: unknown) => error as { code: string; message: string });
    expect(failure?.code).toBe(ErrorCode.dataDirUnusable);
    expect(failure?.message).toContain(file);
    expect(failure?.message).toMatch(/is a regular file, not a directory/);
    expect(failure?.message).toMatch(/expected a directory/);
  });

  it('a data directory below a regular file: names the file that is in the way', async () => {
    const file = join(tempDir(), 'blocker');
    writeFileSync(file, 'x');
    const failure = await open({ server: { dataDir: join(file, 'data') } }).then(() => null, (error: unknown) => error as { code: string; message: string });
    expect(failure?.code).toBe(ErrorCode.dataDirUnusable);
    expect(failure?.message).toMatch(new RegExp(`${file} is a regular file, not a directory \\(ENOTDIR\\)`));
  });

  it('a data directory that cannot be created or written: says read-only (root, tmpfs) or permission denied', async (context) => {
    const mount = mountTmpfs(kTinyTmpfsKiB);
    if (mount === undefined && isRoot) context.skip(kNoMountReason);
    let parent: string;
    if (mount !== undefined) {
      mkdirSync(join(mount.dir, 'existing'));
      mount.remount('ro');
      parent = mount.dir;
    } else {
      parent = tempDir();
      mkdirSync(join(parent, 'existing'));
      chmodSync(join(parent, 'existing'), 0o555);
      chmodSync(parent, 0o555);
    }
    const cause = mount !== undefined ? /the file system is read-only \(EROFS\)/ : /permission denied \(EACCES\)/;
    try {
      const missing = join(parent, 'new', 'data');
      const created = await open({ server: { dataDir: missing } }).then(() => null, (error: unknown) => error as { code: string; message: string });
      expect(created?.code).toBe(ErrorCode.dataDirUnusable);
      expect(created?.message).toContain(missing);
      expect(created?.message).toMatch(cause);
      const existing = join(parent, 'existing');
      const written = await open({ server: { dataDir: existing } }).then(() => null, (error: unknown) => error as { code: string; message: string });
      expect(written?.code).toBe(ErrorCode.dataDirUnusable);
      expect(written?.message).toContain(join(existing, 'frostkv.lock'));
      expect(written?.message).toMatch(cause);
    } finally {
      if (mount !== undefined) mount.unmount();
      else chmodSync(parent, 0o755);
    }
  });
});

describe('saves that fail on the data directory', () => {
  it('a live save on a file system remounted read-only reports EROFS and the path, not ENOENT', async (context) => {
    const mount = mountTmpfs(4 * 1024);
    if (mount === undefined) return context.skip(kNoMountReason);
    try {
      const dataDir = join(mount.dir, 'data');
      const db = await open({ server: { dataDir }, bgsave: { enabled: false, every: 120 } }, { saveOnShutdown: false });
      try {
        db.table().set('k', 'v');
        mount.remount('ro');
        const result = await db.save();
        expect(result.ok).toBe(false);
        const failure = result.report?.failure;
        expect(failure?.code).toBe('EROFS');
        expect(failure?.message).toContain(dataDir);
        expect(failure?.message).toMatch(/the file system is read-only \(EROFS\)/);
        expect(db.status().persistence?.bgsave.error?.code).toBe('EROFS');
      } finally {
        mount.remount('rw');
        await db.close();
      }
    } finally {
      mount.unmount();
    }
  }, 30_000);

  it('a save that fills a tiny file system reports ENOSPC in words, naming the file', async (context) => {
    const mount = mountTmpfs(kTinyTmpfsKiB);
    if (mount === undefined) return context.skip(kNoMountReason);
    try {
      const dataDir = join(mount.dir, 'data');
      const db = await open({ server: { dataDir }, bgsave: { enabled: false, every: 120 } }, { saveOnShutdown: false });
      try {
        // Random bytes: saves compress (format 3), and these must not shrink below the disk.
        for (let i = 0; i < (2 * kTinyTmpfsKiB * 1024) / kValueBytes; i++) db.table().set(`k${i}`, randomBytes(kValueBytes));
        const result = await db.save();
        expect(result.ok).toBe(false);
        const failure = result.report?.failure;
        expect(failure?.code).toBe('ENOSPC');
        expect(failure?.message).toContain(mount.dir);
        expect(failure?.message).toMatch(/no space left on the device \(ENOSPC\)/);
      } finally {
        await db.close();
      }
    } finally {
      mount.unmount();
    }
  }, 30_000);

  it('a named snapshot into rsnap on a read-only disk reports EROFS, not ENOENT', async (context) => {
    const mount = mountTmpfs(kTinyTmpfsKiB);
    if (mount === undefined) return context.skip(kNoMountReason);
    try {
      mount.remount('ro');
      const dataDir = tempDir();
      spawnSync('ln', ['-s', mount.dir, join(dataDir, 'rsnap')]);
      const db = await open({ server: { dataDir }, bgsave: { enabled: false, every: 120 } }, { saveOnShutdown: false });
      try {
        db.table().set('k', 'v');
        for (const name of ['flat', 'nested/name']) {
          const result = await db.snapshot(name);
          expect(result.code, name).toBe('failed');
          expect(result.message, name).toMatch(/the file system is read-only \(EROFS\)/);
          expect(result.message, name).toContain(mount.dir);
        }
      } finally {
        await db.close();
      }
    } finally {
      mount.unmount();
    }
  }, 30_000);
});
