/**
 * The RESP hash family against a real frostkv RESP listener: ioredis and node-redis over a
 * socket, and the raw client for exact RESP2/RESP3 frames. Small hashes (inline) and large ones
 * (> 128 fields, or a field past 3 KiB: their own collection table), every command's reply in
 * both protocols, Redis 7.0's error texts, WRONGTYPE both ways, expiry kept through writes, the
 * key gone with its last field, HSCAN iterations, HRANDFIELD's count rules, HINCRBY /
 * HINCRBYFLOAT edge cases and WATCH. Expected texts and shapes are Redis 7.0.15's.
 */

import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startInProcess, type InProcessServer } from '../../support/server.js';
import { RawClient, type Reply } from './raw.js';
import { errorOf, ioredis } from './client-helpers.js';

const kWrongType = 'WRONGTYPE Operation against a key holding the wrong kind of value';
const kNotInteger = 'ERR value is not an integer or out of range';
/** More fields than a small (inline) hash holds: the hash lives in its own table. */
const kLargeFieldCount = 300;
/** A value past the small encoding's 3 KiB: the hash moves to its own table. */
const kBigValueBytes = 4 * 1024;

let server: InProcessServer;
let r: Redis;

/** A raw reply as plain data: bulks as strings, `null` for either null, maps as `{ map: [...] }`. */
type Plain = string | bigint | null | boolean | Plain[] | { map: Array<[Plain, Plain]> } | { error: string } | { kind: string; v: string };
function plain(reply: Reply): Plain {
  switch (reply.t) {
    case '$':
      return reply.v === null ? null : reply.v.toString('latin1');
    case '*':
      return reply.v === null ? null : reply.v.map(plain);
    case '%':
      return { map: reply.v.map(([k, v]) => [plain(k), plain(v)]) };
    case ':':
      return reply.v;
    case '_':
      return null;
    case '-':
      return { error: reply.v };
    case '+':
      return reply.v;
    case '#':
      return reply.v;
    default:
      return { kind: reply.t, v: String(reply.v) };
  }
}

/** Fill `key` with `count` fields f0..f(n-1) valued v0..v(n-1) in one HSET. */
async function fill(key: string, count: number, prefix = 'f'): Promise<Map<string, string>> {
  const args: string[] = [];
  const fields = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    args.push(`${prefix}${i}`, `v${i}`);
    fields.set(`${prefix}${i}`, `v${i}`);
  }
  expect(await r.hset(key, ...args)).toBe(count);
  return fields;
}

function isLarge(key: string): boolean {
  return server.server.db.table('default:default').hashIsLarge(key);
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
});

describe('HSET, HSETNX, HMSET, HGET, HMGET, HLEN, HEXISTS, HSTRLEN, HDEL', () => {
  it('HSET answers how many fields were new; HMSET answers OK; HGET and HMGET read them back', async () => {
    expect(await r.hset('h', 'a', '1', 'b', '2')).toBe(2);
    expect(await r.hset('h', 'a', 'one', 'c', '3')).toBe(1);
    expect(await r.call('HMSET', 'h', 'd', '4', 'a', 'uno')).toBe('OK');
    expect(await r.hget('h', 'a')).toBe('uno');
    expect(await r.hget('h', 'missing')).toBeNull();
    expect(await r.hget('nokey', 'a')).toBeNull();
    expect(await r.hmget('h', 'a', 'nope', 'd')).toEqual(['uno', null, '4']);
    expect(await r.hmget('nokey', 'a', 'b')).toEqual([null, null]);
    expect(await r.hlen('h')).toBe(4);
    expect(await r.hlen('nokey')).toBe(0);
    expect(await r.hexists('h', 'b')).toBe(1);
    expect(await r.hexists('h', 'zz')).toBe(0);
    expect(await r.hexists('nokey', 'b')).toBe(0);
    expect(await r.hstrlen('h', 'a')).toBe(3);
    expect(await r.hstrlen('h', 'zz')).toBe(0);
    expect(await r.hstrlen('nokey', 'a')).toBe(0);
    expect(await r.type('h')).toBe('hash');
  });

  it('HSETNX sets only a missing field', async () => {
    expect(await r.hsetnx('h', 'a', '1')).toBe(1);
    expect(await r.hsetnx('h', 'a', '2')).toBe(0);
    expect(await r.hget('h', 'a')).toBe('1');
  });

  it('refuses odd field/value counts with Redis\'s arity texts, and changes nothing', async () => {
    expect(await errorOf(r.call('HSET', 'h', 'a', '1', 'b'))).toBe("ERR wrong number of arguments for 'hset' command");
    expect(await errorOf(r.call('HMSET', 'h', 'a', '1', 'b'))).toBe("ERR wrong number of arguments for 'hmset' command");
    expect(await errorOf(r.call('HSET', 'h', 'a'))).toBe("ERR wrong number of arguments for 'hset' command");
    expect(await errorOf(r.call('HGET', 'h'))).toBe("ERR wrong number of arguments for 'hget' command");
    expect(await r.exists('h')).toBe(0);
  });

  it('HDEL answers how many fields existed; the key goes with its last field', async () => {
    await r.hset('h', 'a', '1', 'b', '2', 'c', '3');
    expect(await r.hdel('h', 'x', 'y')).toBe(0);
    expect(await r.hdel('h', 'a', 'c', 'a', 'f')).toBe(2);
    expect(await r.hgetall('h')).toEqual({ b: '2' });
    expect(await r.hdel('h', 'b', 'zz')).toBe(1);
    expect(await r.exists('h')).toBe(0);
    expect(await r.hdel('nokey', 'a')).toBe(0);
  });

  it('refuses a field past the key limit before writing any field of the command', async () => {
    await fill('big', kLargeFieldCount);
    const tooLong = Buffer.alloc(server.server.db.engine.keyMaxBytes + 1, 0x61);
    const text = await errorOf(r.hset('big', 'fresh', '1', tooLong, 'v'));
    expect(text).toBe('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
    expect(await r.hexists('big', 'fresh')).toBe(0);
    expect(await r.hlen('big')).toBe(kLargeFieldCount);
    expect(await errorOf(r.hset('small', 'fresh', '1', tooLong, 'v'))).toBe(text);
    expect(await r.exists('small')).toBe(0);
  });

  it('keeps binary fields and values byte for byte', async () => {
    const field = Buffer.from([0, 255, 13, 10, 1]);
    const value = Buffer.from([10, 13, 0, 128]);
    expect(await r.hset('bin', field, value)).toBe(1);
    expect(await r.hgetBuffer('bin', field)).toEqual(value);
    expect(await r.hstrlen('bin', field)).toBe(4);
  });
});

describe('small and large hashes', () => {
  it('a hash past 128 fields moves to its own table and answers every command the same', async () => {
    const fields = await fill('big', kLargeFieldCount);
    expect(isLarge('big')).toBe(true);
    expect(await r.call('OBJECT', 'ENCODING', 'big')).toBe('hashtable');
    expect(await r.hlen('big')).toBe(kLargeFieldCount);
    expect(await r.hget('big', 'f123')).toBe('v123');
    expect(await r.hmget('big', 'f0', 'nope', 'f299')).toEqual(['v0', null, 'v299']);
    expect(await r.hexists('big', 'f7')).toBe(1);
    expect(await r.hstrlen('big', 'f7')).toBe(2);
    expect(await r.hgetall('big')).toEqual(Object.fromEntries(fields));
    expect((await r.hkeys('big')).sort()).toEqual([...fields.keys()].sort());
    expect((await r.hvals('big')).sort()).toEqual([...fields.values()].sort());
    expect(await r.hset('big', 'f0', 'new', 'extra', 'x')).toBe(1);
    expect(await r.hsetnx('big', 'extra', 'y')).toBe(0);
    expect(await r.hget('big', 'f0')).toBe('new');
    const all = [...fields.keys(), 'extra'];
    expect(await r.hdel('big', ...all.slice(0, 100))).toBe(100);
    expect(await r.hlen('big')).toBe(kLargeFieldCount + 1 - 100);
    expect(await r.hdel('big', ...all)).toBe(kLargeFieldCount + 1 - 100);
    expect(await r.exists('big')).toBe(0);
  });

  it('HSET into a large hash: new fields counted once, WRONGTYPE before the size check', async () => {
    await fill('big', kLargeFieldCount);
    expect(await r.hset('big', 'n1', 'a', 'n1', 'b', 'f1', 'c')).toBe(1);
    expect(await r.hmget('big', 'n1', 'f1')).toEqual(['b', 'c']);
    expect(await r.hlen('big')).toBe(kLargeFieldCount + 1);
    await r.set('str', 'v');
    const tooLong = Buffer.alloc(server.server.db.engine.keyMaxBytes + 1, 0x61);
    expect(await errorOf(r.hset('str', tooLong, 'v'))).toBe(kWrongType);
  });

  it('a value past 3 KiB moves the hash to its own table', async () => {
    await r.hset('h', 'small', 'x');
    expect(isLarge('h')).toBe(false);
    expect(await r.call('OBJECT', 'ENCODING', 'h')).toBe('listpack');
    const big = 'b'.repeat(kBigValueBytes);
    expect(await r.hset('h', 'big', big)).toBe(1);
    expect(isLarge('h')).toBe(true);
    expect(await r.hget('h', 'big')).toBe(big);
    expect(await r.hget('h', 'small')).toBe('x');
    expect(await r.hstrlen('h', 'big')).toBe(kBigValueBytes);
    const bigField = 'k'.repeat(kBigValueBytes);
    expect(await r.hset('h2', bigField, 'v')).toBe(1);
    expect(isLarge('h2')).toBe(true);
    expect(await r.hkeys('h2')).toEqual([bigField]);
  });
});

describe('WRONGTYPE both ways, expiry, and a missing key', () => {
  it('a hash command on a string key and a string command on a hash key answer WRONGTYPE', async () => {
    await r.set('s', 'v');
    await r.hset('h', 'f', 'v');
    for (const command of [
      ['HSET', 's', 'f', 'v'], ['HSETNX', 's', 'f', 'v'], ['HMSET', 's', 'f', 'v'], ['HGET', 's', 'f'], ['HMGET', 's', 'f'],
      ['HGETALL', 's'], ['HKEYS', 's'], ['HVALS', 's'], ['HDEL', 's', 'f'], ['HLEN', 's'], ['HEXISTS', 's', 'f'],
      ['HSTRLEN', 's', 'f'], ['HINCRBY', 's', 'f', '1'], ['HINCRBYFLOAT', 's', 'f', '1'], ['HSCAN', 's', '0'],
      ['HRANDFIELD', 's'], ['HRANDFIELD', 's', '2'],
    ]) {
      expect(await errorOf(r.call(command[0] as string, ...command.slice(1))), command.join(' ')).toBe(kWrongType);
    }
    expect(await errorOf(r.get('h'))).toBe(kWrongType);
    expect(await errorOf(r.incr('h'))).toBe(kWrongType);
    expect(await errorOf(r.append('h', 'x'))).toBe(kWrongType);
    expect(await r.get('s')).toBe('v');
    expect(await r.hgetall('h')).toEqual({ f: 'v' });
  });

  it('a hash keeps its TTL through HSET, HDEL, HINCRBY and a move to its own table; SET replaces it', async () => {
    await r.hset('h', 'a', '1', 'b', '2');
    expect(await r.pexpire('h', 100_000)).toBe(1);
    await r.hset('h', 'c', '3');
    await r.hdel('h', 'a');
    await r.hincrby('h', 'n', 5);
    await r.hincrbyfloat('h', 'x', 1.5);
    await fill('h', kLargeFieldCount, 'g');
    expect(isLarge('h')).toBe(true);
    const ttl = await r.pttl('h');
    expect(ttl).toBeGreaterThan(90_000);
    expect(ttl).toBeLessThanOrEqual(100_000);
    await r.set('h', 'plain');
    expect(await r.pttl('h')).toBe(-1);
  });

  it('an expired hash is gone for every hash command', async () => {
    await r.hset('h', 'a', '1');
    await r.pexpire('h', 30);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(await r.hget('h', 'a')).toBeNull();
    expect(await r.hlen('h')).toBe(0);
    expect(await r.hgetall('h')).toEqual({});
    expect(await r.hset('h', 'b', '2')).toBe(1);
    expect(await r.pttl('h')).toBe(-1);
  });
});

describe('HINCRBY and HINCRBYFLOAT', () => {
  it('HINCRBY creates the key and field, adds, and refuses non-integers and overflow with Redis\'s texts', async () => {
    expect(await r.hincrby('h', 'n', 2)).toBe(2);
    expect(await r.hincrby('h', 'n', -5)).toBe(-3);
    await r.hset('h', 'big', '17179869184', 'sp', ' 11', 'tr', '11 ', 'txt', 'abc', 'lz', '011', 'min', '-9223372036854775484');
    expect(await r.hincrby('h', 'big', 17179869184)).toBe(34359738368);
    for (const field of ['sp', 'tr', 'txt', 'lz']) expect(await errorOf(r.hincrby('h', field, 1)), field).toBe('ERR hash value is not an integer');
    expect(await r.hincrby('h', 'min', -1)).toBe(-9223372036854775485);
    expect(await errorOf(r.hincrby('h', 'min', -10000))).toBe('ERR increment or decrement would overflow');
    await r.hset('h', 'max', '9223372036854775807');
    expect(await errorOf(r.hincrby('h', 'max', 1))).toBe('ERR increment or decrement would overflow');
    expect(await r.hget('h', 'max')).toBe('9223372036854775807');
    expect(await errorOf(r.call('HINCRBY', 'h', 'n', 'x'))).toBe(kNotInteger);
    expect(await errorOf(r.call('HINCRBY', 'h', 'n', '9223372036854775808'))).toBe(kNotInteger);
    // The increment is checked before the key: a bad increment on a string key is not WRONGTYPE.
    await r.set('s', 'v');
    expect(await errorOf(r.call('HINCRBY', 's', 'n', '1.5'))).toBe(kNotInteger);
  });

  it('HINCRBYFLOAT formats as Redis (long double, %.17Lf trimmed) and refuses bad input with Redis\'s texts', async () => {
    expect(await r.hincrbyfloat('h', 'f', 1.23)).toBe('1.23');
    expect(await r.hincrbyfloat('h', 'f', 0.77)).toBe('2');
    expect(await r.hincrbyfloat('h', 'f', -0.1)).toBe('1.9');
    expect(await r.call('HINCRBYFLOAT', 'h', 'e', '5.0e3')).toBe('5000');
    expect(await r.call('HINCRBYFLOAT', 'h', 'z', '-0')).toBe('0');
    expect(await r.hget('h', 'f')).toBe('1.9');
    await r.hset('h', 'sp', ' 11', 'nul', '1\u00002', 'inf', 'inf');
    for (const field of ['sp', 'nul']) expect(await errorOf(r.hincrbyfloat('h', field, 1)), field).toBe('ERR hash value is not a float');
    expect(await errorOf(r.hincrbyfloat('h', 'inf', 1))).toBe('ERR increment would produce NaN or Infinity');
    expect(await errorOf(r.call('HINCRBYFLOAT', 'h', 'f', 'abc'))).toBe('ERR value is not a valid float');
    expect(await errorOf(r.call('HINCRBYFLOAT', 'nokey', 'f', '+inf'))).toBe('ERR value is NaN or Infinity');
    expect(await r.exists('nokey')).toBe(0);
    expect(await r.hincrby('h', 'i', 3)).toBe(3);
    expect(await r.hincrbyfloat('h', 'i', 0.5)).toBe('3.5');
    expect(await errorOf(r.hincrby('h', 'i', 1))).toBe('ERR hash value is not an integer');
  });

  it('works the same on a large hash', async () => {
    await fill('big', kLargeFieldCount);
    expect(await r.hincrby('big', 'n', 7)).toBe(7);
    expect(await r.hincrbyfloat('big', 'n', 0.25)).toBe('7.25');
    expect(await errorOf(r.hincrby('big', 'f1', 1))).toBe('ERR hash value is not an integer');
    expect(await r.hlen('big')).toBe(kLargeFieldCount + 1);
  });
});

describe('RESP2 and RESP3 reply shapes (raw frames)', () => {
  let raw: RawClient;

  beforeEach(async () => {
    raw?.destroy();
    raw = await RawClient.connect(server.respPort as number);
  });

  afterAll(() => raw?.destroy());

  async function both(run: () => Promise<void>): Promise<void> {
    await raw.call('HELLO', '2');
    await run();
    await raw.call('HELLO', '3');
    await run();
  }

  it('HGETALL is a map in RESP3 (empty: %0) and a flat array in RESP2 (empty: *0)', async () => {
    await raw.call('HSET', 'h', 'a', '1', 'b', '2');
    expect(plain(await raw.call('HGETALL', 'h'))).toEqual(['a', '1', 'b', '2']);
    expect(plain(await raw.call('HGETALL', 'nokey'))).toEqual([]);
    await raw.call('HELLO', '3');
    expect(plain(await raw.call('HGETALL', 'h'))).toEqual({ map: [['a', '1'], ['b', '2']] });
    expect(plain(await raw.call('HGETALL', 'nokey'))).toEqual({ map: [] });
  });

  it('HKEYS, HVALS, HMGET are arrays; HGET of a missing field is $-1 in RESP2 and _ in RESP3', async () => {
    await raw.call('HSET', 'h', 'a', '1', 'b', '2');
    expect(await raw.call('HGET', 'h', 'zz')).toEqual({ t: '$', v: null });
    expect(await raw.call('HMGET', 'h', 'zz')).toEqual({ t: '*', v: [{ t: '$', v: null }] });
    await raw.call('HELLO', '3');
    expect(await raw.call('HGET', 'h', 'zz')).toEqual({ t: '_', v: null });
    expect(await raw.call('HMGET', 'h', 'a', 'zz')).toEqual({ t: '*', v: [{ t: '$', v: Buffer.from('1') }, { t: '_', v: null }] });
    await both(async () => {
      expect(plain(await raw.call('HKEYS', 'h'))).toEqual(['a', 'b']);
      expect(plain(await raw.call('HVALS', 'h'))).toEqual(['1', '2']);
      expect(plain(await raw.call('HKEYS', 'nokey'))).toEqual([]);
      expect(plain(await raw.call('HLEN', 'h'))).toBe(2n);
      expect(plain(await raw.call('HEXISTS', 'h', 'a'))).toBe(1n);
      expect(plain(await raw.call('HSTRLEN', 'h', 'a'))).toBe(1n);
      expect(plain(await raw.call('HINCRBYFLOAT', 'other', 'x', '0.5'))).toMatch(/^(0\.5|1)$/);
      expect(String(plain(await raw.call('HINCRBY', 'other', 'n', '2')))).toMatch(/^(2|4)$/);
      expect(plain(await raw.call('HMSET', 'other', 'c', '3'))).toBe('OK');
      expect(plain(await raw.call('HSET', 'third', 'a', '1', 'b', '2'))).toBe(2n);
      expect(plain(await raw.call('HSETNX', 'third', 'a', '1'))).toBe(0n);
      expect(plain(await raw.call('HDEL', 'third', 'a', 'b', 'c'))).toBe(2n);
    });
  });

  it('HRANDFIELD: a bulk (nil for a missing key); with a count an array, WITHVALUES flat in RESP2 and pairs in RESP3', async () => {
    await raw.call('HSET', 'h', 'a', '1', 'b', '2', 'c', '3');
    expect(plain(await raw.call('HRANDFIELD', 'nokey'))).toBeNull();
    expect(await raw.call('HRANDFIELD', 'nokey')).toEqual({ t: '$', v: null });
    expect(await raw.call('HRANDFIELD', 'nokey', '5')).toEqual({ t: '*', v: [] });
    expect(await raw.call('HRANDFIELD', 'h', '0')).toEqual({ t: '*', v: [] });
    expect(['a', 'b', 'c']).toContain(plain(await raw.call('HRANDFIELD', 'h')));
    const flat = plain(await raw.call('HRANDFIELD', 'h', '2', 'WITHVALUES')) as string[];
    expect(flat).toHaveLength(4);
    expect({ a: '1', b: '2', c: '3' }[flat[0] as 'a']).toBe(flat[1]);
    await raw.call('HELLO', '3');
    expect(await raw.call('HRANDFIELD', 'nokey')).toEqual({ t: '_', v: null });
    expect(await raw.call('HRANDFIELD', 'nokey', '5')).toEqual({ t: '*', v: [] });
    const pairs = plain(await raw.call('HRANDFIELD', 'h', '3', 'WITHVALUES')) as string[][];
    expect(pairs.map((pair) => pair.join('=')).sort()).toEqual(['a=1', 'b=2', 'c=3']);
    const repeated = plain(await raw.call('HRANDFIELD', 'h', '-5', 'withvalues')) as string[][];
    expect(repeated).toHaveLength(5);
    for (const pair of repeated) expect(pair).toHaveLength(2);
    const names = plain(await raw.call('HRANDFIELD', 'h', '3')) as string[];
    expect(names.sort()).toEqual(['a', 'b', 'c']);
  });

  it('HSCAN answers [cursor, [field, value, ...]] in both protocols; a missing key answers [0, []]', async () => {
    await raw.call('HSET', 'h', 'a', '1', 'b', '2');
    await both(async () => {
      expect(plain(await raw.call('HSCAN', 'h', '0'))).toEqual(['0', ['a', '1', 'b', '2']]);
      expect(plain(await raw.call('HSCAN', 'h', '0', 'MATCH', 'b*'))).toEqual(['0', ['b', '2']]);
      expect(plain(await raw.call('HSCAN', 'nokey', '0'))).toEqual(['0', []]);
    });
  });
});

describe('HSCAN', () => {
  it('checks the cursor first, then the options, with Redis\'s texts', async () => {
    await r.hset('h', 'a', '1');
    expect(await errorOf(r.call('HSCAN', 'h', 'x'))).toBe('ERR invalid cursor');
    expect(await errorOf(r.call('HSCAN', 'nokey', 'x'))).toBe('ERR invalid cursor');
    expect(await errorOf(r.call('HSCAN', 'h', '0', 'COUNT', '0'))).toBe('ERR syntax error');
    expect(await errorOf(r.call('HSCAN', 'h', '0', 'COUNT', 'x'))).toBe(kNotInteger);
    expect(await errorOf(r.call('HSCAN', 'h', '0', 'MATCH'))).toBe('ERR syntax error');
    expect(await errorOf(r.call('HSCAN', 'h', '0', 'TYPE', 'hash'))).toBe('ERR syntax error');
    expect(await errorOf(r.call('HSCAN', 'h', '0', 'NOVALUES'))).toBe('ERR syntax error');
    // A missing key answers the empty scan before the options are read, as Redis does.
    expect(await r.call('HSCAN', 'nokey', '0', 'COUNT', '0')).toEqual(['0', []]);
  });

  it('a small hash answers every field whatever the cursor (Redis ignores it for listpacks); a large one nothing past 2^32', async () => {
    await r.hset('h', 'a', '1');
    for (const cursor of ['0', '7', '-1', '18446744073709551615', '4294967296']) {
      expect(await r.call('HSCAN', 'h', cursor), cursor).toEqual(['0', ['a', '1']]);
    }
    await fill('big', kLargeFieldCount);
    expect(await r.call('HSCAN', 'big', '4294967296')).toEqual(['0', []]);
  });

  it('ioredis hscanStream over a 5,000-field hash returns every field exactly once, while the hash is written', async () => {
    const fields = await fill('big', 5000);
    const seen = new Map<string, number>();
    const stream = r.hscanStream('big', { count: 100 });
    let batches = 0;
    for await (const batch of stream as AsyncIterable<string[]>) {
      batches++;
      for (let i = 0; i < batch.length; i += 2) {
        const field = batch[i] as string;
        seen.set(field, (seen.get(field) ?? 0) + 1);
        expect(batch[i + 1]).toBe(fields.get(field) ?? 'extra');
      }
      // Writes during the iteration: fields present throughout must still come back once.
      if (batches < 20) await r.hset('big', `extra${batches}`, 'extra');
    }
    expect(batches).toBeGreaterThan(1);
    for (const field of fields.keys()) expect(seen.get(field), field).toBe(1);
    for (const [field, times] of seen) {
      expect(times, field).toBe(1);
      expect(fields.has(field) || field.startsWith('extra'), field).toBe(true);
    }
  });

  it('node-redis hScanIterator (MATCH, COUNT) returns every matching field exactly once', async () => {
    await fill('big', 5000);
    const nr = createClient({ socket: { host: '127.0.0.1', port: server.respPort as number, reconnectStrategy: false } });
    await nr.connect();
    try {
      const seen = new Map<string, string>();
      for await (const batch of nr.hScanIterator('big', { MATCH: 'f1*', COUNT: 200 })) {
        for (const entry of batch) {
          expect(seen.has(entry.field), entry.field).toBe(false);
          seen.set(entry.field, entry.value);
        }
      }
      // f1, f10-f19, f100-f199, f1000-f1999.
      expect(seen.size).toBe(1 + 10 + 100 + 1000);
      expect(seen.get('f1234')).toBe('v1234');
      let all = 0;
      for await (const batch of nr.hScanIterator('big')) all += batch.length;
      expect(all).toBe(5000);
    } finally {
      await nr.disconnect();
    }
  });
});

describe('HRANDFIELD', () => {
  it('checks the count and WITHVALUES with Redis\'s texts', async () => {
    await r.hset('h', 'a', '1');
    expect(await errorOf(r.call('HRANDFIELD', 'h', 'x'))).toBe(kNotInteger);
    expect(await errorOf(r.call('HRANDFIELD', 'h', '1', 'WITHSCORES'))).toBe('ERR syntax error');
    expect(await errorOf(r.call('HRANDFIELD', 'h', '1', 'WITHVALUES', 'x'))).toBe('ERR syntax error');
    expect(await errorOf(r.call('HRANDFIELD', 'h', '-9223372036854770000', 'WITHVALUES'))).toBe('ERR value is out of range');
    expect(await errorOf(r.call('HRANDFIELD', 'h', '-9223372036854775808'))).toBe(
      'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807',
    );
  });

  it('a positive count answers distinct fields (all of them when the count is the size or more)', async () => {
    const fields = await fill('h', 10);
    expect(((await r.hrandfield('h', 20)) as string[]).sort()).toEqual([...fields.keys()].sort());
    for (const count of [1, 2, 8, 10]) {
      const got = (await r.hrandfield('h', count)) as string[];
      expect(new Set(got).size).toBe(count);
      for (const field of got) expect(fields.has(field)).toBe(true);
    }
    const withValues = (await r.hrandfield('h', 4, 'WITHVALUES')) as string[];
    expect(withValues).toHaveLength(8);
    for (let i = 0; i < withValues.length; i += 2) expect(fields.get(withValues[i] as string)).toBe(withValues[i + 1]);
  });

  it('a negative count answers that many fields, repeats allowed, spread over the whole hash', async () => {
    const fields = await fill('h', 10);
    const got = (await r.hrandfield('h', -1000)) as string[];
    expect(got).toHaveLength(1000);
    const counts = new Map<string, number>();
    for (const field of got) counts.set(field, (counts.get(field) ?? 0) + 1);
    expect(counts.size).toBe(10);
    for (const field of counts.keys()) expect(fields.has(field)).toBe(true);
    expect((await r.hrandfield('h', -3, 'WITHVALUES')) as string[]).toHaveLength(6);
  });

  it('on a large hash: distinct fields for small and large counts, every field reachable', async () => {
    const fields = await fill('big', 2000);
    expect(isLarge('big')).toBe(true);
    for (const count of [1, 5, 100, 700, 1500, 1999, 2000, 5000]) {
      const got = (await r.hrandfield('big', count)) as string[];
      expect(got, String(count)).toHaveLength(Math.min(count, 2000));
      expect(new Set(got).size, String(count)).toBe(Math.min(count, 2000));
      for (const field of got) expect(fields.has(field)).toBe(true);
    }
    const pairs = (await r.hrandfield('big', 50, 'WITHVALUES')) as string[];
    for (let i = 0; i < pairs.length; i += 2) expect(fields.get(pairs[i] as string)).toBe(pairs[i + 1]);
    const seen = new Set<string>();
    for (let round = 0; round < 40 && seen.size < 2000; round++) for (const field of (await r.hrandfield('big', -500)) as string[]) seen.add(field);
    expect(seen.size).toBeGreaterThan(1900);
  });

  it('refuses a negative count past frostkv\'s bound instead of building an unbounded reply', async () => {
    await r.hset('h', 'a', '1');
    expect(await errorOf(r.call('HRANDFIELD', 'h', '-100000000'))).toMatch(/^ERR value is out of range/);
  });
});

describe('WATCH and node-redis', () => {
  it('EXEC of a transaction watching a hash (small or large) is aborted by another client\'s HSET', async () => {
    await r.hset('h', 'a', '1');
    const other = ioredis(server.respPort as number);
    await other.connect();
    try {
      await r.watch('h');
      await other.hset('h', 'b', '2');
      expect(await r.multi().hset('h', 'c', '3').exec()).toBeNull();
      expect(await r.hexists('h', 'c')).toBe(0);
      await r.watch('h');
      await other.hget('h', 'a');
      expect(await r.multi().hset('h', 'c', '3').exec()).toEqual([[null, 1]]);
      // A refused or no-op write does not touch the watched key.
      await r.watch('h');
      await other.hdel('h', 'nope');
      await other.hsetnx('h', 'a', 'x');
      expect(await r.multi().hlen('h').exec()).toEqual([[null, 3]]);
      // The same for a large hash, which HSET writes in its own table without touching the key.
      await fill('big', kLargeFieldCount);
      await r.watch('big');
      await other.hset('big', 'n2', 'x');
      expect(await r.multi().hset('big', 'n3', 'y').exec()).toBeNull();
      expect(await r.hexists('big', 'n3')).toBe(0);
    } finally {
      other.disconnect();
    }
  });

  it('node-redis in RESP2 and RESP3 reads hashes through its typed commands', async () => {
    for (const RESP of [2, 3] as const) {
      const nr = createClient({ socket: { host: '127.0.0.1', port: server.respPort as number, reconnectStrategy: false }, RESP });
      await nr.connect();
      try {
        await nr.del('nh');
        expect(await nr.hSet('nh', { a: '1', b: '2' })).toBe(2);
        expect(await nr.hGet('nh', 'a')).toBe('1');
        const all = await nr.hGetAll('nh');
        expect({ ...all }).toEqual({ a: '1', b: '2' });
        expect(await nr.hIncrBy('nh', 'n', 4)).toBe(4);
        expect(await nr.hIncrByFloat('nh', 'x', 0.5)).toBe('0.5');
        expect((await nr.hKeys('nh')).sort()).toEqual(['a', 'b', 'n', 'x']);
        expect(await nr.hLen('nh')).toBe(4);
        const randomPairs = await nr.hRandFieldCountWithValues('nh', 2);
        expect(randomPairs).toHaveLength(2);
        for (const pair of randomPairs) expect(['a', 'b', 'n', 'x']).toContain(pair.field);
        expect(await nr.hDel('nh', ['a', 'b', 'n', 'x'])).toBe(4);
        expect(await nr.exists('nh')).toBe(0);
      } finally {
        await nr.disconnect();
      }
    }
  });
});
