import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { unpackMultiple } from 'msgpackr';
import { open } from '../../src/database.js';
import { tempDir } from '../support/tmp.js';
import { flattenFrames } from '../support/frames.js';

/**
 * A reader written only from docs/format.md (no frostkv code): if the format drifts from the
 * document, this test fails.
 */
const expiries = new Map<string, number>();
/** Format-3 frames seen, by codec. */
const framesSeen = { none: 0, lz4: 0 };

/** "Hash values": 0x00, u16 count, (u16 length, field, u16 length, value)...; or 0x01, u32 id. */
function readHashAsDocumented(bytes: Buffer, table: string): Map<string, string> | string {
  if (bytes[0] === 1) return `${table}#${bytes.readUInt32LE(1)}`;
  const fields = new Map<string, string>();
  let at = 3;
  for (let i = 0; i < bytes.readUInt16LE(1); i++) {
    const field = bytes.subarray(at + 2, at + 2 + bytes.readUInt16LE(at));
    at += 2 + field.length;
    const value = bytes.subarray(at + 2, at + 2 + bytes.readUInt16LE(at));
    at += 2 + value.length;
    fields.set(field.toString(), value.toString());
  }
  return fields;
}

function readSaveAsDocumented(dir: string): Map<string, Map<string, unknown>> {
  const raw = readFileSync(join(dir, 'MANIFEST'));
  const text = raw.toString('utf8');
  const at = text.lastIndexOf('\n#crc32:');
  const body = raw.subarray(0, at + 1);
  expect(text.slice(at + 8).trim()).toBe(crc32(body).toString(16).padStart(8, '0'));
  const manifest = JSON.parse(body.toString('utf8'));
  expect(manifest.format).toBe('frostkv-save');
  const out = new Map<string, Map<string, unknown>>();
  for (const space of manifest.keyspaces) {
    for (const table of space.tables) {
      const rows = new Map<string, unknown>();
      out.set(`${space.name}:${table.name}`, rows);
      for (const file of table.files) {
        const bytes = readFileSync(join(dir, file.path));
        expect(bytes.length).toBe(file.sizeBytes);
        expect(crc32(bytes).toString(16).padStart(8, '0')).toBe(file.crc32);
        // Version 3: each block's frames, decompressed, are the records of version 2.
        const flat = flattenFrames(bytes);
        framesSeen.none += flat.frames.none;
        framesSeen.lz4 += flat.frames.lz4;
        const objects = unpackMultiple(flat.bytes) as unknown[];
        const header = objects[0] as Record<string, unknown>;
        expect(header.format).toBe('frostkv-data');
        expect(header.version).toBe(manifest.formatVersion);
        expect(header.table).toBe(table.name);
        let i = 1;
        for (;;) {
          const block = objects[i++] as Record<string, unknown>;
          if (block.end === true) break;
          for (let r = 0; r < (block.records as number); r++) {
            // Versions 2 and 3: a tag (type in bits 0-2, bit 3: an expiry time follows the value).
            const tag = (header.version as number) >= 2 ? (objects[i++] as number) : 0;
            expect(tag & 0xf0).toBe(0);
            const key = objects[i++];
            const value = objects[i++];
            const name = Buffer.isBuffer(key) ? `bin:${key.toString('hex')}` : String(key);
            // A hash (type 2): the small encoding inline, or a reference to its collection table.
            rows.set(name, (tag & 7) === 2 ? readHashAsDocumented(value as Buffer, `${space.name}:${table.name}`) : value);
            if ((tag & 8) !== 0) expiries.set(name, Number(objects[i++] as bigint));
          }
        }
        expect(i).toBe(objects.length);
      }
    }
  }
  return out;
}

describe('docs/format.md', () => {
  it('describes the files frostkv writes well enough for an independent reader', async () => {
    const dataDir = tempDir();
    const db = await open({ server: { dataDir } }, { saveOnShutdown: false });
    db.createKeyspace('app');
    db.createTable('app:texts', 'keymap(str,str)');
    db.createTable('app:lists', 'keymap(str,list<str>)');
    db.createTable('app:gone', 'keymap(str,str)', { volatile: true });
    db.table().set(Buffer.from([1, 2, 3]), Buffer.from('bytes'));
    db.table('app:texts').set('greeting', 'hello ✓');
    const expiresAt = Date.now() + 3_600_000;
    db.table('app:texts').set('session', 'token', { ttlMs: 3_600_000 });
    db.table('app:texts').set('gone-before-the-cut', 'x', { ttlMs: 1 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    db.table('app:texts').set('large', 'L'.repeat(300_000));
    // Compressible records (an lz4 frame) and random bytes lz4 cannot shrink (a raw frame).
    db.createTable('app:noise', 'keymap(binstr,binstr)');
    let seed = 7;
    const noise = (): Buffer => Buffer.from(Array.from({ length: 24 }, () => (seed = (seed * 1_103_515_245 + 12_345) >>> 0) >>> 24));
    for (let i = 0; i < 3; i++) db.table('app:noise').set(noise(), noise());
    for (let i = 0; i < 500; i++) db.table('app:texts').set(`k:${String(i).padStart(12, '0')}`, 'VXKeHogKgJ'.repeat(6));
    db.table('app:lists').listCreate('l', ['a', 'b']);
    db.table().hashSet('profile', { name: 'ada', lang: 'en' });
    db.table().hashSet('big', Array.from({ length: 200 }, (_, i) => [`f${i}`, `v${i}`] as [string, string]));
    expect((await db.snapshot('doc')).code).toBe('ok');
    await db.close();
    const rows = readSaveAsDocumented(join(dataDir, 'rsnap', 'doc'));
    expect(rows.get('default:default')?.get('bin:010203')).toEqual(Buffer.from('bytes'));
    expect(rows.get('app:texts')?.get('greeting')).toBe('hello ✓');
    expect(rows.get('app:texts')?.get('session')).toBe('token');
    expect(Math.abs((expiries.get('session') ?? 0) - expiresAt)).toBeLessThan(1000);
    expect(rows.get('app:texts')?.has('gone-before-the-cut')).toBe(false);
    expect((rows.get('app:texts')?.get('large') as string).length).toBe(300_000);
    expect(rows.get('app:lists')?.get('l')).toEqual(['a', 'b']);
    expect(rows.get('app:gone')?.size).toBe(0);
    expect(rows.get('default:default')?.get(`bin:${Buffer.from('profile').toString('hex')}`)).toEqual(new Map([['name', 'ada'], ['lang', 'en']]));
    const collection = rows.get('default:default')?.get(`bin:${Buffer.from('big').toString('hex')}`) as string;
    expect(collection).toMatch(/^default:default#\d+$/);
    expect(rows.get(collection)?.size).toBe(200);
    expect((rows.get(collection)?.get(`bin:${Buffer.from('f7').toString('hex')}`) as Buffer).toString()).toBe('v7');
    expect(rows.get('app:texts')?.get('k:000000000499')).toBe('VXKeHogKgJ'.repeat(6));
    expect(rows.get('app:noise')?.size).toBe(3);
    expect(framesSeen.lz4).toBeGreaterThan(0);
    expect(framesSeen.none).toBeGreaterThan(0);
    expect(readdirSync(join(dataDir, 'rsnap', 'doc')).sort()).toEqual(['MANIFEST', 'app', 'default']);
  });
});
