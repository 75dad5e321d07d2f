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
import { goldenV2Strings } from './golden/data-v2.js';
import { expectGoldenV2 } from './golden/check-v2.js';

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
      expectGoldenV2(db);
      expect(db.table().size).toBe(goldenV2Strings().length + 2);
    } finally {
      await db.close();
    }
  });
});
