import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { ExpirySweeper } from '../../src/engine/expiry.js';
import { open } from '../../src/database.js';

describe('the active expiry sweep', () => {
  it('removes due keys in slices bounded by its time budget, and only due keys', () => {
    const clock = { now: 1_800_000_000_000 };
    const engine = new Engine({ clock: () => clock.now });
    const t = engine.table('default:default');
    for (let i = 0; i < 60_000; i++) t.set(`k${i}`, 'v', { ttlMs: i % 4 === 0 ? 600_000 : 10 });
    clock.now += 20;
    const sweeper = new ExpirySweeper(engine, { sliceBudgetMs: 1 });
    const first = sweeper.runSlice();
    expect(first.exhausted).toBe(true);
    expect(first.expired).toBeGreaterThan(0);
    // The budget is checked every 64 samples: a slice overruns it by one batch at most.
    expect(first.elapsedMs).toBeLessThan(5);
    let slices = 1;
    while (t.size > 15_000 && slices < 10_000) {
      sweeper.runSlice();
      slices++;
    }
    expect(t.size).toBe(15_000);
    expect(sweeper.expiredTotal).toBe(45_000);
    expect(t.expiredKeys).toBe(45_000);
    const idle = sweeper.runSlice();
    expect(idle.expired).toBe(0);
    expect(idle.sampled).toBeGreaterThan(0); // it looked, found nothing due: the next slice waits for the interval
  });

  it('runs by itself in an open database: keys nobody reads are gone soon after their time', async () => {
    const db = await open({}, { inMemory: true });
    try {
      const t = db.table();
      for (let i = 0; i < 5_000; i++) t.set(`k${i}`, 'v', { ttlMs: 30 });
      t.set('stays', 'v');
      const deadline = Date.now() + 5_000;
      while (t.size > 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(t.size).toBe(1);
      expect(db.expiry.expiredTotal).toBe(5_000);
    } finally {
      await db.close();
    }
  });
});
