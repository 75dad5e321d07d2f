/**
 * The save-protocol simulation (test/sim/simulation.ts) over many seeds.
 *
 *   FROSTKV_SIM_SEED=<n>        replay one seed
 *   FROSTKV_SIM_SEEDS=<n>       how many seeds (default 40; the long run before resolving
 *                               a save issue uses thousands)
 *   FROSTKV_SIM_SAVES=<n>       saves per seed (default 60)
 */

import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Simulation, type SimResult } from './simulation.js';
import { testSeed } from '../support/random.js';

const kSeedsDefault = 40;
const kSavesPerSeedDefault = 60;
/** A seed of 60 saves takes about 0.5 s here; the budget leaves room for slow machines. */
const kTimeoutMsPerSeed = 5_000;
const seedCount = Number(process.env.FROSTKV_SIM_SEEDS ?? kSeedsDefault);

function scratchRoot(): string {
  // tmpfs when there is one: the simulation writes thousands of small saves.
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  return mkdtempSync(join(base, 'frostkv-sim-'));
}

export async function simulateSeed(seed: number, saves: number): Promise<SimResult> {
  const root = scratchRoot();
  try {
    return await new Simulation(seed, root).run(saves);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`save-protocol simulation failed: ${message}\n(replay with FROSTKV_SIM_SEED=${seed})`, { cause: error });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('the save protocol under a seeded scheduler', () => {
  it('publishes only exact, loadable cuts across every interleaving of writes, cuts and worker steps', async () => {
    const replay = process.env.FROSTKV_SIM_SEED;
    const seeds = replay !== undefined && replay !== '' ? [Number(replay) >>> 0] : [];
    if (seeds.length === 0) {
      const count = seedCount;
      const first = testSeed();
      for (let i = 0; i < count; i++) seeds.push((first + i * 0x9e3779b1) >>> 0);
    }
    const saves = Number(process.env.FROSTKV_SIM_SAVES ?? kSavesPerSeedDefault);
    const totals = { saves: 0, failed: 0, writes: 0, workerSteps: 0, hotSegments: 0, heldTogetherMax: 0, collectionsCut: 0, expiredAtCut: 0 };
    // Every seed runs even after a failure, so a long run reports all failing seeds at once.
    const failures: string[] = [];
    for (const seed of seeds) {
      let result: SimResult;
      try {
        result = await simulateSeed(seed, saves);
      } catch (error) {
        failures.push((error as Error).message);
        continue;
      }
      totals.saves += result.saves;
      totals.failed += result.savesFailed;
      totals.writes += result.writes;
      totals.workerSteps += result.workerSteps;
      totals.hotSegments += result.hotSegments;
      totals.collectionsCut += result.collectionsCut;
      totals.expiredAtCut += result.expiredAtCut;
      totals.heldTogetherMax = Math.max(totals.heldTogetherMax, result.savesHeldTogetherMax);
    }
    process.stdout.write(`save-protocol simulation: ${seeds.length} seeds, ${failures.length} failed ${JSON.stringify(totals)}\n`);
    expect(failures, failures.join('\n\n')).toEqual([]);
    // The runs must have exercised what they claim to: hot segments, overlapping saves.
    expect(totals.saves).toBeGreaterThanOrEqual(seeds.length * saves);
    if (seeds.length >= 10) {
      expect(totals.hotSegments).toBeGreaterThan(0);
      expect(totals.heldTogetherMax).toBeGreaterThan(1);
      // ... and cuts carrying large hashes' tables and keys that had expired by the cut.
      expect(totals.collectionsCut).toBeGreaterThan(0);
      expect(totals.expiredAtCut).toBeGreaterThan(0);
    }
  }, Math.max(600_000, seedCount * kTimeoutMsPerSeed));
});
