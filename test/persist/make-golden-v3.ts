/**
 * The golden format-3 save (test/persist/golden/v3): what it holds, as pure generators, and,
 * run as a script, the writer that made it once through the public embedded API. NEVER RE-RUN
 * FOR FORMAT 3: it was made by the first build that wrote format 3; later builds must load it
 * as it is (test/persist/golden-v3.test.ts).
 *
 * It holds format 2's golden data (strings with and without expiry times, a small and a large
 * hash, lists), which frostkv stores in lz4 frames, plus a table of random bytes that lz4 cannot
 * shrink (raw frames) and a value of kV3BigValueBytes, which is a raw frame of its own.
 *
 *   npx tsx test/persist/make-golden-v3.ts <new folder>   (refuses a folder that exists)
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kV2FarFutureMs } from './golden/data-v2.js';
import { fillGoldenV2, writeGolden } from './golden/maker.js';

/** At the writer's direct-write threshold (256 KiB): always a raw frame of its own. */
export const kV3BigValueBytes = 256 * 1024;
export const kV3NoiseRecords = 16;
const kNoiseKeyBytes = 32;
const kNoiseValueBytes = 64;

export function goldenV3BigValue(): string {
  let out = '';
  for (let i = 0; out.length < kV3BigValueBytes; i++) out += `${i.toString(36)};`;
  return out.slice(0, kV3BigValueBytes);
}

/** Records of `app:noise` (binstr -> binstr): bytes of a fixed LCG, which lz4 cannot compress. */
export function goldenV3Noise(): Array<[Buffer, Buffer]> {
  let state = 0x2545f491;
  const bytes = (n: number): Buffer => {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
      out[i] = state >>> 24;
    }
    return out;
  };
  return Array.from({ length: kV3NoiseRecords }, () => [bytes(kNoiseKeyBytes), bytes(kNoiseValueBytes)] as [Buffer, Buffer]);
}

export const kV3BigKey = 'big:v3';
export const kV3BigExpiresAtMs = kV2FarFutureMs + 2_000_000;

async function main(target: string | undefined): Promise<number> {
  return writeGolden('make-golden-v3.ts', target, async (db) => {
    fillGoldenV2(db);
    const t = db.table();
    t.set(kV3BigKey, goldenV3BigValue());
    t.expireAt(kV3BigKey, kV3BigExpiresAtMs);
    db.createTable('app:noise', 'keymap(binstr,binstr)');
    for (const [key, value] of goldenV3Noise()) db.table('app:noise').set(key, value);
    const result = await db.snapshot('golden-v3');
    if (result.code !== 'ok') throw new Error(`snapshot failed: ${JSON.stringify(result)}`);
    return 'rsnap/golden-v3';
  });
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv[2]);
}
