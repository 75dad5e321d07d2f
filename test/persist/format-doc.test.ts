import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { unpackMultiple } from 'msgpackr';
import { open } from '../../src/database.js';
import { tempDir } from '../support/tmp.js';

/**
 * A reader written only from docs/format.md (no frostkv code): if the format drifts from the
 * document, this test fails.
 */
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
        const objects = unpackMultiple(bytes) as unknown[];
        const header = objects[0] as Record<string, unknown>;
        expect(header.format).toBe('frostkv-data');
        expect(header.table).toBe(table.name);
        let i = 1;
        for (;;) {
          const block = objects[i++] as Record<string, unknown>;
          if (block.end === true) break;
          for (let r = 0; r < (block.records as number); r++) {
            const key = objects[i++];
            const value = objects[i++];
            rows.set(Buffer.isBuffer(key) ? `bin:${key.toString('hex')}` : String(key), value);
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
    db.table('app:texts').set('large', 'L'.repeat(300_000));
    db.table('app:lists').listCreate('l', ['a', 'b']);
    expect((await db.snapshot('doc')).code).toBe('ok');
    await db.close();
    const rows = readSaveAsDocumented(join(dataDir, 'rsnap', 'doc'));
    expect(rows.get('default:default')?.get('bin:010203')).toEqual(Buffer.from('bytes'));
    expect(rows.get('app:texts')?.get('greeting')).toBe('hello ✓');
    expect((rows.get('app:texts')?.get('large') as string).length).toBe(300_000);
    expect(rows.get('app:lists')?.get('l')).toEqual(['a', 'b']);
    expect(rows.get('app:gone')?.size).toBe(0);
    expect(readdirSync(join(dataDir, 'rsnap', 'doc')).sort()).toEqual(['MANIFEST', 'app', 'default']);
  });
});
