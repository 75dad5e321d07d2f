/**
 * Writes the golden format-2 save (test/persist/golden/v2) from data-v2.ts through the public
 * embedded API. NEVER RE-RUN FOR FORMAT 2: it was made once, by the first build that wrote
 * format 2; later builds must load it as it is (test/persist/golden-v2.test.ts).
 *
 *   npx tsx test/persist/golden/make-golden-v2.ts <new folder>   (refuses a folder that exists)
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { open } from '../../../src/database.js';
import { goldenV2LargeHash, goldenV2Strings, kV2Lists, kV2SmallHash } from './data-v2.js';

async function main(target: string | undefined): Promise<number> {
  if (target === undefined) {
    process.stderr.write('usage: make-golden-v2.ts <new folder>\n');
    return 2;
  }
  const out = resolve(target);
  if (existsSync(out)) {
    process.stderr.write(`${out} exists: a golden save is never regenerated (see the header of this file)\n`);
    return 1;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'frostkv-golden-v2-'));
  try {
    const db = await open({ server: { dataDir } }, { saveOnShutdown: false });
    const t = db.table();
    for (const { key, value, expiresAtMs } of goldenV2Strings()) {
      t.set(key, value);
      if (expiresAtMs !== 0) t.expireAt(key, expiresAtMs);
    }
    t.hashSet('hash:small', kV2SmallHash);
    t.hashSet('hash:large', goldenV2LargeHash());
    t.expireAt('hash:large', 4_102_444_800_000);
    db.createKeyspace('app');
    db.createTable('app:lists', 'keymap(str,list<str>)');
    for (const [key, values] of kV2Lists) db.table('app:lists').listCreate(key, values);
    const result = await db.snapshot('golden-v2');
    if (result.code !== 'ok') throw new Error(`snapshot failed: ${JSON.stringify(result)}`);
    await db.close();
    cpSync(join(dataDir, 'rsnap', 'golden-v2'), out, { recursive: true });
    process.stdout.write(`wrote ${out}\n`);
    return 0;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

process.exitCode = await main(process.argv[2]);
