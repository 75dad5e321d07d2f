import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Table } from '../../src/table/table.js';
import { digestEntries, mergeDigests, type Digest } from '../../src/table/digest.js';
import type { FrozenTable } from '../../src/table/generation.js';
import { createWorkerPool, type WorkerPool } from '../../src/persist/worker-pool.js';
import { withSeed } from '../support/random.js';

let pool: WorkerPool;
beforeAll(() => {
  pool = createWorkerPool(2);
});
afterAll(async () => {
  await pool.destroy();
});

/** Digest a frozen generation in real worker threads, split into `parts` tasks. */
function digestInWorkers(frozen: FrozenTable, parts: number, pauseEverySegmentMs?: number): Promise<Digest> {
  const status = frozen.status;
  const count = frozen.segments.length;
  const tasks: Array<Promise<Digest>> = [];
  for (let part = 0; part < parts; part++) {
    const indexes: number[] = [];
    for (let i = part; i < count; i += parts) indexes.push(i);
    tasks.push(
      pool.run(
        { kind: 'digest', segments: indexes.map((i) => frozen.wire(i)), status, statusIndexes: indexes, pauseEverySegmentMs },
      ) as Promise<Digest>,
    );
  }
  return Promise.all(tasks).then(mergeDigests);
}

function modelDigest(model: Map<string, Buffer>): Digest {
  return digestEntries([...model].map(([key, value]) => [Buffer.from(key, 'latin1'), value] as [Buffer, Buffer]));
}

describe('frozen generations', () => {
  it('keep the digest they had at the cut while 100k+ random writes hit the live table (read by piscina workers)', async () => {
    await withSeed(async (rng) => {
      const table = new Table({ seed: rng.nextU32() });
      const model = new Map<string, Buffer>();
      for (let i = 0; i < 60_000; i++) {
        const key = Buffer.from(`key:${i}`);
        const value = i % 500 === 0 ? rng.bytes(10_000) : rng.bytes(20 + rng.int(80));
        table.set(key, value);
        model.set(key.toString('latin1'), value);
      }
      const atCut = modelDigest(model);
      const frozen = table.freeze();
      const reading = digestInWorkers(frozen, 2, 3);
      let writes = 0;
      while (writes < 120_000) {
        for (let i = 0; i < 2_000; i++, writes++) {
          const key = Buffer.from(`key:${rng.int(90_000)}`);
          const id = key.toString('latin1');
          const roll = rng.float();
          if (roll < 0.6) {
            const value = roll < 0.01 ? rng.bytes(9_000) : rng.bytes(rng.int(120));
            table.set(key, value);
            model.set(id, value);
          } else {
            table.delete(key);
            model.delete(id);
          }
        }
        await yieldToLoop();
      }
      const seenByWorkers = await reading;
      expect(seenByWorkers).toEqual(atCut);
      expect(table.stats().cowCopyCount).toBeGreaterThan(0);
      frozen.release();
      expect(table.stats().cowBytesNow).toBe(0);
      expect(digestEntries(table.entries())).toEqual(modelDigest(model));
      table.checkInvariants();
    });
  });

  it('copy a segment once on its first write, never again, and not at all after release', () => {
    const table = new Table();
    for (let i = 0; i < 20_000; i++) table.set(`key:${i}`, 'v'.repeat(40));
    const segmentsAtCut = table.stats().segmentCount;
    const poolBefore = table.pool.stats().pooledBytes;
    const frozen = table.freeze();
    for (let i = 0; i < 20_000; i += 10) table.set(`key:${i}`, 'w'.repeat(40));
    const copies = table.stats().cowCopyCount;
    expect(copies).toBeGreaterThan(0);
    expect(copies).toBeLessThanOrEqual(segmentsAtCut);
    for (let i = 0; i < 20_000; i += 10) table.set(`key:${i}`, 'x'.repeat(40));
    expect(table.stats().cowCopyCount).toBe(copies);
    expect(table.stats().cowBytesNow).toBeGreaterThan(0);
    frozen.release();
    expect(table.stats().cowBytesNow).toBe(0);
    expect(table.pool.stats().pooledBytes).toBeGreaterThan(poolBefore);
    const afterRelease = table.stats().cowCopyCount;
    for (let i = 0; i < 20_000; i += 7) table.set(`key:${i}`, 'y'.repeat(40));
    expect(table.stats().cowCopyCount).toBe(afterRelease);
    expect(table.getString('key:70')).toBe('y'.repeat(40));
  });

  it('stop copying a segment once a worker has marked it done', async () => {
    const table = new Table();
    for (let i = 0; i < 30_000; i++) table.set(`key:${i}`, 'v'.repeat(40));
    const frozen = table.freeze();
    const expected = digestEntries(table.entries());
    const digest = await digestInWorkers(frozen, 2);
    expect(digest).toEqual(expected);
    for (let i = 0; i < frozen.segments.length; i++) expect(frozen.isDone(i)).toBe(true);
    for (let i = 0; i < 30_000; i += 3) table.set(`key:${i}`, 'w'.repeat(40));
    expect(table.stats().cowCopyCount).toBe(0);
    frozen.release();
  });

  it('hold overlapping generations independently, each at its own cut', async () => {
    const table = new Table();
    const model = new Map<string, Buffer>();
    const put = (i: number, v: string): void => {
      table.set(`key:${i}`, v);
      model.set(`key:${i}`, Buffer.from(v));
    };
    for (let i = 0; i < 10_000; i++) put(i, `a${i}`);
    const first = table.freeze();
    const firstDigest = modelDigest(model);
    for (let i = 0; i < 10_000; i += 2) put(i, `b${i}`);
    const second = table.freeze();
    const secondDigest = modelDigest(model);
    for (let i = 0; i < 15_000; i++) put(i, `c${i}`);
    expect(await digestInWorkers(second, 2)).toEqual(secondDigest);
    second.release();
    for (let i = 0; i < 15_000; i += 3) put(i, `d${i}`);
    expect(await digestInWorkers(first, 1)).toEqual(firstDigest);
    first.release();
    expect(table.stats().cowBytesNow).toBe(0);
    expect(table.stats().activeFrozenCount).toBe(0);
    expect(digestEntries(table.entries())).toEqual(modelDigest(model));
  });

  it('append a key rewritten during a save once, then rewrite it in place without touching the frozen view', async () => {
    const table = new Table();
    for (let i = 0; i < 5_000; i++) table.set(`key:${i}`, `v${String(i).padStart(8, '0')}`);
    const frozen = table.freeze();
    const atCut = digestEntries(table.entries());
    const before = table.stats();
    for (let round = 0; round < 1_000; round++) {
      for (let i = 0; i < 50; i++) table.set(`key:${i}`, `w${String(round).padStart(8, '0')}`);
    }
    // 50 keys rewritten 1000 times each: one append per key, then in place. Without that the
    // segments would have compacted (rebuilt) many times during the save.
    const after = table.stats();
    expect(after.segmentCount).toBe(before.segmentCount);
    expect(after.cowBytesNow).toBeLessThanOrEqual(before.segmentCount * 8 * 1024 + 8 * 1024);
    expect(await digestInWorkers(frozen, 2)).toEqual(atCut);
    frozen.release();
    expect(table.getString('key:7')).toBe('w00000999');
  });

  it('iterate a stable view while the table is written during iteration', () => {
    const table = new Table();
    for (let i = 0; i < 5_000; i++) table.set(`key:${i}`, `v${i}`);
    let seen = 0;
    for (const [key, value] of table) {
      const id = Number(key.toString().slice(4));
      expect(value.toString()).toBe(`v${id}`);
      table.set(`key:${id}`, 'changed');
      table.set(`new:${seen}`, 'x');
      seen++;
    }
    expect(seen).toBe(5_000);
    expect(table.size).toBe(10_000);
    expect(table.stats().activeFrozenCount).toBe(0);
  });

  it('cut a 1M-key table without copying data (pointer work only)', () => {
    const table = new Table();
    for (let i = 0; i < 1_000_000; i++) table.set(`key:${i}`, 'v'.repeat(16));
    const before = table.stats();
    const frozen = table.freeze();
    const after = table.stats();
    expect(after.cowBytesNow).toBe(0);
    expect(after.dataBytes).toBe(before.dataBytes);
    expect(frozen.segments.length).toBe(before.segmentCount);
    expect(frozen.entryCount()).toBe(1_000_000);
    frozen.release();
  });
});
