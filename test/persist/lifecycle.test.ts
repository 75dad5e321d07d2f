import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { open } from '../../src/database.js';
import { newFaultPlan } from '../../src/persist/fs-seam.js';
import type { FaultInjector } from '../../src/persist/persistence.js';
import { MemoryLogger } from '../../src/util/log.js';
import { tempDir } from '../support/tmp.js';

const holder = fileURLToPath(new URL('./fixtures/hold-open.ts', import.meta.url));

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('the data directory lock', () => {
  it('refuses a second process on the same data directory, naming the holder, and takes over a dead holder\'s lock', async () => {
    const dataDir = tempDir();
    const child = spawn(process.execPath, ['--import', 'tsx', holder, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (text: string) => text.includes('ready') && resolve());
      child.on('exit', (code) => reject(new Error(`holder exited early (${String(code)})`)));
    });
    await expect(open({ server: { dataDir } })).rejects.toThrow(
      expect.objectContaining({ code: 'ERR_DATA_DIR_LOCKED', message: expect.stringContaining(`pid ${child.pid}`) }),
    );
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const db = await open({ server: { dataDir } }, { saveOnShutdown: false });
    await db.close();
    expect(existsSync(join(dataDir, 'frostkv.lock'))).toBe(false);
  }, 30_000);

  it('refuses to open the same data directory twice in one process', async () => {
    const dataDir = tempDir();
    const db = await open({ server: { dataDir } }, { saveOnShutdown: false });
    await expect(open({ server: { dataDir } })).rejects.toThrow(expect.objectContaining({ code: 'ERR_DATA_DIR_LOCKED' }));
    await db.close();
  });
});

describe('periodic live saves', () => {
  it('save every `every` seconds, skip when nothing changed, and can be switched off', async () => {
    const dataDir = tempDir();
    const db = await open({ server: { dataDir }, bgsave: { enabled: true, every: 1 } }, { saveOnShutdown: false });
    db.table().set('k', 'v1');
    await waitFor(() => db.status().persistence!.lastSaveTimeMs !== null, 'the first periodic save');
    expect(existsSync(join(dataDir, 'ks', 'MANIFEST'))).toBe(true);
    await waitFor(() => db.status().persistence!.bgsave.skippedCount > 0, 'a skipped periodic save');
    expect(db.status().persistence!.changesSinceLastSave).toBe(0);
    await db.close();

    const off = tempDir();
    const quiet = await open({ server: { dataDir: off }, bgsave: { enabled: false, every: 1 } }, { saveOnShutdown: false });
    quiet.table().set('k', 'v');
    await new Promise((resolve) => setTimeout(resolve, 2_300));
    expect(existsSync(join(off, 'ks'))).toBe(false);
    expect(quiet.status().persistence!.changesSinceLastSave).toBe(2 - 1);
    expect((await quiet.save()).ok).toBe(true);
    expect(existsSync(join(off, 'ks', 'MANIFEST'))).toBe(true);
    await quiet.close();
  }, 20_000);

  it('clear the read-only state with the next successful periodic save after a failure', async () => {
    const faults: FaultInjector = { plan: newFaultPlan('write', 1, true) };
    const db = await open({ server: { dataDir: tempDir() }, bgsave: { enabled: true, every: 1 } }, { faults, saveOnShutdown: false });
    db.table().set('k', 'v');
    await waitFor(() => db.status().readOnly, 'the read-only state');
    expect(db.status().persistence!.bgsave.error?.step).toBe('write');
    expect(db.status().persistence!.lastSaveTimeMs).toBeNull();
    faults.plan = null;
    await waitFor(() => !db.status().readOnly, 'the next periodic save');
    expect(db.status().persistence!.lastSaveTimeMs).not.toBeNull();
    await db.close();
  }, 20_000);
});

describe('close', () => {
  it('runs a final save that the next start loads, after letting an in-flight snapshot finish', async () => {
    const dataDir = tempDir();
    const db = await open({ server: { dataDir }, bgsave: { enabled: true, every: 3600 } });
    for (let i = 0; i < 20_000; i++) db.table().set(`k${i}`, `v${i}`);
    const snapshot = db.snapshot('during-close');
    await db.close();
    expect((await snapshot).code).toBe('ok');
    expect(() => db.table()).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
    const again = await open({ server: { dataDir } }, { saveOnShutdown: false });
    expect(again.table().getString('k19999')).toBe('v19999');
    await again.close();
  });

  it('skips the final save with saveOnShutdown off (--nosave): unsaved writes are lost', async () => {
    const dataDir = tempDir();
    const db = await open({ server: { dataDir } }, { saveOnShutdown: false });
    db.table().set('k', 'v');
    await db.close();
    const again = await open({ server: { dataDir } }, { saveOnShutdown: false });
    expect(again.table().has('k')).toBe(false);
    await again.close();
  });

  it('retries a failing final save until it succeeds', async () => {
    const dataDir = tempDir();
    const faults: FaultInjector = { plan: newFaultPlan('fsync', 1, true) };
    const logger = new MemoryLogger();
    const db = await open({ server: { dataDir } }, { faults, logger });
    db.table().set('k', 'v');
    const closing = db.close({ retryEveryMs: 50 });
    await waitFor(() => logger.lines.filter((line) => /final save attempt/.test(line.message)).length >= 2, 'two failed attempts');
    faults.plan = null;
    await closing;
    const again = await open({ server: { dataDir } }, { saveOnShutdown: false });
    expect(again.table().getString('k')).toBe('v');
    await again.close();
  });

  it('gives up when told to, saying what is lost, and releases the data directory', async () => {
    const dataDir = tempDir();
    const faults: FaultInjector = { plan: newFaultPlan('rename', 1, true) };
    const db = await open({ server: { dataDir } }, { faults });
    db.table().set('k', 'v');
    const abort = new AbortController();
    const closing = db.close({ retryEveryMs: 50, signal: abort.signal });
    setTimeout(() => abort.abort(), 300);
    await expect(closing).rejects.toThrow(expect.objectContaining({ code: 'ERR_SHUTDOWN_SAVE_ABANDONED', message: expect.stringMatching(/changes .* are lost/) }));
    const again = await open({ server: { dataDir } }, { saveOnShutdown: false });
    expect(again.table().has('k')).toBe(false);
    await again.close();
  });
});
