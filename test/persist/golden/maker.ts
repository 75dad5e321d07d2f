/**
 * What every golden-save writer shares (make-golden.ts, make-golden-v2.ts, make-golden-v3.ts):
 * refuse a target folder that exists (a golden save is never regenerated), fill a database in
 * a temporary data directory through the public embedded API, save it, copy the save folder
 * to the target, and remove the temporary directory whatever happens; and format 2's data,
 * which the format-3 save holds too.
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { open, type Database } from '../../../src/database.js';
import { goldenV2LargeHash, goldenV2Strings, kV2FarFutureMs, kV2Lists, kV2SmallHash } from './data-v2.js';

/**
 * `fill` writes the data and saves it, returning the save folder to copy (relative to the
 * data directory). Returns the process exit code: 0 written, 1 the target exists, 2 no target.
 */
export async function writeGolden(script: string, target: string | undefined, fill: (db: Database) => Promise<string>): Promise<number> {
  if (target === undefined) {
    process.stderr.write(`usage: ${script} <new folder>\n`);
    return 2;
  }
  const out = resolve(target);
  if (existsSync(out)) {
    process.stderr.write(`${out} exists: a golden save is never regenerated (see the header of this file)\n`);
    return 1;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'frostkv-golden-'));
  try {
    const db = await open({ server: { dataDir } }, { saveOnShutdown: false });
    const folder = await fill(db);
    await db.close();
    cpSync(join(dataDir, folder), out, { recursive: true });
    process.stdout.write(`wrote ${out}\n`);
    return 0;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Format 2's golden data (data-v2.ts): strings with and without expiry, two hashes, app:lists. */
export function fillGoldenV2(db: Database): void {
  const t = db.table();
  for (const { key, value, expiresAtMs } of goldenV2Strings()) {
    t.set(key, value);
    if (expiresAtMs !== 0) t.expireAt(key, expiresAtMs);
  }
  t.hashSet('hash:small', kV2SmallHash);
  t.hashSet('hash:large', goldenV2LargeHash());
  t.expireAt('hash:large', kV2FarFutureMs);
  db.createKeyspace('app');
  db.createTable('app:lists', 'keymap(str,list<str>)');
  for (const [key, values] of kV2Lists) db.table('app:lists').listCreate(key, values);
}
