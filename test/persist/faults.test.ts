import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { open, type Database } from '../../src/database.js';
import { faultCount, kFsOps, newFaultPlan, type FaultPlan } from '../../src/persist/fs-seam.js';
import type { FaultInjector } from '../../src/persist/persistence.js';
import { createWorkerPool, type WorkerPool } from '../../src/persist/worker-pool.js';
import { verifySave } from '../../src/persist/restore.js';
import { tempDir } from '../support/tmp.js';

let pool: WorkerPool;
beforeAll(() => {
  pool = createWorkerPool(1);
});
afterAll(async () => {
  await pool.destroy();
});

const readOnly = expect.objectContaining({ code: 'ERR_READ_ONLY' });

async function waitFor(condition: () => boolean, what: string, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function seeded(faults: FaultInjector, extra: object = {}): Promise<{ db: Database; dir: string }> {
  const dir = tempDir();
  const db = await open({ server: { dataDir: dir }, bgsave: { enabled: false, every: 120 }, ...extra }, { faults, saveOnShutdown: false });
  db.createKeyspace('app');
  db.createTable('app:texts', 'keymap(str,str)');
  db.createTable('app:lists', 'keymap(str,list<binstr>)');
  for (let i = 0; i < 3_000; i++) db.table().set(`k${i}`, Buffer.alloc(40, i));
  db.table('app:texts').set('big', 'x'.repeat(300_000));
  db.table('app:lists').listCreate('l', ['a', 'b']);
  return { db, dir };
}

async function liveGeneration(dir: string): Promise<number> {
  const report = await verifySave(pool, join(dir, 'ks'));
  expect(report.problems).toEqual([]);
  return report.manifest!.generation;
}

describe('fault injection through the file-system seam', () => {
  for (const persistent of [false, true]) {
    it(`fails the Nth file-system operation of a live save (${persistent ? 'persistently' : 'once'}) for every N, keeping the previous save and the failsafe state right`, async () => {
      const faults: FaultInjector = { plan: null };
      const { db, dir } = await seeded(faults);
      expect((await db.save()).ok).toBe(true);
      let goodGeneration = await liveGeneration(dir);
      const stepsSeen = new Set<string>();
      let n = 1;
      for (; n < 500; n++) {
        db.table().set('counter', String(n));
        const plan: FaultPlan = newFaultPlan('any', n, persistent);
        faults.plan = plan;
        const result = await db.save();
        faults.plan = null;
        if (faultCount(plan) < n) {
          // The save made fewer than n operations: every step has been failed once.
          expect(result.ok).toBe(true);
          break;
        }
        if (result.ok) {
          // Only cleanup after the commit point may fail without failing the save.
          expect(db.status().readOnly).toBe(false);
          goodGeneration = await liveGeneration(dir);
          continue;
        }
        const failure = result.report!.failure!;
        stepsSeen.add(failure.step);
        expect(failure.injected).toBe(true);
        expect([...kFsOps, 'exists', 'verify']).toContain(failure.step);
        expect(db.status().readOnly).toBe(true);
        expect(db.status().persistence!.bgsave.status).toBe('err');
        expect(db.status().persistence!.bgsave.error?.step).toBe(failure.step);
        expect(() => db.table().set('refused', 'x')).toThrow(readOnly);
        expect(db.table().getString('counter')).toBe(String(n));
        // data/ks is a complete save: the previous one, or (when only an fsync after the swap
        // failed, so the new one may not be durable) the new one; either way it verifies.
        const onDisk = await liveGeneration(dir);
        if (onDisk !== goodGeneration) {
          expect(onDisk).toBe(result.report!.generation);
          expect(failure.step).toBe('fsync');
        }
        // No temporary folder is left behind (the replaced save stays until the new one is
        // known durable).
        const hidden = readdirSync(dir).filter((name) => name.startsWith('.'));
        expect(hidden.filter((name) => !(onDisk !== goodGeneration && name.startsWith('.old-ks-')))).toEqual([]);
        const retry = await db.save();
        expect(retry.ok).toBe(true);
        expect(db.status().readOnly).toBe(false);
        expect(readdirSync(dir).filter((name) => name.startsWith('.'))).toEqual([]);
        goodGeneration = await liveGeneration(dir);
      }
      expect(n).toBeGreaterThan(20);
      for (const step of ['mkdir', 'open', 'write', 'fsync', 'close', 'rename']) expect(stepsSeen).toContain(step);
      await db.close();
      const reopened = await open({ server: { dataDir: dir }, bgsave: { enabled: false, every: 120 } }, { saveOnShutdown: false });
      expect(reopened.table().getString('counter')).toBe(String(n));
      expect(reopened.table('app:texts').getString('big')?.length).toBe(300_000);
      await reopened.close();
    }, 120_000);
  }

  it('makes the database read-only when a periodic snapshot fails with failsafe on, and clears it on the next success', async () => {
    const faults: FaultInjector = { plan: null };
    const { db } = await seeded(faults, { snapshot: { enabled: true, every: 1, atmost: 2, failsafe: true } });
    faults.plan = newFaultPlan('write', 1, true, 'ENOSPC');
    await waitFor(() => db.status().persistence!.snapshot.status === 'err', 'a failed periodic snapshot');
    expect(db.status().readOnly).toBe(true);
    expect(db.status().persistence!.snapshot.error?.code).toBe('ENOSPC');
    expect(() => db.table().set('k', 'v')).toThrow(readOnly);
    expect(db.table().get('k1')?.length).toBe(40);
    // MKSNAP neither sets nor clears the state, and still works once the disk is back.
    faults.plan = null;
    expect((await db.snapshot('while-read-only')).code).toBe('ok');
    expect(db.status().readOnly).toBe(true);
    await waitFor(() => !db.status().readOnly, 'the next periodic snapshot to succeed');
    db.table().set('k', 'v');
    await db.close();
  }, 30_000);

  it('keeps writes open when a periodic snapshot fails with failsafe off', async () => {
    const faults: FaultInjector = { plan: newFaultPlan('fsync', 1, true) };
    const { db } = await seeded(faults, { snapshot: { enabled: true, every: 1, atmost: 2, failsafe: false } });
    await waitFor(() => db.status().persistence!.snapshot.status === 'err', 'a failed periodic snapshot');
    expect(db.status().readOnly).toBe(false);
    db.table().set('still', 'writable');
    faults.plan = null;
    await db.close();
  }, 30_000);

  it('never lets a failed client MKSNAP set the read-only state, and frees the name for a retry', async () => {
    const faults: FaultInjector = { plan: newFaultPlan('rename', 1, true) };
    const { db } = await seeded(faults);
    const failed = await db.snapshot('retry/me');
    expect(failed.code).toBe('failed');
    expect(db.status().readOnly).toBe(false);
    faults.plan = null;
    const retried = await db.snapshot('retry/me');
    expect(retried.code).toBe('ok');
    expect((await db.snapshot('retry/me')).code).toBe('duplicate');
    await db.close();
  });
});
