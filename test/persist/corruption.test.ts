import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { open } from '../../src/database.js';
import { createWorkerPool, type WorkerPool } from '../../src/persist/worker-pool.js';
import { verifySave } from '../../src/persist/restore.js';
import { withSeed, type Rng } from '../support/random.js';
import { tempDir } from '../support/tmp.js';

let pool: WorkerPool;
let base: string;
let dataDir: string;

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push(relative(dir, path));
    }
  };
  walk(dir);
  return out.sort();
}

function flip(bytes: Buffer, at: number): void {
  bytes[at] = (bytes[at] as number) ^ 0xff;
}

type Mutation = { name: string; apply: (path: string, rng: Rng) => void };

const mutations: Mutation[] = [
  {
    name: 'flipped byte',
    apply: (path, rng) => {
      const bytes = readFileSync(path);
      const at = rng.int(bytes.length);
      bytes[at] = (bytes[at] as number) ^ (1 + rng.int(255));
      writeFileSync(path, bytes);
    },
  },
  { name: 'truncated', apply: (path, rng) => truncateSync(path, rng.int(statSync(path).size)) },
  { name: 'extended', apply: (path) => appendFileSync(path, Buffer.from([0x90, 0xc0])) },
  { name: 'deleted', apply: (path) => rmSync(path) },
];

beforeAll(async () => {
  pool = createWorkerPool(2);
  dataDir = tempDir();
  const db = await open({ server: { dataDir }, bgsave: { enabled: false, every: 120 } }, { saveOnShutdown: false });
  db.createKeyspace('app');
  db.createTable('app:lists', 'keymap(str,list<str>)');
  for (let i = 0; i < 40_000; i++) db.table().set(`k${i}`, `value-${i}`);
  db.table().set('big', Buffer.alloc(400_000, 3));
  db.table('app:lists').listCreate('l', ['x', 'y', 'z']);
  expect((await db.snapshot('base')).code).toBe('ok');
  expect((await db.save()).ok).toBe(true);
  await db.close();
  base = join(dataDir, 'rsnap', 'base');
});
afterAll(async () => {
  await pool.destroy();
});

describe('corruption', () => {
  it('is detected by verify in every file of a save, naming the file, for flips, truncation, extension and deletion', async () => {
    await withSeed(async (rng) => {
      const files = filesUnder(base);
      expect(files).toContain('MANIFEST');
      expect(files.length).toBeGreaterThanOrEqual(3);
      expect((await verifySave(pool, base)).ok).toBe(true);
      for (const file of files) {
        for (const mutation of mutations) {
          for (let trial = 0; trial < (mutation.name === 'flipped byte' ? 4 : 1); trial++) {
            const copy = join(tempDir(), 'copy');
            cpSync(base, copy, { recursive: true });
            mutation.apply(join(copy, file), rng);
            const report = await verifySave(pool, copy);
            expect(report.ok, `${mutation.name} ${file}`).toBe(false);
            const named = report.problems.some((problem) => problem.path.includes(file) || problem.message.includes(file));
            expect(named, `${mutation.name} ${file}: ${JSON.stringify(report.problems)}`).toBe(true);
          }
        }
      }
    });
  });

  it('makes startup refuse a corrupt live save, naming the file and suggesting --restore, and change nothing', async () => {
    const dir = tempDir();
    cpSync(dataDir, dir, { recursive: true });
    const victim = filesUnder(join(dir, 'ks')).find((file) => file.endsWith('.fkv'))!;
    const bytes = readFileSync(join(dir, 'ks', victim));
    flip(bytes, bytes.length >> 1);
    writeFileSync(join(dir, 'ks', victim), bytes);
    const before = filesUnder(dir);
    await expect(open({ server: { dataDir: dir } })).rejects.toThrow(
      expect.objectContaining({ code: 'ERR_CORRUPT_SAVE', message: expect.stringMatching(new RegExp(`${victim.replace(/[.]/g, '\\.')}[\\s\\S]*checksum[\\s\\S]*--restore`)) }),
    );
    expect(filesUnder(dir)).toEqual(before);
    // The lock was released: fixing the file lets the server start.
    flip(bytes, bytes.length >> 1);
    writeFileSync(join(dir, 'ks', victim), bytes);
    const db = await open({ server: { dataDir: dir } }, { saveOnShutdown: false });
    expect(db.table().size).toBe(40_001);
    await db.close();
  });

  it('refuses a live save whose MANIFEST is missing', async () => {
    const dir = tempDir();
    cpSync(dataDir, dir, { recursive: true });
    rmSync(join(dir, 'ks', 'MANIFEST'));
    await expect(open({ server: { dataDir: dir } })).rejects.toThrow(expect.objectContaining({ code: 'ERR_CORRUPT_SAVE', message: expect.stringContaining('MANIFEST') }));
  });

  it('makes restore refuse a corrupt snapshot before anything changes', async () => {
    const dir = tempDir();
    cpSync(dataDir, dir, { recursive: true });
    const bad = join(tempDir(), 'bad');
    cpSync(base, bad, { recursive: true });
    const victim = filesUnder(bad).find((file) => file.endsWith('.fkv'))!;
    truncateSync(join(bad, victim), 100);
    const before = filesUnder(dir);
    await expect(open({ server: { dataDir: dir }, restore: bad })).rejects.toThrow(
      expect.objectContaining({ code: 'ERR_RESTORE_REFUSED', message: expect.stringContaining(victim) }),
    );
    expect(filesUnder(dir)).toEqual(before);
  });
});
