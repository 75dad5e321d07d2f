/**
 * The golden format-1 save (test/persist/golden/v1, written once by frostkv 0.1.0 with
 * golden/make-golden.ts) loads with this build, key for key and byte for byte. Expected
 * contents come from the generator (golden/data.ts), never from the save.
 *
 * This test must keep passing for as long as frostkv reads format 1: a failure means a change
 * broke saves users already have on disk (the reader, or something the format depends on, such
 * as the key hash that blocks are named by). Never fix it by regenerating the golden save.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { open } from '../../src/database.js';
import { parseModel } from '../../src/engine/model.js';
import { hashBytes } from '../../src/table/hash.js';
import { decodeTask } from '../../src/persist/decode.js';
import { FsSeam } from '../../src/persist/fs-seam.js';
import { crc32Hex, kManifestFileName, parseManifest, serializeManifest, type Manifest } from '../../src/persist/format.js';
import { verifyFolder } from '../../src/persist/verify.js';
import { tempDir } from '../support/tmp.js';
import { kGoldenKeyspaces, kGoldenTables, kLargeValueBytes, type GoldenValue } from './golden/data.js';

const kGoldenDir = fileURLToPath(new URL('./golden/v1', import.meta.url));

function goldenManifest(): Manifest {
  const path = join(kGoldenDir, kManifestFileName);
  return parseManifest(readFileSync(path), path);
}

/** A writable copy of the golden save as the live save of a new data directory. */
function dataDirWithGolden(): string {
  const dataDir = tempDir('frostkv-golden-');
  cpSync(kGoldenDir, join(dataDir, 'ks'), { recursive: true });
  return dataDir;
}

function show(value: GoldenValue | undefined): string {
  if (value === undefined) return 'missing';
  return Array.isArray(value) ? `list of ${value.length}` : `${value.length} bytes`;
}

describe('the golden format-1 save', () => {
  it('loads with every keyspace, table and model it was written with', async () => {
    const db = await open({ server: { dataDir: dataDirWithGolden() } }, { saveOnShutdown: false });
    try {
      expect(db.keyspaces().sort()).toEqual([...kGoldenKeyspaces].sort());
      expect(db.tables('vacant')).toEqual([]);
      for (const keyspace of kGoldenKeyspaces) {
        const expected = kGoldenTables.filter((spec) => spec.keyspace === keyspace).map((spec) => spec.table);
        expect(db.tables(keyspace).sort(), keyspace).toEqual(expected.sort());
      }
      for (const spec of kGoldenTables) {
        const model = parseModel(spec.model, spec.volatile ? ['volatile'] : []);
        expect(db.describeTable(`${spec.keyspace}:${spec.table}`), spec.table).toEqual(model);
      }
    } finally {
      await db.close();
    }
  });

  it('holds exactly the generator\'s keys and values in every table', async () => {
    const db = await open({ server: { dataDir: dataDirWithGolden() } }, { saveOnShutdown: false });
    try {
      for (const spec of kGoldenTables.filter((candidate) => !candidate.volatile)) {
        const entity = `${spec.keyspace}:${spec.table}`;
        const table = db.table(entity);
        const rows = spec.rows();
        const expected = new Map(rows.map(([key, value]) => [key.toString('hex'), value]));
        expect(table.size, entity).toBe(rows.length);
        const found = [...table.keys()].map((key) => key.toString('hex'));
        expect(found.sort(), `${entity} keys`).toEqual([...expected.keys()].sort());
        for (const [key, value] of rows) {
          const actual: GoldenValue | undefined = Array.isArray(value) ? table.list(key) : table.get(key);
          // One comparison per record; the message names the record without printing megabytes.
          if (actual === undefined || !sameValue(actual, value)) {
            throw new Error(`${entity} key ${key.toString('hex')}: expected ${show(value)}, found ${show(actual)}`);
          }
        }
      }
      expect(db.table('golden:str_str').valueLength('large-value')).toBe(kLargeValueBytes);
    } finally {
      await db.close();
    }
  });

  it('keeps the volatile table\'s definition and none of its data (volatile tables are not persisted)', async () => {
    const volatile = goldenManifest().keyspaces.find((space) => space.name === 'golden')?.tables.find((table) => table.name === 'scratch');
    expect(volatile?.model).toEqual({ key: 'str', value: 'str', volatile: true });
    expect(volatile?.files).toEqual([]);
    expect(volatile?.records).toBe(0);
    const db = await open({ server: { dataDir: dataDirWithGolden() } }, { saveOnShutdown: false });
    try {
      expect(db.describeTable('golden:scratch').volatile).toBe(true);
      expect(db.table('golden:scratch').size).toBe(0);
    } finally {
      await db.close();
    }
  });

  it('is the save it claims to be: several parts, many blocks, large values, an empty table', () => {
    const manifest = goldenManifest();
    expect(manifest.formatVersion).toBe(1);
    expect(manifest.createdBy).toBe('frostkv 0.1.0');
    const tables = new Map(manifest.keyspaces.flatMap((space) => space.tables.map((table) => [`${space.name}:${table.name}`, table] as const)));
    const main = tables.get('default:default');
    expect(main?.files.length).toBeGreaterThan(1);
    expect(main?.records).toBe(kGoldenTables[0]?.rows().length);
    expect(tables.get('golden:empty')?.records).toBe(0);
    const sizes = manifest.keyspaces.flatMap((space) => space.tables.flatMap((table) => table.files.map((file) => file.sizeBytes)));
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBeLessThan(5 * 1024 * 1024);
  });

  it('passes the checks every reader runs (files, records in their blocks, coverage)', () => {
    const verdict = verifyFolder(new FsSeam(), kGoldenDir);
    expect(verdict.problems).toEqual([]);
  });

  it('names its blocks with the key hash docs/format.md declares (test vectors)', () => {
    // The vectors printed in docs/format.md, "The key hash": a build whose hash differs cannot
    // place format-1 records in their blocks.
    const vector = (seed: number, text: string): string => {
      const bytes = Buffer.from(text, 'utf8');
      return hashBytes(seed, bytes, 0, bytes.length).toString(16).padStart(8, '0');
    };
    expect(vector(0, '')).toBe(kHashVectors.empty);
    expect(vector(0, 'a')).toBe(kHashVectors.a);
    expect(vector(0x12345678, 'frostkv')).toBe(kHashVectors.frostkv);
    expect(vector(0xffffffff, 'ключ')).toBe(kHashVectors.cyrillic);
    for (const seed of [0, 1, 0x80000000, 0xdeadbeef]) {
      for (let length = 0; length < 40; length++) {
        const bytes = Buffer.alloc(length, length * 37 + seed);
        expect(hashBytes(seed, bytes, 0, length), `seed ${seed} length ${length}`).toBe(documentedHash(seed, bytes));
      }
    }
  });
});

/** Hash test vectors, as printed in docs/format.md. */
const kHashVectors = { empty: 'ab3e7c0b', a: '2a681819', frostkv: '874dd4d8', cyrillic: '46d72ba1' };

/** The key hash exactly as docs/format.md states it, written from the page, not from hash.ts. */
function documentedHash(seed: number, bytes: Uint8Array): number {
  let h = (seed ^ 0x811c9dc5) >>> 0;
  for (const byte of bytes) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  h = (h ^ bytes.length) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

function sameValue(actual: GoldenValue, expected: GoldenValue): boolean {
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && actual.every((element, i) => element.equals(expected[i] as Buffer));
  }
  return !Array.isArray(actual) && actual.equals(expected);
}

describe('format versions', () => {
  it('refuses a manifest of an unknown version, naming the file and the versions this build reads', () => {
    const dir = tempDir('frostkv-golden-v9-');
    cpSync(kGoldenDir, dir, { recursive: true });
    const path = join(dir, kManifestFileName);
    writeFileSync(path, serializeManifest({ ...goldenManifest(), formatVersion: 9 }));
    expect(() => parseManifest(readFileSync(path), path)).toThrow(expect.objectContaining({ code: 'ERR_CORRUPT_SAVE' }));
    expect(() => parseManifest(readFileSync(path), path)).toThrow(new RegExp(`${path}: .*version 9.*versions? 1\\b`));
  });

  it('refuses a data file of an unknown version, naming the file and the versions this build reads', () => {
    const manifest = goldenManifest();
    const table = manifest.keyspaces.find((space) => space.name === 'other')?.tables[0];
    const entry = table?.files[0];
    if (table === undefined || entry === undefined) throw new Error('the golden save lost other:notes');
    const dir = tempDir('frostkv-golden-file-v9-');
    cpSync(kGoldenDir, dir, { recursive: true });
    const bytes = readFileSync(join(dir, entry.path));
    // The header map's `version: 1` is the key "version" (a7 + 7 bytes) then the positive fixint 1.
    const at = bytes.indexOf(Buffer.concat([Buffer.from([0xa7]), Buffer.from('version'), Buffer.from([0x01])]));
    expect(at).toBeGreaterThan(0);
    bytes[at + 8] = 0x09;
    writeFileSync(join(dir, entry.path), bytes);
    const result = decodeTask({
      kind: 'decode',
      dir,
      keyspace: 'other',
      table: table.name,
      model: table.model,
      hashSeed: table.hashSeed,
      file: { ...entry, crc32: crc32Hex(crc32(bytes)) },
      build: true,
      faults: null,
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failure.code).toBe('ERR_CORRUPT_SAVE');
    expect(result.failure.path).toBe(entry.path);
    expect(result.failure.message).toMatch(/version 9.*versions? 1\b/);
  });
});
