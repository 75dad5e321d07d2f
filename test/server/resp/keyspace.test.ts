/**
 * The RESP keyspace family against a real frostkv RESP listener, with ioredis, node-redis and a
 * raw RESP2/RESP3 client: DEL UNLINK EXISTS TOUCH TYPE RENAME RENAMENX COPY MOVE RANDOMKEY
 * OBJECT KEYS SCAN, with Redis 7.0's texts and reply shapes, keys of every type and their
 * expiry times carried along, and full SCAN iterations over thousands of keys.
 */

import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeList } from '../../../src/engine/list.js';
import { encodeReference, encodeSmall } from '../../../src/engine/small-hash.js';
import { kNoExpiry, ValueType } from '../../../src/engine/value.js';
import { startInProcess, type InProcessServer } from '../../support/server.js';
import { RawClient, show } from './raw.js';
import { errorOf, ioredis } from './client-helpers.js';

const kFutureSeconds = 4_102_444_800;
const kScanKeyCount = 3_000;
const kGoneDeadlineMs = 3_000;
const kPollMs = 10;

let server: InProcessServer;
let r: Redis;

/** Write a record of another type straight through the engine (RESP has no LPUSH/HSET of its own yet). */
function putTyped(key: string, type: number, value: Buffer, expiresAtMs = kNoExpiry): void {
  const t = server.server.db.engine.table('default:default');
  const k = Buffer.from(key);
  t.writeRange('upsert', k, 0, k.length, value, 0, value.length, expiresAtMs, type);
}

const kList = encodeList('binstr', [Buffer.from('a'), Buffer.from('b')]);
const kHash = encodeSmall([[Buffer.from('field'), Buffer.from('value')]]);

/** A full SCAN iteration with raw cursors: every key returned, duplicates kept. */
async function scanAll(client: Redis, ...options: Array<string | number>): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = (await client.call('SCAN', cursor, ...options)) as [string, string[]];
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

beforeAll(async () => {
  server = await startInProcess({}, { resp: true });
  r = ioredis(server.respPort as number);
  await r.connect();
});

afterAll(async () => {
  r.disconnect();
  await server.stop();
});

beforeEach(async () => {
  await r.flushall();
  await r.select(0);
});

describe('DEL UNLINK EXISTS TOUCH TYPE', () => {
  it('count the keys they found, repeats included', async () => {
    await r.mset('a', '1', 'b', '2', 'c', '3');
    expect(await r.exists('a', 'a', 'b', 'missing')).toBe(3);
    expect(await r.call('TOUCH', 'a', 'c', 'missing', 'c')).toBe(3);
    expect(await r.del('a', 'missing', 'a')).toBe(1);
    expect(await r.unlink('b', 'c', 'x')).toBe(2);
    expect(await r.dbsize()).toBe(0);
    expect(await errorOf(r.call('TOUCH'))).toBe("ERR wrong number of arguments for 'touch' command");
  });

  it('TYPE answers string, list, hash or none; an expired key is none', async () => {
    await r.set('s', 'v');
    putTyped('l', ValueType.list, kList);
    putTyped('h', ValueType.hash, kHash);
    putTyped('gone', ValueType.hash, kHash, 1);
    expect(await r.type('s')).toBe('string');
    expect(await r.type('l')).toBe('list');
    expect(await r.type('h')).toBe('hash');
    expect(await r.type('missing')).toBe('none');
    expect(await r.type('gone')).toBe('none');
    expect(await r.exists('gone')).toBe(0);
  });
});

describe('RENAME RENAMENX', () => {
  it('RENAME moves the value, replacing the target; RENAMENX only into a free name', async () => {
    await r.mset('a', '1', 'b', '2');
    expect(await r.rename('a', 'c')).toBe('OK');
    expect(await r.exists('a')).toBe(0);
    expect(await r.get('c')).toBe('1');
    expect(await r.rename('c', 'b')).toBe('OK');
    expect(await r.get('b')).toBe('1');
    expect(await r.renamenx('b', 'd')).toBe(1);
    await r.set('e', 'x');
    expect(await r.renamenx('d', 'e')).toBe(0);
    expect(await r.get('d')).toBe('1');
    expect(await r.get('e')).toBe('x');
  });

  it('a missing source is "ERR no such key" (also onto itself); an existing key onto itself is OK / 0', async () => {
    expect(await errorOf(r.rename('missing', 'x'))).toBe('ERR no such key');
    expect(await errorOf(r.renamenx('missing', 'x'))).toBe('ERR no such key');
    expect(await errorOf(r.rename('missing', 'missing'))).toBe('ERR no such key');
    await r.set('same', 'v');
    expect(await r.rename('same', 'same')).toBe('OK');
    expect(await r.renamenx('same', 'same')).toBe(0);
    expect(await r.get('same')).toBe('v');
  });

  it('RENAME keeps the TTL, drops the target\'s own, and carries the type (GET then answers WRONGTYPE)', async () => {
    await r.set('vol', 'v');
    await r.expire('vol', 100);
    await r.set('target', 't');
    await r.expireat('target', kFutureSeconds);
    expect(await r.rename('vol', 'target')).toBe('OK');
    expect(await r.ttl('target')).toBe(100);
    await r.set('plain', 'p');
    await r.set('dest', 'd');
    await r.expire('dest', 100);
    expect(await r.rename('plain', 'dest')).toBe('OK');
    expect(await r.ttl('dest')).toBe(-1);
    putTyped('h', ValueType.hash, kHash);
    expect(await r.rename('h', 'h2')).toBe('OK');
    expect(await r.type('h2')).toBe('hash');
    expect(await errorOf(r.get('h2'))).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
  });
});

describe('COPY MOVE', () => {
  it('COPY copies (an independent value), 0 onto an existing key unless REPLACE, with its TTL or none', async () => {
    await r.set('src', 'v');
    expect(await r.copy('src', 'dst')).toBe(1);
    await r.set('src', 'changed');
    expect(await r.get('dst')).toBe('v');
    expect(await r.copy('src', 'dst')).toBe(0);
    expect(await r.get('dst')).toBe('v');
    expect(await r.call('COPY', 'src', 'dst', 'replace')).toBe(1);
    expect(await r.get('dst')).toBe('changed');
    expect(await r.ttl('dst')).toBe(-1);
    await r.expire('src', 100);
    expect(await r.call('COPY', 'src', 'dst2')).toBe(1);
    expect(await r.ttl('dst2')).toBe(100);
    expect(await r.copy('missing', 'x')).toBe(0);
    putTyped('l', ValueType.list, kList);
    expect(await r.copy('l', 'l2')).toBe(1);
    expect(await r.type('l2')).toBe('list');
  });

  it('COPY DB n writes into another database; its errors are Redis\'s', async () => {
    await r.set('src', 'v');
    expect(await r.call('COPY', 'src', 'src', 'DB', '1')).toBe(1);
    expect(await errorOf(r.call('COPY', 'src', 'src'))).toBe('ERR source and destination objects are the same');
    expect(await errorOf(r.call('COPY', 'src', 'src', 'DB', '0'))).toBe('ERR source and destination objects are the same');
    expect(await errorOf(r.call('COPY', 'src', 'x', 'DB', 'notanumber'))).toBe('ERR value is not an integer or out of range');
    expect(await errorOf(r.call('COPY', 'src', 'x', 'DB', '16'))).toBe('ERR DB index is out of range');
    expect(await errorOf(r.call('COPY', 'src', 'x', 'DB', '4294967296'))).toBe('ERR value is out of range, value must between -2147483648 and 2147483647');
    expect(await errorOf(r.call('COPY', 'src', 'x', 'DB', '99999999999999999999'))).toBe('ERR value is not an integer or out of range');
    expect(await errorOf(r.call('COPY', 'src', 'x', 'DB'))).toBe('ERR syntax error');
    expect(await errorOf(r.call('COPY', 'src', 'x', 'BOGUS'))).toBe('ERR syntax error');
    await r.select(1);
    expect(await r.get('src')).toBe('v');
    expect(await r.exists('x')).toBe(0);
  });

  it('MOVE moves a key with its TTL into another database, unless it is there already', async () => {
    await r.set('m', 'v');
    await r.expire('m', 100);
    expect(await r.move('m', 2)).toBe(1);
    expect(await r.exists('m')).toBe(0);
    await r.set('m', 'again');
    expect(await r.move('m', 2)).toBe(0);
    expect(await r.get('m')).toBe('again');
    expect(await r.move('missing', 2)).toBe(0);
    expect(await errorOf(r.move('m', 0))).toBe('ERR source and destination objects are the same');
    expect(await errorOf(r.call('MOVE', 'm', 'x'))).toBe('ERR value is not an integer or out of range');
    expect(await errorOf(r.call('MOVE', 'm', '-1'))).toBe('ERR DB index is out of range');
    await r.select(2);
    expect(await r.get('m')).toBe('v');
    expect(await r.ttl('m')).toBe(100);
  });
});

describe('RANDOMKEY', () => {
  it('answers a null on an empty database (RESP2 $-1, RESP3 _) and a live key otherwise', async () => {
    expect(await r.randomkey()).toBeNull();
    const raw = await RawClient.connect(server.respPort as number);
    try {
      expect(show(await raw.call('RANDOMKEY'))).toBe('$nil');
      await raw.call('HELLO', '3');
      expect(show(await raw.call('RANDOMKEY'))).toBe('_');
    } finally {
      raw.socket.destroy();
    }
    await r.mset('a', '1', 'b', '2', 'c', '3');
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) seen.add((await r.randomkey()) as string);
    for (const key of seen) expect(['a', 'b', 'c']).toContain(key);
  });

  it('never answers an expired key', async () => {
    await r.set('live', 'v');
    putTyped('dead', ValueType.string, Buffer.from('x'), 1);
    for (let i = 0; i < 30; i++) expect(await r.randomkey()).toBe('live');
  });
});

describe('OBJECT', () => {
  it('ENCODING answers Redis 7.0\'s names: int, embstr, raw, quicklist, listpack, hashtable', async () => {
    await r.mset('int', '12345', 'neg', '-9223372036854775808', 'zero-led', '012', 'short', 'abc', 'long', 'x'.repeat(45), 'edge', 'y'.repeat(44));
    expect(await r.object('ENCODING', 'int')).toBe('int');
    expect(await r.object('ENCODING', 'neg')).toBe('int');
    expect(await r.object('ENCODING', 'zero-led')).toBe('embstr');
    expect(await r.object('ENCODING', 'short')).toBe('embstr');
    expect(await r.object('ENCODING', 'edge')).toBe('embstr');
    expect(await r.object('ENCODING', 'long')).toBe('raw');
    putTyped('l', ValueType.list, kList);
    putTyped('h', ValueType.hash, kHash);
    putTyped('big', ValueType.hash, encodeReference(7));
    expect(await r.object('ENCODING', 'l')).toBe('quicklist');
    expect(await r.object('ENCODING', 'h')).toBe('listpack');
    expect(await r.object('ENCODING', 'big')).toBe('hashtable');
    expect(await r.object('ENCODING', 'missing')).toBeNull();
  });

  it('REFCOUNT is 1; IDLETIME and FREQ answer errors (frostkv tracks neither), a missing key null', async () => {
    await r.set('k', 'v');
    expect(await r.object('REFCOUNT', 'k')).toBe(1);
    expect(await r.object('REFCOUNT', 'missing')).toBeNull();
    expect(await errorOf(r.object('IDLETIME', 'k'))).toMatch(/^ERR frostkv does not track when keys were last accessed/);
    expect(await r.object('IDLETIME', 'missing')).toBeNull();
    expect(await errorOf(r.object('FREQ', 'k'))).toMatch(/^ERR An LFU maxmemory policy is not selected, access frequency not tracked\./);
  });

  it('HELP, unknown subcommands and arity follow Redis', async () => {
    const help = (await r.object('HELP')) as string[];
    expect(help[0]).toBe('OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    expect(help).toContain('ENCODING <key>');
    expect(help.at(-2)).toBe('HELP');
    expect(await errorOf(r.call('OBJECT', 'bogus', 'k'))).toBe("ERR unknown subcommand 'bogus'. Try OBJECT HELP.");
    expect(await errorOf(r.call('OBJECT', 'encoding'))).toBe("ERR wrong number of arguments for 'object|encoding' command");
    expect(await errorOf(r.call('OBJECT'))).toBe("ERR wrong number of arguments for 'object' command");
  });
});

describe('KEYS', () => {
  it('matches Redis\'s glob: ? * classes, ranges, negation and escapes', async () => {
    const names = ['hello', 'hallo', 'hxllo', 'hllo', 'heeeello', 'h*llo', 'h?llo', 'a]b', 'a-b', 'a\\b', 'x'];
    await r.mset(...names.flatMap((name) => [name, '1']));
    const keys = async (pattern: string): Promise<string[]> => ((await r.keys(pattern)) as string[]).sort();
    expect(await keys('h?llo')).toEqual(['h*llo', 'h?llo', 'hallo', 'hello', 'hxllo']);
    expect(await keys('h*llo')).toEqual(['h*llo', 'h?llo', 'hallo', 'heeeello', 'hello', 'hllo', 'hxllo']);
    expect(await keys('h[ae]llo')).toEqual(['hallo', 'hello']);
    expect(await keys('h[^e]llo')).toEqual(['h*llo', 'h?llo', 'hallo', 'hxllo']);
    expect(await keys('h[a-e]llo')).toEqual(['hallo', 'hello']);
    expect(await keys('h[e-a]llo')).toEqual(['hallo', 'hello']);
    expect(await keys('h\\*llo')).toEqual(['h*llo']);
    expect(await keys('h\\?llo')).toEqual(['h?llo']);
    expect(await keys('a[\\]]b')).toEqual(['a]b']);
    expect(await keys('a[-]b')).toEqual(['a-b']);
    expect(await keys('a\\\\b')).toEqual(['a\\b']);
    expect((await keys('*')).length).toBe(names.length);
    expect(await keys('nothing*')).toEqual([]);
  });

  it('a pathological pattern is answered quickly (no exponential backtracking)', async () => {
    await r.set('a'.repeat(60), '1');
    const started = Date.now();
    expect(await r.keys(`${'a*'.repeat(30)}b`)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('SCAN', () => {
  beforeEach(async () => {
    const pipeline = r.pipeline();
    for (let i = 0; i < kScanKeyCount; i++) pipeline.set(`key:${i}`, String(i));
    await pipeline.exec();
  });

  it('ioredis scanStream returns every one of a few thousand keys exactly once', async () => {
    const seen: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = r.scanStream({ count: 100 });
      stream.on('data', (batch: string[]) => seen.push(...batch));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    expect(seen.length).toBe(kScanKeyCount);
    expect(new Set(seen).size).toBe(kScanKeyCount);
  });

  it('node-redis scanIterator (MATCH, COUNT) returns every matching key exactly once', async () => {
    const nr = createClient({ socket: { host: '127.0.0.1', port: server.respPort as number, reconnectStrategy: false } });
    await nr.connect();
    try {
      const seen: string[] = [];
      for await (const batch of nr.scanIterator({ MATCH: 'key:1*', COUNT: 50 })) {
        seen.push(...(Array.isArray(batch) ? batch : [batch]));
      }
      const expected = Array.from({ length: kScanKeyCount }, (_, i) => `key:${i}`).filter((key) => key.startsWith('key:1'));
      expect(seen.sort()).toEqual(expected.sort());
    } finally {
      await nr.quit();
    }
  });

  it('TYPE filters by type; expired keys are never returned', async () => {
    putTyped('l', ValueType.list, kList);
    putTyped('h', ValueType.hash, kHash);
    putTyped('expired', ValueType.string, Buffer.from('x'), 1);
    expect(await scanAll(r, 'TYPE', 'list')).toEqual(['l']);
    expect(await scanAll(r, 'TYPE', 'HASH', 'COUNT', 1000)).toEqual(['h']);
    expect((await scanAll(r, 'TYPE', 'string', 'COUNT', 1000)).length).toBe(kScanKeyCount);
    expect(await scanAll(r, 'TYPE', 'zset')).toEqual([]);
    expect(await scanAll(r, 'MATCH', 'exp*')).toEqual([]);
  });

  it('accepts any u64 cursor as Redis does; one at or past 2^32 is after the end: cursor 0, no keys', async () => {
    for (const cursor of ['4294967296', '18446744073709551615', '-1']) {
      expect(await r.scan(cursor)).toEqual(['0', []]);
    }
    // strtoul wraps a negative cursor: -(2^64 - 1) is cursor 1.
    expect(await r.scan('-18446744073709551615', 'COUNT', 10)).toEqual(await r.scan('1', 'COUNT', 10));
    // strtoul's rule: an empty cursor is 0 (a first call), "+5" is 5.
    const [next, batch] = (await r.call('SCAN', '', 'COUNT', '100')) as [string, string[]];
    expect(next).not.toBe('0');
    expect(batch.length).toBeGreaterThan(0);
    expect(((await r.call('SCAN', '+0', 'COUNT', '100')) as [string, string[]])[0]).toBe(next);
    for (const bad of ['18446744073709551616', ' 1', '1 ', '+', '-', '0x10', '1.0', 'abc']) {
      expect(await errorOf(r.call('SCAN', bad))).toBe('ERR invalid cursor');
    }
  });

  it('a full iteration interleaved with calls made with cursors >= 2^32 still returns every key once', async () => {
    const seen: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = (await r.scan(cursor, 'COUNT', 97)) as [string, string[]];
      seen.push(...batch);
      expect(BigInt(next)).toBeLessThan(2n ** 32n);
      expect(await r.scan((2n ** 32n + BigInt(next)).toString())).toEqual(['0', []]);
      cursor = next;
    } while (cursor !== '0');
    expect(seen.length).toBe(kScanKeyCount);
    expect(new Set(seen).size).toBe(kScanKeyCount);
  });

  it('a key present throughout is returned exactly once even while another client grows the table (segments split)', async () => {
    const writer = ioredis(server.respPort as number);
    await writer.connect();
    try {
      const seen = new Map<string, number>();
      let cursor = '0';
      let round = 0;
      do {
        const [next, batch] = (await r.scan(cursor, 'COUNT', 50)) as [string, string[]];
        for (const key of batch) seen.set(key, (seen.get(key) ?? 0) + 1);
        const pipeline = writer.pipeline();
        for (let i = 0; i < 40; i++) pipeline.set(`grow:${round}:${i}`, 'x');
        await pipeline.exec();
        round++;
        cursor = next;
      } while (cursor !== '0');
      for (let i = 0; i < kScanKeyCount; i++) expect(seen.get(`key:${i}`), `key:${i}`).toBe(1);
      for (const [key, times] of seen) expect(times, key).toBe(1);
    } finally {
      writer.disconnect();
    }
  });

  it('RESP3 answers the same shape: a two-element array of the cursor and the keys', async () => {
    const raw = await RawClient.connect(server.respPort as number);
    try {
      await raw.call('HELLO', '3');
      const reply = await raw.call('SCAN', '0', 'MATCH', 'key:2999');
      expect(reply.t).toBe('*');
      const parts = reply.v as Array<{ t: string; v: unknown }>;
      expect(parts[0]?.t).toBe('$');
      expect(parts[1]?.t).toBe('*');
    } finally {
      raw.socket.destroy();
    }
  });
});

describe('key positions and flags', () => {
  it('COMMAND INFO gives RENAME and COPY one key spec per key, with Redis\'s flags', async () => {
    const [rename] = (await r.call('COMMAND', 'INFO', 'rename')) as unknown[][];
    expect(rename?.slice(0, 6)).toEqual(['rename', 3, ['write'], 1, 2, 1]);
    const specs = rename?.[8] as unknown[][];
    expect(specs.map((spec) => spec[1])).toEqual([['RW', 'access', 'delete'], ['OW', 'update']]);
    const [copy] = (await r.call('COMMAND', 'INFO', 'copy')) as unknown[][];
    expect(copy?.slice(0, 6)).toEqual(['copy', -3, ['write', 'denyoom'], 1, 2, 1]);
    expect((copy?.[8] as unknown[][]).map((spec) => spec[1])).toEqual([['RO', 'access'], ['OW', 'update']]);
    const [touch] = (await r.call('COMMAND', 'INFO', 'touch')) as unknown[][];
    expect(touch?.slice(0, 6)).toEqual(['touch', -2, ['readonly', 'fast'], 1, -1, 1]);
    const [move] = (await r.call('COMMAND', 'INFO', 'move')) as unknown[][];
    expect(move?.slice(0, 6)).toEqual(['move', 3, ['write', 'fast'], 1, 1, 1]);
  });

  it('COMMAND GETKEYS finds the keys of RENAME and COPY (not the DB argument)', async () => {
    expect(await r.call('COMMAND', 'GETKEYS', 'RENAME', 'a', 'b')).toEqual(['a', 'b']);
    expect(await r.call('COMMAND', 'GETKEYS', 'COPY', 'a', 'b', 'DB', '1', 'REPLACE')).toEqual(['a', 'b']);
  });

  it('RENAME and MOVE touch WATCHed keys: the watcher\'s EXEC is aborted', async () => {
    const watcher = ioredis(server.respPort as number);
    await watcher.connect();
    try {
      await r.set('w', 'v');
      await watcher.watch('moved-in');
      expect(await r.rename('w', 'moved-in')).toBe('OK');
      expect(await watcher.multi().get('moved-in').exec()).toBeNull();
      await watcher.watch('moved-in');
      expect(await r.move('moved-in', 3)).toBe(1);
      expect(await watcher.multi().get('moved-in').exec()).toBeNull();
    } finally {
      watcher.disconnect();
    }
  });
});

describe('expiry carried by the keyspace commands', () => {
  it('a key RENAMEd with a short TTL is still gone once it passes', async () => {
    await r.set('short', 'v');
    await r.pexpire('short', 80);
    await r.rename('short', 'renamed');
    const started = Date.now();
    while ((await r.exists('renamed')) === 1) {
      if (Date.now() - started > kGoneDeadlineMs) throw new Error('renamed key did not expire');
      await new Promise((resolve) => setTimeout(resolve, kPollMs));
    }
    expect(await r.get('renamed')).toBeNull();
  });
});
