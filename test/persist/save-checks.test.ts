/**
 * A save that fails its own checks is never published, the previous save stays, and the
 * failsafe state follows the rules. The worker pool here is the real one, wrapped so that one
 * encode result loses a file: what a save with a missing segment looks like to the main thread.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.js';
import { Persistence } from '../../src/persist/persistence.js';
import { createWorkerPool, type TaskRunner, type WorkerPool } from '../../src/persist/worker-pool.js';
import type { EncodeResult } from '../../src/persist/encode.js';
import { verifySave } from '../../src/persist/restore.js';
import { MemoryLogger } from '../../src/util/log.js';
import { tempDir } from '../support/tmp.js';

let pool: WorkerPool;
beforeAll(() => {
  pool = createWorkerPool(2);
});
afterAll(async () => {
  await pool.destroy();
});

/** The real pool; while `lose` is set, the next encode result with a file drops it. */
function lossyPool(real: WorkerPool): TaskRunner & { lose: boolean } {
  const wrapper = {
    lose: false,
    options: { maxThreads: real.options.maxThreads },
    async run(task: object): Promise<unknown> {
      const result = (await real.run(task)) as EncodeResult;
      if ((task as { kind: string }).kind === 'encode' && wrapper.lose && result.ok && result.files.length > 0) {
        wrapper.lose = false;
        return { ok: true, files: result.files.slice(1) };
      }
      return result;
    },
  };
  return wrapper;
}

async function openPersistence(dataDir: string, runner: TaskRunner, engine: Engine, logger: MemoryLogger): Promise<Persistence> {
  const persistence = new Persistence(
    engine,
    runner,
    {
      dataDir,
      bgsave: { enabled: false, every: 120 },
      snapshot: { enabled: true, every: 3600, atmost: 0, failsafe: true },
      saveOnShutdown: false,
      restoreFrom: null,
    },
    { logger },
  );
  await persistence.open();
  return persistence;
}

describe('save checks', () => {
  it('a live save missing a file fails its check, is not published, keeps the previous data/ks, and makes writes wait for a good live save', async () => {
    const dataDir = tempDir();
    const runner = lossyPool(pool);
    const engine = new Engine();
    const logger = new MemoryLogger();
    const persistence = await openPersistence(dataDir, runner, engine, logger);
    const table = engine.table();
    for (let i = 0; i < 100_000; i++) table.set(`k${i}`, `v${i}`);
    expect((await persistence.liveSave('manual')).ok).toBe(true);
    table.set('after-first-save', 'x');

    runner.lose = true;
    const torn = await persistence.liveSave('manual');
    expect(torn.ok).toBe(false);
    expect(torn.report?.failure?.step).toBe('invariant');
    expect(torn.report?.failure?.message).toMatch(/check "records at the cut" failed/);
    expect(engine.readOnly).toBe(true);
    expect(engine.readOnlyCause).toMatch(/records at the cut/);
    // data/ks is still the first save, complete.
    const live = await verifySave(pool, join(dataDir, 'ks'));
    expect(live.problems).toEqual([]);
    expect(live.records).toBe(100_000);
    expect(logger.lines.some((line) => line.level === 'error' && /bgsave failed: invariant failed/.test(line.message))).toBe(true);

    // A named snapshot that fails its check is not published, and a retry of the name works.
    runner.lose = true;
    const named = await persistence.mkNamedSnapshot('checked');
    expect(named.code).toBe('failed');
    expect(existsSync(join(dataDir, 'rsnap', 'checked'))).toBe(false);
    expect((await persistence.mkNamedSnapshot('checked')).code).toBe('ok');
    expect(engine.readOnly).toBe(true);

    // Only a good live save clears the read-only state.
    expect((await persistence.liveSave('manual')).ok).toBe(true);
    expect(engine.readOnly).toBe(false);
    expect((await verifySave(pool, join(dataDir, 'ks'))).records).toBe(100_001);
    await persistence.close();
  });
});
