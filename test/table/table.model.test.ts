import { describe, expect, it } from 'vitest';
import { Table } from '../../src/table/table.js';
import { kInlineEntryMaxBytes } from '../../src/table/layout.js';
import { withSeed, type Rng } from '../support/random.js';

function randomKey(rng: Rng, keySpace: number): Buffer {
  const id = rng.int(keySpace);
  // Mostly short keys; some long ones, including out-of-line sized keys.
  if (id % 97 === 0) return Buffer.from(`long-${id}-${'k'.repeat(5000)}`);
  if (id % 13 === 0) return Buffer.concat([Buffer.from([0, 255, id & 0xff]), Buffer.from(String(id))]);
  return Buffer.from(`key:${id}`);
}

function randomValue(rng: Rng): Buffer {
  const roll = rng.float();
  if (roll < 0.02) return rng.bytes(kInlineEntryMaxBytes + rng.int(20_000));
  if (roll < 0.05) return Buffer.alloc(0);
  return rng.bytes(rng.int(200));
}

function runModel(rng: Rng, operations: number, keySpace: number): { table: Table; model: Map<string, Buffer> } {
  const table = new Table({ seed: rng.nextU32() });
  const model = new Map<string, Buffer>();
  for (let i = 0; i < operations; i++) {
    const key = randomKey(rng, keySpace);
    const id = key.toString('latin1');
    const roll = rng.float();
    if (roll < 0.35) {
      const value = randomValue(rng);
      table.set(key, value);
      model.set(id, value);
    } else if (roll < 0.5) {
      const value = randomValue(rng);
      expect(table.insert(key, value)).toBe(!model.has(id));
      if (!model.has(id)) model.set(id, value);
    } else if (roll < 0.6) {
      const value = randomValue(rng);
      expect(table.update(key, value)).toBe(model.has(id));
      if (model.has(id)) model.set(id, value);
    } else if (roll < 0.8) {
      expect(table.delete(key)).toBe(model.delete(id));
    } else {
      const got = table.get(key);
      const want = model.get(id);
      if (want === undefined) expect(got).toBeUndefined();
      else expect(got?.equals(want), `value of ${id.slice(0, 40)}`).toBe(true);
    }
    expect(table.size).toBe(model.size);
  }
  return { table, model };
}

describe('table against a Map model', () => {
  it('agrees on long random operation sequences that force splits, compaction and large values', async () => {
    await withSeed((rng) => {
      const { table, model } = runModel(rng, 120_000, 20_000);
      table.checkInvariants();
      const stats = table.stats();
      expect(stats.segmentCount).toBeGreaterThan(8);
      expect(stats.blobBytes).toBeGreaterThan(0);
      const seen = new Map<string, Buffer>();
      for (const [key, value] of table) seen.set(key.toString('latin1'), value);
      expect(seen.size).toBe(model.size);
      for (const [id, value] of model) expect(seen.get(id)?.equals(value)).toBe(true);
    });
  });

  it('keeps every key through heavy churn on a small key space (compaction, not growth)', async () => {
    await withSeed((rng) => {
      const { table, model } = runModel(rng, 80_000, 500);
      table.checkInvariants();
      for (const [id, value] of model) expect(table.get(Buffer.from(id, 'latin1'))?.equals(value)).toBe(true);
      // 500 keys never need hundreds of segments: garbage is compacted instead of split.
      expect(table.stats().segmentCount).toBeLessThan(64);
    });
  });

  it('treats a string key and the Buffer of its UTF-8 bytes as the same key', () => {
    const table = new Table();
    table.set('ascii', 'one');
    table.set('ünïcødé ✓', 'two');
    expect(table.getString(Buffer.from('ascii'))).toBe('one');
    expect(table.getString(Buffer.from('ünïcødé ✓', 'utf8'))).toBe('two');
    table.set(Buffer.from('ünïcødé ✓', 'utf8'), 'three');
    expect(table.size).toBe(2);
    expect(table.getString('ünïcødé ✓')).toBe('three');
  });

  it('stores empty keys and empty values', () => {
    const table = new Table();
    table.set('', '');
    expect(table.has('')).toBe(true);
    expect(table.get('')?.length).toBe(0);
    expect(table.delete('')).toBe(true);
    expect(table.size).toBe(0);
  });

  it('refuses keys and values over the limits with stable codes, at the limit and one past it', () => {
    const table = new Table({ keyMaxBytes: 70_000, valueMaxBytes: 100_000 });
    table.set(Buffer.alloc(70_000, 1), Buffer.alloc(100_000, 2));
    expect(table.get(Buffer.alloc(70_000, 1))?.length).toBe(100_000);
    expect(() => table.set(Buffer.alloc(70_001, 1), 'v')).toThrow(expect.objectContaining({ code: 'ERR_KEY_TOO_LARGE' }));
    expect(() => table.set('k', Buffer.alloc(100_001))).toThrow(expect.objectContaining({ code: 'ERR_VALUE_TOO_LARGE' }));
    expect(() => table.set('k', 'x'.repeat(100_001))).toThrow(expect.objectContaining({ code: 'ERR_VALUE_TOO_LARGE' }));
    expect(table.size).toBe(1);
  });

  it('holds a 64 KiB key and a 64 MiB value by default', () => {
    const table = new Table();
    const key = Buffer.alloc(65_536, 7);
    const value = Buffer.alloc(64 * 1024 * 1024, 9);
    table.set(key, value);
    expect(table.valueLength(key)).toBe(value.length);
    expect(table.get(key)?.equals(value)).toBe(true);
  });

  it('clears in one step and reclaims the old segments in the background', async () => {
    const table = new Table();
    for (let i = 0; i < 50_000; i++) table.set(`k${i}`, 'v'.repeat(50));
    const before = table.pool.stats().pooledBytes;
    table.clear();
    expect(table.size).toBe(0);
    expect(table.get('k1')).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(table.pool.stats().pooledBytes).toBeGreaterThan(before);
    table.set('k1', 'again');
    expect(table.getString('k1')).toBe('again');
    table.checkInvariants();
  });
});
