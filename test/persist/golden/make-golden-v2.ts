/**
 * Writes the golden format-2 save (test/persist/golden/v2) from data-v2.ts through the public
 * embedded API. NEVER RE-RUN FOR FORMAT 2: it was made once, by the first build that wrote
 * format 2; later builds must load it as it is (test/persist/golden-v2.test.ts).
 *
 *   npx tsx test/persist/golden/make-golden-v2.ts <new folder>   (refuses a folder that exists)
 */
import { fillGoldenV2, writeGolden } from './maker.js';

process.exitCode = await writeGolden('make-golden-v2.ts', process.argv[2], async (db) => {
  fillGoldenV2(db);
  const result = await db.snapshot('golden-v2');
  if (result.code !== 'ok') throw new Error(`snapshot failed: ${JSON.stringify(result)}`);
  return 'rsnap/golden-v2';
});
