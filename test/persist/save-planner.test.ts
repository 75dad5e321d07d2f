/**
 * The save planner, driven step by step through the simulation's pool (test/sim/sim-pool.ts):
 * the exact interleaving that published saves with whole segments missing (issue 8).
 */

import { describe, expect, it } from 'vitest';
import { setImmediate as drain } from 'node:timers/promises';
import { join } from 'node:path';
import { Engine, type EngineCut } from '../../src/engine/engine.js';
import { forEachRecord } from '../../src/table/table.js';
import { record } from '../../src/table/segment.js';
import { runSave, SaveJob, type SaveReport } from '../../src/persist/save.js';
import { verifyFolder } from '../../src/persist/verify.js';
import { FsSeam } from '../../src/persist/fs-seam.js';
import { SimPool } from '../sim/sim-pool.js';
import { loadFolder } from '../sim/simulation.js';
import { digestEntries } from '../../src/table/digest.js';
import { tempDir } from '../support/tmp.js';

/** A key stored in frozen segment `index` (its live counterpart covers the same hash range). */
function keyIn(cut: EngineCut, index: number): Buffer {
  const frozen = cut.tables.find((table) => table.name === 'default')?.frozen;
  const segment = frozen?.segments[index];
  if (segment === undefined) throw new Error(`no frozen segment ${index}`);
  let key: Buffer | null = null;
  forEachRecord(segment, () => {
    key ??= Buffer.from(record.bytes.subarray(record.keyOffset, record.keyOffset + record.keyLength));
  }, 1);
  if (key === null) throw new Error(`frozen segment ${index} is empty`);
  return key;
}

async function runWorkerUntil(pool: SimPool, done: () => boolean): Promise<void> {
  const worker = pool.workers[0]!;
  for (let i = 0; i < 100_000 && !done(); i++) {
    pool.step(worker);
    await drain();
  }
}

describe('the save planner', () => {
  it('keeps planning past a range of segments that hot tasks finished early, so no segment is left out', async () => {
    const root = tempDir();
    const engine = new Engine({ hashSeeds: () => 0x5eed });
    const table = engine.table('default:default');
    for (let i = 0; i < 20_000; i++) table.set(`key:${i}`, `value-${i}-${'v'.repeat(40)}`);
    const segmentCount = engine.entry({ keyspace: 'default', table: 'default' }).table.stats().segmentCount;
    expect(segmentCount).toBeGreaterThanOrEqual(8);
    const atCut = digestEntries(table.entries());

    // One worker, parts of two segments: task 1 is segments 0-1.
    const pool = new SimPool([1], 2048, () => undefined);
    let cut: EngineCut | null = null;
    let report: SaveReport | null = null;
    void runSave(
      engine,
      pool,
      { kind: 'named', finalDir: join(root, 'rsnap', 'planner'), mode: 'publish', dataDir: root, faults: null, segmentsPerPart: 2, onCut: (c) => (cut = c) },
      new SaveJob('named'),
    ).then((r) => (report = r));
    await drain();
    const worker = pool.workers[0]!;
    pool.step(worker); // the worker takes task 1 (segments 0 and 1)
    // Writes to segments 2 and 3 make them hot: the next task encodes exactly those two.
    const hot = [keyIn(cut!, 2), keyIn(cut!, 3)];
    for (const key of hot) table.set(key, 'written during the save');
    await runWorkerUntil(pool, () => !worker.busy && pool.queued === 0 && worker.stepCount > 1);
    // Task 2 (the hot segments 2-3) ran; the sequential order now reaches 2-3, all finished.
    // The planner used to answer "nothing left" here and the save ended without segments 4+.
    await runWorkerUntil(pool, () => report !== null);

    const saved = report as SaveReport | null;
    expect(saved?.failure ?? null).toBeNull();
    expect(saved!.ok).toBe(true);
    expect(saved!.hotSegments).toBe(2);
    expect(saved!.records).toBe(20_000);
    expect(verifyFolder(new FsSeam(), saved!.finalDir).problems).toEqual([]);
    expect(loadFolder(saved!.finalDir).get('default:default')).toEqual(atCut);
  });
});
