/**
 * The golden format-3 save (test/persist/golden/v3, written once by the first build that wrote
 * format 3, with make-golden-v3.ts) loads with this build, key for key, with its types, expiry
 * times and hashes, from lz4 frames and raw frames alike. Expected contents come from the
 * generators (golden/data-v2.ts, make-golden-v3.ts). Never fix a failure by regenerating the
 * save: it means saves on disk would no longer load.
 */
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { open } from '../../src/database.js';
import { verifyFolder } from '../../src/persist/verify.js';
import { FsSeam } from '../../src/persist/fs-seam.js';
import { parseManifest } from '../../src/persist/format.js';
import { flattenFrames } from '../support/frames.js';
import { tempDir } from '../support/tmp.js';
import { goldenV2Strings } from './golden/data-v2.js';
import { expectGoldenV2 } from './golden/check-v2.js';
import { goldenV3BigValue, goldenV3Noise, kV3BigExpiresAtMs, kV3BigKey, kV3NoiseRecords } from './make-golden-v3.js';

const kGoldenDir = fileURLToPath(new URL('./golden/v3', import.meta.url));

function framesOf(path: string): { none: number; lz4: number } {
  return flattenFrames(readFileSync(join(kGoldenDir, path))).frames;
}

describe('the golden format-3 save', () => {
  it('is format 3 and holds lz4 frames, raw frames of incompressible records and a big value in a raw frame', () => {
    const manifest = parseManifest(readFileSync(join(kGoldenDir, 'MANIFEST')), 'MANIFEST');
    expect(manifest.formatVersion).toBe(3);
    // The big value's raw frame splits its block's other records into two lz4 frames.
    expect(framesOf('default/default/part-00000.fkv')).toEqual({ none: 1, lz4: 2 });
    expect(framesOf('app/noise/part-00000.fkv')).toEqual({ none: 1, lz4: 0 });
    expect(framesOf('default/default#1/part-00000.fkv').lz4).toBeGreaterThan(0);
  });

  it('passes the checks every reader runs (files, frames, records in their blocks, coverage)', () => {
    const verdict = verifyFolder(new FsSeam(), kGoldenDir);
    expect(verdict.problems).toEqual([]);
  });

  it('loads key for key with types, expiry times, hashes, lists, random bytes and a big value', async () => {
    const dataDir = tempDir('frostkv-golden-v3-');
    cpSync(kGoldenDir, join(dataDir, 'ks'), { recursive: true });
    const db = await open({ server: { dataDir } }, { saveOnShutdown: false });
    try {
      expectGoldenV2(db);
      const t = db.table();
      expect(t.getString(kV3BigKey)).toBe(goldenV3BigValue());
      expect(t.expiresAt(kV3BigKey)).toBe(kV3BigExpiresAtMs);
      expect(t.size).toBe(goldenV2Strings().length + 3);
      const noise = db.table('app:noise');
      expect(noise.size).toBe(kV3NoiseRecords);
      for (const [key, value] of goldenV3Noise()) expect(noise.get(key)).toEqual(value);
    } finally {
      await db.close();
    }
  });
});
