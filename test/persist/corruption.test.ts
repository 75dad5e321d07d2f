import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { open } from '../../src/database.js';
import { createWorkerPool, type WorkerPool } from '../../src/persist/worker-pool.js';
import { verifySave } from '../../src/persist/restore.js';
import { withSeed, type Rng } from '../support/random.js';
import { tempDir } from '../support/tmp.js';
import { frameSpans, type FrameSpan } from '../support/frames.js';
import { pack } from 'msgpackr';
import { decodeTask, type DecodeResult } from '../../src/persist/decode.js';
import { crc32Hex, parseManifest, serializeManifest, type Manifest } from '../../src/persist/format.js';
import { crc32 } from 'node:zlib';

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

// ---- format 3: frames damaged in ways the file's crc32 cannot see ----

/**
 * A copy of `base` whose data file `path` holds `bytes`, with the manifest's size and crc32
 * for it rewritten to match: what a writer bug (or a crc32 collision) would leave, so that the
 * decoder's own checks of frames are what must refuse it.
 */
function copyWithFile(path: string, bytes: Buffer): { dir: string; manifest: Manifest } {
  const dir = join(tempDir(), 'copy');
  cpSync(base, dir, { recursive: true });
  writeFileSync(join(dir, path), bytes);
  const manifest = parseManifest(readFileSync(join(dir, 'MANIFEST')), 'MANIFEST');
  for (const space of manifest.keyspaces) {
    for (const table of space.tables) {
      for (const file of table.files) {
        if (file.path !== path) continue;
        file.sizeBytes = bytes.length;
        file.crc32 = crc32Hex(crc32(bytes));
      }
    }
  }
  writeFileSync(join(dir, 'MANIFEST'), serializeManifest(manifest));
  return { dir, manifest };
}

/** Decode (build or verify) one file of a save in this thread, as a worker would. */
function decodeIn(dir: string, manifest: Manifest, path: string, build: boolean): DecodeResult {
  for (const space of manifest.keyspaces) {
    for (const table of space.tables) {
      const file = table.files.find((entry) => entry.path === path);
      if (file === undefined) continue;
      return decodeTask({ kind: 'decode', dir, keyspace: space.name, table: table.name, model: table.model, hashSeed: table.hashSeed, file, build, nowMs: Date.now(), faults: null });
    }
  }
  throw new Error(`${path} is not in the manifest`);
}

const kDefaultFile = 'default/default/part-00000.fkv';

function firstLz4Frame(bytes: Buffer): FrameSpan {
  const span = frameSpans(bytes).find((candidate) => candidate.frame.codec === 'lz4' && candidate.frame.storedBytes > 64);
  if (span === undefined) throw new Error('no lz4 frame in the file');
  return span;
}

function expectRefused(result: DecodeResult, check: RegExp): void {
  expect(result.ok).toBe(false);
  if (result.ok) return;
  expect(result.failure.code).toBe('ERR_CORRUPT_SAVE');
  expect(result.failure.message).toContain(kDefaultFile);
  expect(result.failure.message).toMatch(check);
}

describe('corruption of format-3 frames', () => {
  it('a flipped byte inside an lz4 frame is refused by verify and by the load (checksum), naming the file', async () => {
    const bytes = readFileSync(join(base, kDefaultFile));
    const span = firstLz4Frame(bytes);
    flip(bytes, span.at + (span.frame.storedBytes >> 1));
    const copy = join(tempDir(), 'copy');
    cpSync(base, copy, { recursive: true });
    writeFileSync(join(copy, kDefaultFile), bytes);
    const report = await verifySave(pool, copy);
    expect(report.ok).toBe(false);
    expect(report.problems.some((problem) => problem.message.includes(kDefaultFile) && /checksum/.test(problem.message))).toBe(true);
    const dir = tempDir();
    cpSync(copy, join(dir, 'ks'), { recursive: true });
    await expect(open({ server: { dataDir: dir } })).rejects.toThrow(expect.objectContaining({ code: 'ERR_CORRUPT_SAVE', message: expect.stringContaining(kDefaultFile) }));
  });

  it('flipped bytes inside lz4 frames that the crc32 misses are refused as corrupt or load, never crash', async () => {
    await withSeed((rng) => {
      const original = readFileSync(join(base, kDefaultFile));
      const spans = frameSpans(original).filter((span) => span.frame.codec === 'lz4');
      expect(spans.length).toBeGreaterThan(1);
      let refused = 0;
      for (let trial = 0; trial < 40; trial++) {
        const bytes = Buffer.from(original);
        const span = spans[rng.int(spans.length)] as FrameSpan;
        // Past the size prefix: the lz4 block itself.
        const at = span.at + 4 + rng.int(span.frame.storedBytes - 4);
        bytes[at] = (bytes[at] as number) ^ (1 + rng.int(255));
        const { dir, manifest } = copyWithFile(kDefaultFile, bytes);
        const result = decodeIn(dir, manifest, kDefaultFile, trial % 2 === 0);
        if (!result.ok) {
          expect(result.failure.code).toBe('ERR_CORRUPT_SAVE');
          expect(result.failure.message).toContain(kDefaultFile);
          refused++;
        }
      }
      // Most flips break the lz4 stream, a record's framing or its block (a flipped literal in a
      // value is what only the crc32 catches).
      expect(refused).toBeGreaterThan(10);
    });
  });

  it('a block truncated inside an lz4 frame is refused (frame header: more bytes than the file holds)', () => {
    const original = readFileSync(join(base, kDefaultFile));
    const span = firstLz4Frame(original);
    const { dir, manifest } = copyWithFile(kDefaultFile, original.subarray(0, span.at + (span.frame.storedBytes >> 1)));
    for (const build of [false, true]) expectRefused(decodeIn(dir, manifest, kDefaultFile, build), /frame header failed: .*more bytes than the file holds/);
  });

  it('a frame whose uncompressed size is wrong is refused, in its header or in its lz4 block', async () => {
    const original = readFileSync(join(base, kDefaultFile));
    const span = firstLz4Frame(original);
    const header = pack({ ...span.frame, rawBytes: span.frame.rawBytes + 1 });
    const wrongHeader = Buffer.concat([original.subarray(0, span.headerAt), header, original.subarray(span.at)]);
    const wrongBoth = Buffer.from(wrongHeader);
    wrongBoth.writeUInt32LE(span.frame.rawBytes + 1, span.headerAt + header.length);
    const wrongPrefix = Buffer.from(original);
    wrongPrefix.writeUInt32LE(span.frame.rawBytes - 1, span.at);
    for (const [bytes, check] of [
      [wrongHeader, /frame size failed: the lz4 block does not say/],
      [wrongPrefix, /frame size failed: the lz4 block does not say/],
      [wrongBoth, /frame (size|decompression) failed/],
    ] as const) {
      const { dir, manifest } = copyWithFile(kDefaultFile, bytes);
      for (const build of [false, true]) expectRefused(decodeIn(dir, manifest, kDefaultFile, build), check);
      const dataDir = tempDir();
      cpSync(dir, join(dataDir, 'ks'), { recursive: true });
      await expect(open({ server: { dataDir } })).rejects.toThrow(expect.objectContaining({ code: 'ERR_CORRUPT_SAVE', message: expect.stringMatching(check) }));
    }
  });

  it('a frame whose record count is wrong is refused: bytes left after its records, or more records than its block', () => {
    const original = readFileSync(join(base, kDefaultFile));
    const span = firstLz4Frame(original);
    for (const [records, check] of [[span.frame.records - 1, /frame records failed: .*bytes after its/], [span.frame.records + 1, /frame header failed: bad record count/]] as const) {
      const header = pack({ ...span.frame, records });
      const bytes = Buffer.concat([original.subarray(0, span.headerAt), header, original.subarray(span.at)]);
      const { dir, manifest } = copyWithFile(kDefaultFile, bytes);
      expectRefused(decodeIn(dir, manifest, kDefaultFile, false), check);
    }
  });
});
