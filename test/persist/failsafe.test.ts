/**
 * The failsafe's causes, idle periodic snapshots, and the events an embedding program gets:
 * real saves through the worker pool, failures injected at the file-system seam.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { open, type Database, type DatabaseEvents } from '../../src/database.js';
import { newFaultPlan } from '../../src/persist/fs-seam.js';
import type { FaultInjector } from '../../src/persist/persistence.js';
import { MemoryLogger } from '../../src/util/log.js';
import { tempDir } from '../support/tmp.js';

const kSnapshotEverySeconds = 1;

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function openWithSnapshots(faults: FaultInjector, logger = new MemoryLogger()): Promise<{ db: Database; dir: string; logger: MemoryLogger }> {
  const dir = tempDir();
  const db = await open(
    {
      server: { dataDir: dir },
      bgsave: { enabled: false, every: 120 },
      snapshot: { enabled: true, every: kSnapshotEverySeconds, atmost: 3, failsafe: true },
    },
    { faults, saveOnShutdown: false, logger },
  );
  return { db, dir, logger };
}

/** Resolve when a periodic snapshot (not a skip) finishes after `afterMs`. */
async function nextPeriodicSnapshot(db: Database, afterMs: number): Promise<void> {
  await waitFor(() => (db.status().persistence!.snapshot.finishedAtMs ?? 0) > afterMs, 'a periodic snapshot');
}

function recordEvents(db: Database): Array<{ name: keyof DatabaseEvents; event: unknown }> {
  const seen: Array<{ name: keyof DatabaseEvents; event: unknown }> = [];
  for (const name of ['save', 'saveFailed', 'saveSkipped', 'readOnly', 'readWrite'] as const) {
    db.on(name, (event: unknown) => seen.push({ name, event }));
  }
  return seen;
}

describe('failsafe causes', () => {
  it('a failed live save stays read-only through a successful periodic snapshot, until a live save succeeds', async () => {
    const faults: FaultInjector = { plan: null };
    const { db } = await openWithSnapshots(faults);
    db.table().set('a', '1');
    // Right after a periodic snapshot, so the one failed write is the live save's.
    await nextPeriodicSnapshot(db, Date.now());
    db.table().set('a2', '1');
    faults.plan = newFaultPlan('write', 1, false);
    const failed = await db.save();
    faults.plan = null;
    expect(failed.ok).toBe(false);
    expect(db.status().persistence!.readOnlyCauses).toEqual(['bgsave']);
    const failedAt = Date.now();
    await nextPeriodicSnapshot(db, failedAt);
    expect(db.status().persistence!.snapshot.status).toBe('ok');
    // The tick after it (skipped: writes are refused, nothing changed) starts only once that
    // snapshot's turn, failsafe bookkeeping included, is over.
    let skipped = false;
    db.once('saveSkipped', () => {
      skipped = true;
    });
    await waitFor(() => skipped, 'the next periodic tick');
    // data/ks (what start-up loads) still lacks 'a': the snapshot must not re-open writes.
    expect(db.status().readOnly).toBe(true);
    expect(db.status().persistence!.readOnlyCauses).toEqual(['bgsave']);
    expect(db.status().persistence!.bgsave.status).toBe('err');
    expect(() => db.table().set('b', '2')).toThrow(expect.objectContaining({ code: 'ERR_READ_ONLY' }));
    expect((await db.save()).ok).toBe(true);
    expect(db.status().readOnly).toBe(false);
    expect(db.status().persistence!.readOnlyCauses).toEqual([]);
    db.table().set('b', '2');
    await db.close();
  });

  it('a failed periodic snapshot (failsafe on) is cleared by a live save, and by a later periodic snapshot', async () => {
    const faults: FaultInjector = { plan: null };
    const { db } = await openWithSnapshots(faults);
    for (const clearWith of ['live save', 'periodic snapshot'] as const) {
      db.table().set(`k-${clearWith}`, 'v');
      faults.plan = newFaultPlan('write', 1, true);
      await waitFor(() => db.status().persistence!.readOnlyCauses.includes('snapshot'), 'the snapshot to fail');
      faults.plan = null;
      expect(db.status().persistence!.readOnlyCauses).toEqual(['snapshot']);
      expect(db.status().readOnly).toBe(true);
      if (clearWith === 'live save') {
        expect((await db.save()).ok).toBe(true);
        expect(db.status().readOnly).toBe(false);
      } else {
        await waitFor(() => !db.status().readOnly, 'a periodic snapshot to succeed');
        expect(db.status().persistence!.snapshot.status).toBe('ok');
      }
    }
    await db.close();
  });

  it('both causes: a periodic snapshot clears only its own; the live save clears the rest', async () => {
    const faults: FaultInjector = { plan: null };
    const { db } = await openWithSnapshots(faults);
    db.table().set('a', '1');
    faults.plan = newFaultPlan('write', 1, true);
    expect((await db.save()).ok).toBe(false);
    await waitFor(() => db.status().persistence!.readOnlyCauses.length === 2, 'the snapshot to fail too');
    faults.plan = null;
    expect(db.status().persistence!.readOnlyReason).toMatch(/^bgsave: live save .*; snapshot: periodic snapshot failed/);
    await waitFor(() => db.status().persistence!.readOnlyCauses.length === 1, 'a periodic snapshot to succeed');
    expect(db.status().persistence!.readOnlyCauses).toEqual(['bgsave']);
    expect((await db.save()).ok).toBe(true);
    expect(db.status().readOnly).toBe(false);
    await db.close();
  });
});

describe('idle periodic snapshots', () => {
  it('are skipped when nothing changed since the last published local snapshot, and keep older history', async () => {
    const faults: FaultInjector = { plan: null };
    const { db, dir, logger } = await openWithSnapshots(faults);
    const seen = recordEvents(db);
    const snaps = join(dir, 'snaps');
    const published = (): string[] => (existsSync(snaps) ? readdirSync(snaps) : []).filter((name) => /^\d{8}-\d{6}$/.test(name)).sort();
    for (let i = 0; i < 2; i++) {
      db.table().set(`k${i}`, 'v');
      const before = published().length;
      await waitFor(() => published().length === before + 1, `snapshot ${i + 1}`);
    }
    const distinct = published();
    expect(distinct).toHaveLength(2);
    // Four periods with no write: with atmost = 3, copies would replace the two distinct ones.
    await new Promise((resolve) => setTimeout(resolve, 4_200 * kSnapshotEverySeconds));
    expect(published()).toEqual(distinct);
    expect(db.status().persistence!.snapshot.skippedCount).toBeGreaterThanOrEqual(3);
    expect(logger.has('info', /periodic snapshot skipped: nothing changed since .*snaps/)).toBe(true);
    expect(seen.filter((entry) => entry.name === 'saveSkipped').length).toBeGreaterThanOrEqual(3);
    db.table().set('k-after', 'v');
    await waitFor(() => published().length === 3, 'a snapshot after a write');
    await db.close();
  });
});

describe('events and the default logger', () => {
  it('emits save, saveFailed, readOnly and readWrite with the figures of the log line', async () => {
    const faults: FaultInjector = { plan: null };
    const dir = tempDir();
    const db = await open({ server: { dataDir: dir }, bgsave: { enabled: false, every: 120 } }, { faults, saveOnShutdown: false, logger: new MemoryLogger() });
    const seen = recordEvents(db);
    db.table().set('a', '1');
    expect((await db.save()).ok).toBe(true);
    faults.plan = newFaultPlan('write', 1, true);
    expect((await db.save()).ok).toBe(false);
    faults.plan = null;
    expect((await db.save()).ok).toBe(true);
    expect(seen.map((entry) => entry.name)).toEqual(['save', 'saveFailed', 'readOnly', 'save', 'readWrite']);
    expect(seen[0]!.event).toMatchObject({ type: 'save', kind: 'bgsave', path: join(dir, 'ks'), keys: 1 });
    expect(seen[1]!.event).toMatchObject({ type: 'saveFailed', kind: 'bgsave', step: 'write', code: 'EIO' });
    expect(seen[2]!.event).toMatchObject({ type: 'readOnly', cause: 'bgsave', causes: ['bgsave'] });
    expect(seen[4]!.event).toMatchObject({ type: 'readWrite', cleared: ['bgsave'] });
    await db.close();
  });

  it('a listener that throws is logged and does not break the failsafe', async () => {
    const faults: FaultInjector = { plan: null };
    const logger = new MemoryLogger();
    const db = await open({ server: { dataDir: tempDir() }, bgsave: { enabled: false, every: 120 } }, { faults, saveOnShutdown: false, logger });
    db.on('saveFailed', () => {
      throw new Error('listener bug');
    });
    db.table().set('a', '1');
    faults.plan = newFaultPlan('write', 1, true);
    expect((await db.save()).ok).toBe(false);
    faults.plan = null;
    expect(db.status().readOnly).toBe(true);
    expect(logger.has('error', /'saveFailed' event listener threw: listener bug/)).toBe(true);
    await db.close();
  });

  it('without a logger, a failed save is written to stderr', () => {
    const child = fileURLToPath(new URL('./fixtures/embedded-failing-save.ts', import.meta.url));
    const run = spawnSync(process.execPath, ['--import', 'tsx', child, tempDir()], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('save ok=false');
    expect(run.stderr).toMatch(/frostkv error: bgsave failed: write failed for .*: /);
    expect(run.stderr).toMatch(/frostkv error: entering read-only mode \(cause: bgsave\)/);
  });
});
