/**
 * The golden format-2 save (test/persist/golden/v2, written once by the first build that wrote
 * format 2, with golden/make-golden-v2.ts) loads with this build, key for key, with its types,
 * expiry times and hashes. Expected contents come from the generator (golden/data-v2.ts).
 * Never fix a failure by regenerating the save: it means saves on disk would no longer load.
 */
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { open } from '../../src/database.js';
import { verifyFolder } from '../../src/persist/verify.js';
import { FsSeam } from '../../src/persist/fs-seam.js';
import { tempDir } from '../support/tmp.js';
import { goldenV2LargeHash, goldenV2Strings, kV2LargeHashFields, kV2Lists, kV2SmallHash } from './golden/data-v2.js';

const kGoldenDir = fileURLToPath(new URL('./golden/v2', import.meta.url));

describe('the golden format-2 save', () => {
  it('passes the checks every reader runs (files, records in their blocks, coverage)', () => {
    const verdict = verifyFolder(new FsSeam(), kGoldenDir);
    expect(verdict.problems).toEqual([]);
  });

  it('loads key for key with types, expiry times, a small hash, a large hash and lists', async () => {
    const dataDir = tempDir('frostkv-golden-v2-');
    cpSync(kGoldenDir, join(dataDir, 'ks'), { recursive: true });
    const db = await open({ server: { dataDir } }, { saveOnShutdown: false });
    try {
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
      expect(t.expiresAt('hash:large')).toBe(4_102_444_800_000);
      expect(t.size).toBe(goldenV2Strings().length + 2);
      for (const [key, values] of kV2Lists) expect(db.table('app:lists').list(key)?.map(String)).toEqual(values);
    } finally {
      await db.close();
    }
  });
});
