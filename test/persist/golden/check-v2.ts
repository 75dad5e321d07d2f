/**
 * The load check format 2's golden data must pass wherever it is saved (golden-v2.test.ts,
 * golden-v3.test.ts): every string with its value, type and expiry time, both hashes (the
 * large one in its own table, with its expiry time) and the lists of app:lists.
 */
import { expect } from 'vitest';
import type { Database } from '../../../src/database.js';
import { goldenV2LargeHash, goldenV2Strings, kV2FarFutureMs, kV2LargeHashFields, kV2Lists, kV2SmallHash } from './data-v2.js';

export function expectGoldenV2(db: Database): void {
  const t = db.table();
  for (const { key, value, expiresAtMs } of goldenV2Strings()) {
    expect(t.getString(key), key).toBe(value);
    expect(t.expiresAt(key), key).toBe(expiresAtMs === 0 ? null : expiresAtMs);
    expect(t.type(key)).toBe('string');
  }
  expect(t.type('hash:small')).toBe('hash');
  expect(t.hashGetAll('hash:small').map(([f, v]) => [f.toString(), v.toString()])).toEqual(kV2SmallHash);
  expect(t.hashIsLarge('hash:large')).toBe(true);
  expect(t.hashLength('hash:large')).toBe(kV2LargeHashFields);
  for (const [field, value] of goldenV2LargeHash()) expect(t.hashGet('hash:large', field)?.toString()).toBe(value);
  expect(t.expiresAt('hash:large')).toBe(kV2FarFutureMs);
  for (const [key, values] of kV2Lists) expect(db.table('app:lists').list(key)?.map(String)).toEqual(values);
}
