import { describe, expect, it } from 'vitest';
import { Table, forEachRecord, kKeepExpiry, kNoExpiry } from '../../src/table/table.js';
import { record } from '../../src/table/segment.js';

/** A table on a clock the test moves by hand. */
function clocked(): { table: Table; clock: { now: number } } {
  const clock = { now: 1_000_000 };
  const table = new Table({ seed: 7, clock: () => clock.now });
  return { table, clock };
}

function expiryOf(table: Table, key: string): number | undefined {
  return table.lookup(key) ? record.expiresAtMs : undefined;
}

const big = 'v'.repeat(10_000); // out of line

describe('per-key expiry in the table', () => {
  it('stores an expiry time with a key and hides the key once its time has passed', () => {
    const { table, clock } = clocked();
    table.set('a', '1', clock.now + 100);
    table.set('b', '2');
    table.set('big', big, clock.now + 100);
    expect(expiryOf(table, 'a')).toBe(clock.now + 100);
    expect(expiryOf(table, 'b')).toBe(kNoExpiry);
    expect(table.expiringKeys()).toBe(2);
    clock.now += 99;
    expect(table.get('a')?.toString()).toBe('1');
    clock.now += 1;
    expect(table.get('a')).toBeUndefined();
    expect(table.has('big')).toBe(false);
    expect(table.size).toBe(1);
    expect(table.expiredCount).toBe(2);
    expect(table.expiringKeys()).toBe(0);
    table.checkInvariants();
  });

  it('reports each expired key to its listener', () => {
    const { table, clock } = clocked();
    const seen: string[] = [];
    table.onExpired = (bytes, offset, length) => seen.push(Buffer.from(bytes.subarray(offset, offset + length)).toString());
    table.set('x', '1', clock.now + 1);
    table.set('y', big, clock.now + 1);
    clock.now += 5;
    expect(table.has('x')).toBe(false);
    expect(table.sweepExpired(clock.now, 100).expired).toBe(1);
    expect(seen.sort()).toEqual(['x', 'y']);
  });

  it('treats an expired key as absent for insert, update and delete', () => {
    const { table, clock } = clocked();
    table.set('k', 'old', clock.now + 10);
    clock.now += 10;
    expect(table.update('k', 'new')).toBe(false);
    table.set('k', 'old', clock.now + 10);
    clock.now += 10;
    expect(table.delete('k')).toBe(false);
    table.set('k', 'old', clock.now + 10);
    clock.now += 10;
    expect(table.insert('k', 'fresh')).toBe(true);
    expect(table.get('k')?.toString()).toBe('fresh');
    expect(expiryOf(table, 'k')).toBe(kNoExpiry);
    expect(table.size).toBe(1);
  });

  it('SET replaces the expiry unless told to keep it', () => {
    const { table, clock } = clocked();
    table.set('k', 'v1', clock.now + 50);
    table.set('k', 'v2', kKeepExpiry);
    expect(expiryOf(table, 'k')).toBe(clock.now + 50);
    table.set('k', 'v3');
    expect(expiryOf(table, 'k')).toBe(kNoExpiry);
    table.set('k', big, clock.now + 70);
    table.set('k', big + 'x', kKeepExpiry);
    expect(expiryOf(table, 'k')).toBe(clock.now + 70);
    table.checkInvariants();
  });

  it('changes, adds and removes expiry times of inline and out-of-line records without touching values', () => {
    const { table, clock } = clocked();
    table.set('small', 'value');
    table.set('big', big);
    for (const key of ['small', 'big']) {
      expect(table.setExpiry(key, clock.now + 10)).toBe(true);
      expect(expiryOf(table, key)).toBe(clock.now + 10);
      expect(table.setExpiry(key, clock.now + 20)).toBe(true); // in place
      expect(expiryOf(table, key)).toBe(clock.now + 20);
      expect(table.setExpiry(key, kNoExpiry)).toBe(true);
      expect(expiryOf(table, key)).toBe(kNoExpiry);
    }
    expect(table.get('small')?.toString()).toBe('value');
    expect(table.get('big')?.toString()).toBe(big);
    expect(table.setExpiry('missing', clock.now + 5)).toBe(false);
    expect(table.expiringKeys()).toBe(0);
    table.checkInvariants();
  });

  it('keeps types and expiry times through splits and compactions', () => {
    const { table, clock } = clocked();
    const n = 20_000;
    for (let i = 0; i < n; i++) table.set(`key-${i}`, `value-${i}`, i % 3 === 0 ? clock.now + 1000 + i : kNoExpiry, i % 5 === 0 ? 2 : 0);
    // Churn forces compactions as well as splits.
    for (let round = 0; round < 3; round++) for (let i = 0; i < n; i += 7) table.set(`key-${i}`, `value-${i}-${round}-longer`, kKeepExpiry, i % 5 === 0 ? 2 : 0);
    table.checkInvariants();
    for (let i = 0; i < n; i++) {
      expect(table.lookup(`key-${i}`)).toBe(true);
      expect(record.expiresAtMs).toBe(i % 3 === 0 ? clock.now + 1000 + i : 0);
      expect(record.type).toBe(i % 5 === 0 ? 2 : 0);
    }
    expect(table.expiringKeys()).toBe(Math.ceil(n / 3));
    clock.now += 1000 + n;
    let swept = 0;
    for (;;) {
      const step = table.sweepExpired(clock.now, 500);
      swept += step.expired;
      expect(step.sampled).toBeLessThanOrEqual(500);
      if (step.wrapped && step.expired === 0) break;
    }
    expect(swept).toBe(Math.ceil(n / 3));
    expect(table.size).toBe(n - Math.ceil(n / 3));
    table.checkInvariants();
  });

  it('sweeps in bounded samples and only removes keys that are due', () => {
    const { table, clock } = clocked();
    for (let i = 0; i < 5000; i++) table.set(`k${i}`, 'v', clock.now + (i % 2 === 0 ? 10 : 1_000_000));
    clock.now += 10;
    const step = table.sweepExpired(clock.now, 100);
    expect(step.sampled).toBe(100);
    expect(step.expired).toBeGreaterThan(20);
    let total = step.expired;
    while (total < 2500) total += table.sweepExpired(clock.now, 100).expired;
    expect(total).toBe(2500);
    expect(table.size).toBe(2500);
    for (let i = 1; i < 5000; i += 2) expect(table.has(`k${i}`)).toBe(true);
  });

  it('a cut contains exactly the keys alive at its time, whatever happens after it', () => {
    const { table, clock } = clocked();
    table.set('dies-before', 'v', clock.now + 5);
    table.set('dies-after', 'v', clock.now + 50);
    table.set('forever', 'v');
    clock.now += 10;
    const frozen = table.freeze();
    expect(frozen.liveEntryCount()).toBe(2);
    // After the cut: a new expiry on a held segment copies; the frozen copy keeps the old time.
    table.setExpiry('forever', clock.now + 1);
    clock.now += 100;
    expect(table.size).toBe(3); // nothing read yet
    const cursor = table.keyCursor();
    expect(cursor.total).toBe(0);
    cursor.close();
    // The frozen generation still reads as at the cut: 'forever' without an expiry.
    const atCut = new Map<string, number>();
    for (const segment of frozen.segments) {
      forEachRecord(segment, () => atCut.set(Buffer.from(record.bytes.subarray(record.keyOffset, record.keyOffset + record.keyLength)).toString(), record.expiresAtMs), Infinity, frozen.cutMs);
    }
    expect([...atCut.keys()].sort()).toEqual(['dies-after', 'forever']);
    expect(atCut.get('forever')).toBe(kNoExpiry);
    frozen.release();
    table.checkInvariants();
  });
});
