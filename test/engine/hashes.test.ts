import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { open } from '../../src/database.js';
import { parseModel } from '../../src/engine/model.js';
import { ErrorCode } from '../../src/util/errors.js';
import { kSmallHashFieldsMax } from '../../src/engine/small-hash.js';
import { tempDir } from '../support/tmp.js';

function engineOnClock(): { engine: Engine; clock: { now: number } } {
  const clock = { now: 1_800_000_000_000 };
  return { engine: new Engine({ clock: () => clock.now }), clock };
}

const entryOf = (engine: Engine) => engine.entry({ keyspace: 'default', table: 'default' });
const text = (pairs: Array<[Buffer, Buffer]>) => pairs.map(([f, v]) => [f.toString(), v.toString()]);

describe('hashes', () => {
  it('sets, reads and deletes fields of a small hash, and deletes the key with its last field', () => {
    const { engine } = engineOnClock();
    const t = engine.table('default:default');
    expect(t.hashSet('h', { a: '1', b: '2' })).toBe(2);
    expect(t.hashSet('h', [['b', '3'], ['c', '4']])).toBe(1);
    expect(t.hashGet('h', 'b')?.toString()).toBe('3');
    expect(t.hashLength('h')).toBe(3);
    expect(text(t.hashGetAll('h'))).toEqual([['a', '1'], ['b', '3'], ['c', '4']]);
    expect(t.hashSetIfAbsent('h', 'a', 'x')).toBe(false);
    expect(t.hashSetIfAbsent('h', 'd', 'x')).toBe(true);
    expect(t.type('h')).toBe('hash');
    expect(t.hashDelete('h', ['a', 'nope'])).toBe(1);
    expect(t.hashDelete('h', ['b', 'c', 'd'])).toBe(3);
    expect(t.has('h')).toBe(false);
    expect(t.hashLength('h')).toBe(0);
    expect(t.hashGet('h', 'a')).toBeUndefined();
  });

  it('answers ERR_WRONG_TYPE across types, and SET replaces a hash', () => {
    const { engine } = engineOnClock();
    const t = engine.table('default:default');
    t.set('s', 'v');
    expect(() => t.hashSet('s', { a: '1' })).toThrow(expect.objectContaining({ code: ErrorCode.wrongType }));
    expect(() => t.hashGet('s', 'a')).toThrow(expect.objectContaining({ code: ErrorCode.wrongType }));
    t.hashSet('h', { a: '1' });
    expect(() => t.get('h')).toThrow(expect.objectContaining({ code: ErrorCode.wrongType }));
    t.set('h', 'now a string');
    expect(t.get('h')?.toString()).toBe('now a string');
  });

  it('moves a hash that outgrows the small encoding into its own table, keeping every field and the TTL', () => {
    const { engine, clock } = engineOnClock();
    const t = engine.table('default:default');
    t.set('h', 'x');
    t.delete('h');
    for (let i = 0; i < kSmallHashFieldsMax; i++) t.hashSet('h', { [`f${i}`]: `v${i}` });
    t.expire('h', 60_000);
    expect(t.hashIsLarge('h')).toBe(false);
    t.hashSet('h', { last: 'one' });
    expect(t.hashIsLarge('h')).toBe(true);
    expect(entryOf(engine).collections.size).toBe(1);
    expect(t.hashLength('h')).toBe(kSmallHashFieldsMax + 1);
    expect(t.hashGet('h', 'f7')?.toString()).toBe('v7');
    expect(t.expiresAt('h')).toBe(clock.now + 60_000);
    // A big value also moves it.
    t.hashSet('g', { big: 'x'.repeat(5000) });
    expect(t.hashIsLarge('g')).toBe(true);
  });

  it('writes to a large hash touch only its collection table: the key record is never rewritten', () => {
    const { engine } = engineOnClock();
    const t = engine.table('default:default');
    const fields: Array<[string, string]> = [];
    for (let i = 0; i < 50_000; i++) fields.push([`field-${i}`, `value-${i}`]);
    t.hashSet('big', fields);
    const parent = entryOf(engine).table;
    const before = parent.stats();
    for (let i = 0; i < 2000; i++) t.hashSet('big', { [`field-${i}`]: `changed-${i}`, [`new-${i}`]: 'x' });
    const after = parent.stats();
    expect(after.dataBytes).toBe(before.dataBytes);
    expect(after.cowCopyCount).toBe(before.cowCopyCount);
    expect(t.hashLength('big')).toBe(52_000);
    expect(t.hashGet('big', 'field-5')?.toString()).toBe('changed-5');
  });

  it('during a save, a write to a large hash copies at most one segment of its table', () => {
    const { engine } = engineOnClock();
    const t = engine.table('default:default');
    const fields: Array<[string, string]> = [];
    for (let i = 0; i < 100_000; i++) fields.push([`f${i}`, `v${i}`]);
    t.hashSet('big', fields);
    const collection = [...entryOf(engine).collections.values()][0]!;
    const cut = engine.freeze();
    expect(cut.tables.map((table) => table.name)).toContain('default#1');
    const copies = collection.stats().cowCopyCount;
    t.hashSet('big', { f1: 'changed' });
    expect(collection.stats().cowCopyCount - copies).toBeLessThanOrEqual(1);
    expect(collection.stats().cowBytesNow).toBeLessThanOrEqual(16 * 1024);
    cut.release();
  });

  it('deleting, overwriting, expiring or flushing a large hash releases its table', () => {
    const { engine, clock } = engineOnClock();
    const t = engine.table('default:default');
    const collections = entryOf(engine).collections;
    const many = Array.from({ length: 300 }, (_, i) => [`f${i}`, 'v'] as [string, string]);
    t.hashSet('a', many);
    t.hashSet('b', many);
    t.hashSet('c', many);
    t.hashSet('d', many);
    expect(collections.size).toBe(4);
    t.delete('a');
    t.set('b', 'string now');
    t.expire('c', 10);
    clock.now += 20;
    expect(t.has('c')).toBe(false);
    expect(collections.size).toBe(1);
    t.clear();
    expect(collections.size).toBe(0);
  });

  it('RENAME moves a large hash with its table; COPY makes an independent one', () => {
    const { engine } = engineOnClock();
    const t = engine.table('default:default');
    t.hashSet('a', Array.from({ length: 300 }, (_, i) => [`f${i}`, `v${i}`] as [string, string]));
    expect(t.renameKey(Buffer.from('a'), Buffer.from('b'), false)).toBe('ok');
    expect(t.hashLength('b')).toBe(300);
    expect(entryOf(engine).collections.size).toBe(1);
    expect(t.copyKey(Buffer.from('b'), Buffer.from('c'), t, false)).toBe(true);
    t.hashSet('c', { f1: 'changed' });
    expect(t.hashGet('b', 'f1')?.toString()).toBe('v1');
    expect(t.hashGet('c', 'f1')?.toString()).toBe('changed');
    expect(entryOf(engine).collections.size).toBe(2);
  });

  it('survives a save and a restart: small and large hashes with their TTLs; a large hash that expired on disk is dropped with its table', async () => {
    const dataDir = tempDir();
    const db = await open({ server: { dataDir } }, { saveOnShutdown: false });
    const t = db.table();
    t.hashSet('small', { a: '1', b: '2' });
    t.hashSet('large', Array.from({ length: 1000 }, (_, i) => [`f${i}`, `v${i}`] as [string, string]));
    t.expire('large', 3_600_000);
    t.hashSet('short', Array.from({ length: 1000 }, (_, i) => [`f${i}`, `v${i}`] as [string, string]));
    t.expire('short', 300);
    const ttl = t.expiresAt('large');
    expect((await db.save()).ok).toBe(true);
    await db.close();
    await new Promise((resolve) => setTimeout(resolve, 400));
    const again = await open({ server: { dataDir } }, { saveOnShutdown: false });
    const u = again.table();
    expect(text(u.hashGetAll('small'))).toEqual([['a', '1'], ['b', '2']]);
    expect(u.hashLength('large')).toBe(1000);
    expect(u.hashGet('large', 'f999')?.toString()).toBe('v999');
    expect(u.expiresAt('large')).toBe(ttl);
    expect(u.has('short')).toBe(false);
    expect(again.engine.entry({ keyspace: 'default', table: 'default' }).collections.size).toBe(1);
    // New collections do not reuse a loaded id.
    u.hashSet('another', Array.from({ length: 300 }, (_, i) => [`f${i}`, 'v'] as [string, string]));
    expect(u.hashLength('large')).toBe(1000);
    await again.close();
  });
});

describe('hash writes refused for size', () => {
  it('change nothing: no field of the write is set and no collection table is left behind', () => {
    const engine = new Engine({ valueMaxBytes: 1000 });
    const t = engine.table('default:default');
    t.hashSet('h', { a: '1' });
    const pairs: Array<[string, string]> = Array.from({ length: 200 }, (_, i) => [`f${i}`, 'v']);
    pairs.push(['too-big', 'x'.repeat(1001)]);
    expect(() => t.hashSet('h', pairs)).toThrow(expect.objectContaining({ code: ErrorCode.valueTooLarge }));
    expect(t.hashLength('h')).toBe(1);
    expect(entryOf(engine).collections.size).toBe(0);
  });
});

/** A request's arguments as byte ranges of one buffer, like the server's parsed ArgView. */
function ranges(...args: Array<string | Buffer>): { buffer: Buffer; count: number; offset(i: number): number; length(i: number): number } {
  const parts = args.map((a) => (typeof a === 'string' ? Buffer.from(a) : a));
  const offsets: number[] = [];
  let at = 3; // not at 0, as in a receive buffer
  for (const part of parts) {
    offsets.push(at);
    at += part.length + 2;
  }
  const buffer = Buffer.alloc(at);
  parts.forEach((part, i) => part.copy(buffer, offsets[i]));
  return { buffer, count: parts.length, offset: (i) => offsets[i] as number, length: (i) => (parts[i] as Buffer).length };
}

describe('HSET from byte ranges (the server path into a large hash)', () => {
  function largeHash(engine: Engine, key: string): ReturnType<Engine['table']> {
    const t = engine.table('default:default');
    t.hashSet(key, Array.from({ length: kSmallHashFieldsMax + 10 }, (_, i) => [`f${i}`, `v${i}`] as [string, string]));
    expect(t.hashIsLarge(key)).toBe(true);
    return t;
  }

  it('writes a large hash in place and counts new fields once, a field repeated in one write included', () => {
    const engine = new Engine();
    const t = largeHash(engine, 'h');
    const before = t.hashLength('h');
    const changes = engine.changeCount;
    expect(t.hashSetRanges(ranges('HSET', 'h', 'f0', 'new', 'n1', 'a', 'n1', 'b', 'n2', 'c'), 1, 2)).toBe(2);
    expect(t.hashLength('h')).toBe(before + 2);
    expect(t.hashGet('h', 'f0')?.toString()).toBe('new');
    expect(t.hashGet('h', 'n1')?.toString()).toBe('b');
    expect(t.hashGet('h', 'n2')?.toString()).toBe('c');
    expect(engine.changeCount).toBe(changes + 1);
  });

  it('writes nothing for a missing key or a small hash (-1: the caller takes the general path)', () => {
    const engine = new Engine();
    const t = engine.table('default:default');
    expect(t.hashSetRanges(ranges('HSET', 'missing', 'a', '1'), 1, 2)).toBe(-1);
    expect(t.has('missing')).toBe(false);
    t.hashSet('small', { a: '1' });
    expect(t.hashSetRanges(ranges('HSET', 'small', 'a', '2'), 1, 2)).toBe(-1);
    expect(t.hashGet('small', 'a')?.toString()).toBe('1');
  });

  it('answers ERR_WRONG_TYPE before looking at the pairs, and refuses an oversized pair before writing any', () => {
    const engine = new Engine({ valueMaxBytes: 100 });
    const t = largeHash(engine, 'h');
    t.set('s', 'v');
    expect(() => t.hashSetRanges(ranges('HSET', 's', 'a', 'x'.repeat(101)), 1, 2)).toThrow(expect.objectContaining({ code: ErrorCode.wrongType }));
    const length = t.hashLength('h');
    expect(() => t.hashSetRanges(ranges('HSET', 'h', 'fresh', '1', 'big', 'x'.repeat(101)), 1, 2)).toThrow(expect.objectContaining({ code: ErrorCode.valueTooLarge }));
    expect(t.hashLength('h')).toBe(length);
    expect(t.hashGet('h', 'fresh')).toBeUndefined();
  });

  it('refuses a field or value that is not UTF-8 in a str table before writing any', () => {
    const engine = new Engine();
    engine.createTable('default:text', parseModel('keymap(str,str)'));
    const t = engine.table('default:text');
    t.hashSet('h', Array.from({ length: kSmallHashFieldsMax + 10 }, (_, i) => [`f${i}`, `v${i}`] as [string, string]));
    expect(t.hashIsLarge('h')).toBe(true);
    expect(() => t.hashSetRanges(ranges('HSET', 'h', 'ok', '1', Buffer.from([0xff, 0xfe]), '2'), 1, 2)).toThrow(expect.objectContaining({ code: ErrorCode.encoding }));
    expect(t.hashGet('h', 'ok')).toBeUndefined();
  });
});
