/**
 * kill -9 of the real compiled server under a sequential acknowledged writer and every save
 * kind at once (test/support/kill9.ts explains the trial). CI runs FROSTKV_KILL9_TRIALS
 * (default 50) trials; `bench/kill9.ts --trials 1000` is the long run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kill9Harness } from '../support/kill9.js';
import { buildServer } from '../support/build.js';
import { testSeed } from '../support/random.js';
import { tempDir } from '../support/tmp.js';

const kTrialsDefault = 50;
let build: { entry: string; remove(): void } | undefined;

beforeAll(() => {
  build = buildServer(`kill9-${process.pid}`);
});
afterAll(() => build?.remove());

describe('kill -9 of the compiled server', () => {
  it('always restarts on an exact prefix holding every write acknowledged before the last acknowledged save, and leaves only exact snapshots', async () => {
    const seed = testSeed();
    const trials = Number(process.env.FROSTKV_KILL9_TRIALS ?? kTrialsDefault);
    const report = await new Kill9Harness({
      trials,
      seed,
      chainLength: 10,
      runMsMax: 2_000,
      keySpace: 20_000,
      preloadOps: 30_000,
      noiseKeys: 60_000,
      workDir: tempDir('frostkv-kill9-'),
      serverEntry: build!.entry,
    }).run();
    process.stdout.write(`kill -9 harness (seed ${seed}): ${JSON.stringify(report)}\n`);
    expect(report.failures, `replay with FROSTKV_SEED=${seed}: ${report.firstFailures.join('\n')}`).toEqual({});
    expect(report.restarts).toBe(trials);
    // The kills must land inside saves, and the saves must have been acknowledged along the way.
    expect(report.killsMidSave).toBeGreaterThan(trials / 4);
    expect(report.savesAcked).toBeGreaterThan(0);
    expect(report.namedSnapshotsAcked).toBeGreaterThan(0);
    expect(report.foldersWithCollections).toBeGreaterThan(0);
  }, 1_200_000);
});
