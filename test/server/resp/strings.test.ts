/**
 * The RESP string family against a real frostkv RESP listener (ioredis over a socket, and a
 * raw client for RESP3): SET's options and their errors, SETEX PSETEX GETEX GETDEL GETSET MGET
 * MSET MSETNX APPEND STRLEN GETRANGE SUBSTR SETRANGE, the INCR family and INCRBYFLOAT's long
 * double arithmetic and formatting, LCS, and which writes keep or drop a key's expiry.
 * Expected texts and shapes are Redis 7.0.15's (checked against a real redis-server 7.0.15).
 */

import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeList } from '../../../src/engine/list.js';
import { encodeSmall } from '../../../src/engine/small-hash.js';
import { kNoExpiry, ValueType } from '../../../src/engine/value.js';
import { startInProcess, type InProcessServer } from '../../support/server.js';
import { RawClient, show } from './raw.js';
import { errorOf, ioredis } from './client-helpers.js';

/** 2100-01-01T00:00:00Z in seconds: a fixed time far ahead. */
const kFutureSeconds = 4_102_444_800;
const kWrongType = 'WRONGTYPE Operation against a key holding the wrong kind of value';
const kSyntax = 'ERR syntax error';
const kNotInteger = 'ERR value is not an integer or out of range';
const kNotFloat = 'ERR value is not a valid float';
const kTooLarge = 'ERR string exceeds maximum allowed size (proto-max-bulk-len)';
/** The value limit of the server under test (small, so the limit is reached without big buffers). */
const kValueMaxBytes = 1024 * 1024;

let server: InProcessServer;
let r: Redis;

/** Write a list and a hash straight through the engine, for the WRONGTYPE checks. */
function putOtherTypes(): void {
  const t = server.server.db.engine.table('default:default');
  const put = (key: string, type: number, value: Buffer): void => {
    const k = Buffer.from(key);
    t.writeRange('upsert', k, 0, k.length, value, 0, value.length, kNoExpiry, type);
  };
  put('list', ValueType.list, encodeList('binstr', [Buffer.from('a')]));
  put('hash', ValueType.hash, encodeSmall([[Buffer.from('f'), Buffer.from('v')]]));
}

beforeAll(async () => {
  server = await startInProcess({ limits: { valueMaxBytes: kValueMaxBytes } }, { resp: true });
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

describe('SET and its options', () => {
  it('NX, XX and GET (GET with NX is allowed, as in Redis 7.0)', async () => {
    expect(await r.call('SET', 'k', 'a', 'XX')).toBeNull();
    expect(await r.call('SET', 'k', 'a', 'NX')).toBe('OK');
    expect(await r.call('SET', 'k', 'b', 'NX')).toBeNull();
    expect(await r.call('SET', 'k', 'b', 'XX', 'GET')).toBe('a');
    expect(await r.call('SET', 'k', 'c', 'NX', 'GET')).toBe('b');
    expect(await r.get('k')).toBe('b');
    expect(await r.call('SET', 'new', 'v', 'NX', 'GET')).toBeNull();
    expect(await r.get('new')).toBe('v');
    expect(await r.call('SET', 'k', 'd', 'nx', 'nx', 'get')).toBe('b');
  });

  it('EX PX EXAT PXAT set the expiry; a plain SET drops it; KEEPTTL keeps it', async () => {
    await r.call('SET', 'k', 'v', 'EX', '100');
    expect(await r.ttl('k')).toBeGreaterThan(98);
    await r.call('SET', 'k', 'v', 'PX', '100000');
    expect(await r.pttl('k')).toBeGreaterThan(98_000);
    await r.call('SET', 'k', 'v', 'EXAT', String(kFutureSeconds));
    expect(await r.call('EXPIRETIME', 'k')).toBe(kFutureSeconds);
    await r.call('SET', 'k', 'v', 'PXAT', String(kFutureSeconds * 1000 + 5));
    expect(await r.call('PEXPIRETIME', 'k')).toBe(kFutureSeconds * 1000 + 5);
    await r.call('SET', 'k', 'w', 'KEEPTTL');
    expect(await r.call('PEXPIRETIME', 'k')).toBe(kFutureSeconds * 1000 + 5);
    await r.call('SET', 'k', 'x');
    expect(await r.ttl('k')).toBe(-1);
    expect(await r.call('SET', 'k', 'y', 'XX', 'GET', 'EX', '50')).toBe('x');
    expect(await r.ttl('k')).toBeGreaterThan(48);
  });

  it('a PXAT in the past stores a key that is already gone', async () => {
    expect(await r.call('SET', 'k', 'v', 'PXAT', '1')).toBe('OK');
    expect(await r.exists('k')).toBe(0);
  });

  it("refuses conflicting options with 'ERR syntax error' and bad times with Redis's texts", async () => {
    for (const options of [['NX', 'XX'], ['XX', 'NX'], ['EX', '10', 'PX', '10'], ['EX', '10', 'KEEPTTL'], ['KEEPTTL', 'PXAT', '5'], ['EX'], ['PERSIST'], ['FOO']]) {
      expect(await errorOf(r.call('SET', 'k', 'v', ...options))).toBe(kSyntax);
    }
    for (const bad of [['EX', '0'], ['PX', '-1'], ['EXAT', '0'], ['EX', '9223372036854775807'], ['PX', '9223372036854775807']]) {
      expect(await errorOf(r.call('SET', 'k', 'v', ...bad))).toBe("ERR invalid expire time in 'set' command");
    }
    expect(await errorOf(r.call('SET', 'k', 'v', 'EX', 'ten'))).toBe(kNotInteger);
    expect(await r.exists('k')).toBe(0);
  });

  it('SET GET on another type is WRONGTYPE and writes nothing; SET replaces another type', async () => {
    putOtherTypes();
    expect(await errorOf(r.call('SET', 'list', 'v', 'GET'))).toBe(kWrongType);
    expect(await errorOf(r.get('list'))).toBe(kWrongType);
    expect(await r.set('hash', 'v')).toBe('OK');
    expect(await r.get('hash')).toBe('v');
  });

  it('SETNX, SETEX and PSETEX', async () => {
    expect(await r.setnx('k', 'a')).toBe(1);
    expect(await r.setnx('k', 'b')).toBe(0);
    expect(await r.setex('k', 100, 'c')).toBe('OK');
    expect(await r.get('k')).toBe('c');
    expect(await r.ttl('k')).toBeGreaterThan(98);
    expect(await r.psetex('k', 100_000, 'd')).toBe('OK');
    expect(await r.pttl('k')).toBeGreaterThan(98_000);
    expect(await errorOf(r.setex('k', 0, 'e'))).toBe("ERR invalid expire time in 'setex' command");
    expect(await errorOf(r.psetex('k', -5, 'e'))).toBe("ERR invalid expire time in 'psetex' command");
    expect(await errorOf(r.call('SETEX', 'k', '10'))).toBe("ERR wrong number of arguments for 'setex' command");
    expect(await r.get('k')).toBe('d');
  });
});

describe('GETEX GETDEL GETSET MGET MSET MSETNX', () => {
  it('GETEX sets, changes and removes the expiry, and answers the value', async () => {
    await r.set('k', 'v');
    expect(await r.call('GETEX', 'k')).toBe('v');
    expect(await r.ttl('k')).toBe(-1);
    expect(await r.call('GETEX', 'k', 'EX', '100')).toBe('v');
    expect(await r.ttl('k')).toBeGreaterThan(98);
    expect(await r.call('GETEX', 'k', 'PXAT', String(kFutureSeconds * 1000))).toBe('v');
    expect(await r.call('PEXPIRETIME', 'k')).toBe(kFutureSeconds * 1000);
    expect(await r.call('GETEX', 'k', 'PERSIST')).toBe('v');
    expect(await r.ttl('k')).toBe(-1);
    expect(await r.call('GETEX', 'k', 'EXAT', '1')).toBe('v');
    expect(await r.exists('k')).toBe(0);
    expect(await r.call('GETEX', 'missing', 'EX', '0')).toBeNull();
  });

  it('GETEX refuses SET-only options, conflicts and bad times', async () => {
    await r.set('k', 'v');
    for (const options of [['NX'], ['KEEPTTL'], ['GET'], ['EX', '1', 'PERSIST'], ['PERSIST', 'PX', '5'], ['EX']]) {
      expect(await errorOf(r.call('GETEX', 'k', ...options))).toBe(kSyntax);
    }
    expect(await errorOf(r.call('GETEX', 'k', 'EX', '0'))).toBe("ERR invalid expire time in 'getex' command");
    expect(await errorOf(r.call('GETEX'))).toBe("ERR wrong number of arguments for 'getex' command");
    putOtherTypes();
    expect(await errorOf(r.call('GETEX', 'list'))).toBe(kWrongType);
  });

  it('GETSET drops the expiry; GETDEL deletes; both are WRONGTYPE on another type', async () => {
    await r.set('k', 'a', 'EX', 100);
    expect(await r.getset('k', 'b')).toBe('a');
    expect(await r.ttl('k')).toBe(-1);
    expect(await r.getset('new', 'x')).toBeNull();
    expect(await r.getdel('k')).toBe('b');
    expect(await r.exists('k')).toBe(0);
    putOtherTypes();
    expect(await errorOf(r.getset('list', 'v'))).toBe(kWrongType);
    expect(await errorOf(r.getdel('hash'))).toBe(kWrongType);
    expect(await errorOf(r.get('hash'))).toBe(kWrongType);
  });

  it('MGET answers nil for a missing key and for a key of another type', async () => {
    putOtherTypes();
    await r.set('s', 'v');
    expect(await r.mget('s', 'list', 'missing', 'hash', 's')).toEqual(['v', null, null, null, 'v']);
  });

  it('MSETNX writes all or nothing, whatever type the existing key has', async () => {
    expect(await r.msetnx('a', '1', 'b', '2')).toBe(1);
    expect(await r.msetnx('c', '3', 'a', '9')).toBe(0);
    expect(await r.exists('c')).toBe(0);
    expect(await r.msetnx('x', 'xxx', 'x', 'yyy')).toBe(1);
    expect(await r.get('x')).toBe('yyy');
    putOtherTypes();
    expect(await r.msetnx('d', '4', 'list', '5')).toBe(0);
    expect(await errorOf(r.call('MSETNX', 'a', '1', 'b'))).toBe("ERR wrong number of arguments for 'msetnx' command");
  });

  it('MSET drops the expiry of the keys it writes', async () => {
    await r.set('a', 'old', 'EX', 100);
    expect(await r.mset('a', '1', 'b', '2')).toBe('OK');
    expect(await r.ttl('a')).toBe(-1);
  });
});

describe('APPEND STRLEN GETRANGE SETRANGE', () => {
  it('APPEND creates or extends and keeps the expiry', async () => {
    expect(await r.append('k', 'ab')).toBe(2);
    await r.expire('k', 100);
    expect(await r.append('k', 'cd')).toBe(4);
    expect(await r.get('k')).toBe('abcd');
    expect(await r.ttl('k')).toBeGreaterThan(98);
    expect(await r.strlen('k')).toBe(4);
    expect(await r.strlen('missing')).toBe(0);
    putOtherTypes();
    expect(await errorOf(r.append('list', 'x'))).toBe(kWrongType);
    expect(await errorOf(r.strlen('hash'))).toBe(kWrongType);
  });

  it('APPEND past the value limit is refused with the limit text and changes nothing', async () => {
    await r.set('k', Buffer.alloc(kValueMaxBytes - 1, 'a'));
    expect(await errorOf(r.append('k', 'bb'))).toBe(kTooLarge);
    expect(await r.strlen('k')).toBe(kValueMaxBytes - 1);
  });

  it('GETRANGE and SUBSTR: inclusive, negative from the end, clamped', async () => {
    await r.set('k', 'Hello World');
    const range = (start: string, end: string): Promise<unknown> => r.call('GETRANGE', 'k', start, end);
    expect(await range('0', '3')).toBe('Hell');
    expect(await range('0', '-1')).toBe('Hello World');
    expect(await range('-3', '-1')).toBe('rld');
    expect(await range('5', '3')).toBe('');
    expect(await range('-1', '-5')).toBe('');
    expect(await range('0', '10000')).toBe('Hello World');
    expect(await range('-10000', '2')).toBe('Hel');
    expect(await range('0', '-9223372036854775808')).toBe('H');
    expect(await r.call('SUBSTR', 'k', '6', '-1')).toBe('World');
    expect(await r.call('GETRANGE', 'missing', '0', '-1')).toBe('');
    expect(await errorOf(range('a', '1'))).toBe(kNotInteger);
    putOtherTypes();
    expect(await errorOf(r.call('GETRANGE', 'list', '0', '1'))).toBe(kWrongType);
  });

  it('SETRANGE pads with zeros, keeps the expiry, and refuses bad offsets', async () => {
    expect(await r.setrange('k', 5, 'ab')).toBe(7);
    expect(await r.getBuffer('k')).toEqual(Buffer.from([0, 0, 0, 0, 0, 0x61, 0x62]));
    await r.expire('k', 100);
    expect(await r.setrange('k', 0, 'XY')).toBe(7);
    expect(await r.get('k')).toBe('XY\0\0\0ab');
    expect(await r.ttl('k')).toBeGreaterThan(98);
    expect(await r.setrange('k', 1, '')).toBe(7);
    expect(await r.setrange('missing', 100, '')).toBe(0);
    expect(await r.exists('missing')).toBe(0);
    expect(await errorOf(r.setrange('k', -1, 'x'))).toBe('ERR offset is out of range');
    expect(await errorOf(r.setrange('k', kValueMaxBytes, 'x'))).toBe(kTooLarge);
    expect(await errorOf(r.call('SETRANGE', 'k', '9223372036854775807', 'x'))).toBe(kTooLarge);
    putOtherTypes();
    expect(await errorOf(r.setrange('list', 0, 'x'))).toBe(kWrongType);
  });
});

describe('INCR family and INCRBYFLOAT', () => {
  it('INCR keeps the expiry and refuses non-integers and other types', async () => {
    await r.set('n', '10', 'EX', 100);
    expect(await r.incrby('n', 5)).toBe(15);
    expect(await r.ttl('n')).toBeGreaterThan(98);
    await r.set('s', ' 1');
    expect(await errorOf(r.incr('s'))).toBe(kNotInteger);
    await r.set('big', 'x'.repeat(10_000));
    expect(await errorOf(r.incr('big'))).toBe(kNotInteger);
    putOtherTypes();
    expect(await errorOf(r.incr('list'))).toBe(kWrongType);
    expect(await errorOf(r.incrbyfloat('hash', 1))).toBe(kWrongType);
  });

  it('INCR reads counters as Redis does on both sides of the 15-digit fast path', async () => {
    // Up to 15 digits the value is added as a double; past that, as a 64-bit integer.
    await r.set('c', '999999999999999');
    expect(await r.incr('c')).toBe(1_000_000_000_000_000);
    expect(await r.get('c')).toBe('1000000000000000');
    expect(await r.call('INCR', 'c')).toBe(1_000_000_000_000_001);
    await r.set('c', '-999999999999999');
    expect(await r.decr('c')).toBe(-1_000_000_000_000_000);
    await r.set('c', '9223372036854775806');
    // ioredis reads integer replies as doubles: the stored text is the exact check.
    await r.call('INCRBY', 'c', '1');
    expect(await r.get('c')).toBe('9223372036854775807');
    expect(await errorOf(r.incr('c'))).toBe('ERR increment or decrement would overflow');
    // A delta too big for the fast path on a small value still adds exactly.
    await r.set('c', '5');
    await r.call('INCRBY', 'c', '9007199254740993');
    expect(await r.get('c')).toBe('9007199254740998');
    // string2ll's rules: no leading zeros, no "-0", no sign alone, no empty value, no '+'.
    for (const bad of ['007', '-0', '-', '', '+5', '1e3', '12 ']) {
      await r.set('c', bad);
      expect(await errorOf(r.incr('c')), JSON.stringify(bad)).toBe(kNotInteger);
      expect(await r.get('c')).toBe(bad);
    }
    await r.set('c', '0');
    expect(await r.decrby('c', 3)).toBe(-3);
    expect(await r.get('c')).toBe('-3');
  });

  it('INCRBY stores the exact decimal text at every magnitude of the fast path (seeded)', async () => {
    // Values of 1..15 digits, both signs, deltas up to 2^52: the stored text is written digit
    // by digit, and must equal BigInt arithmetic's, around every power of ten included.
    let seed = 20261201;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pipeline = r.pipeline();
    const expected: string[] = [];
    for (let i = 0; i < 600; i++) {
      const digits = 1 + (i % 15);
      const power = 10n ** BigInt(digits - 1);
      const edge = i % 4 === 0 ? power * 10n - 1n : power + BigInt(Math.floor(random() * Number(power)));
      const start = (i % 3 === 0 ? -1n : 1n) * (digits === 1 && i % 3 === 0 ? 1n : edge);
      const delta = BigInt(Math.floor(random() * 2 ** 52)) * (i % 5 === 0 ? -1n : 1n) + (i % 7 === 0 ? 1n : 0n);
      pipeline.set(`n${i}`, start.toString()).incrby(`n${i}`, delta.toString()).get(`n${i}`);
      expected.push((start + delta).toString());
    }
    for (let k = 1; k <= 15; k++) {
      // Landing exactly on a power of ten, from below and (negative) from above.
      for (const [start, delta] of [[10n ** BigInt(k) - 1n, 1n], [1n - 10n ** BigInt(k), -1n], [10n ** BigInt(k) - 7n, 6n]] as const) {
        pipeline.set(`p${k}:${delta}`, start.toString()).incrby(`p${k}:${delta}`, delta.toString()).get(`p${k}:${delta}`);
        expected.push((start + delta).toString());
      }
    }
    const replies = (await pipeline.exec()) ?? [];
    const stored = replies.filter((_, index) => index % 3 === 2).map(([error, value]) => (error === null ? value : String(error)));
    expect(stored).toEqual(expected);
  });

  it("INCRBYFLOAT computes as Redis's long double and prints 17 fractional digits, trimmed", async () => {
    expect(await r.incrbyfloat('f', '10.5')).toBe('10.5');
    expect(await r.incrbyfloat('f', '0.1')).toBe('10.6');
    expect(await r.incrbyfloat('f', '-10.6')).toBe('0');
    await r.set('g', '5.0e3');
    expect(await r.incrbyfloat('g', '2.0e2')).toBe('5200');
    await r.set('h', '17179869184');
    expect(await r.incrbyfloat('h', '1.5')).toBe('17179869185.5');
    expect(await r.incrbyfloat('i', '0x1p3')).toBe('8');
    expect(await r.incrbyfloat('j', '1e-18')).toBe('0');
    expect(await r.incrbyfloat('k', '1.1')).toBe('1.1');
    expect(await r.incrbyfloat('k', '2.2')).toBe('3.3');
    // 1/41 as Tcl prints it, then its negation: Redis's rounding leaves exactly 0, never "-0".
    expect(await r.incrbyfloat('z', '0.024390243902439025')).toBe('0.02439024390243902');
    expect(await r.incrbyfloat('z', '-0.024390243902439025')).toBe('0');
    expect(await r.incrbyfloat('m', '-1e-18')).toBe('0');
  });

  it('INCRBYFLOAT keeps the expiry', async () => {
    await r.set('f', '1', 'EX', 100);
    expect(await r.incrbyfloat('f', '0.5')).toBe('1.5');
    expect(await r.ttl('f')).toBeGreaterThan(98);
  });

  it("INCRBYFLOAT's errors: not a valid float, would produce NaN or Infinity", async () => {
    for (const bad of [' 1', '1 ', '', 'nan', '1e', 'abc', '1e99999']) {
      expect(await errorOf(r.incrbyfloat('f', bad))).toBe(kNotFloat);
    }
    await r.set('s', '1');
    await r.setrange('s', 2, '2');
    expect(await errorOf(r.incrbyfloat('s', '1'))).toBe(kNotFloat);
    expect(await errorOf(r.incrbyfloat('f', '+inf'))).toBe('ERR increment would produce NaN or Infinity');
    await r.set('max', '1.18973149535723176502e+4932');
    expect(await errorOf(r.incrbyfloat('max', '1.18973149535723176502e+4932'))).toBe('ERR increment would produce NaN or Infinity');
    expect(await r.exists('f')).toBe(0);
  });
});

describe('LCS', () => {
  beforeEach(async () => {
    await r.mset('a', 'ohmytext', 'b', 'mynewtext');
  });

  it('the subsequence, LEN, and IDX with MINMATCHLEN and WITHMATCHLEN', async () => {
    expect(await r.call('LCS', 'a', 'b')).toBe('mytext');
    expect(await r.call('LCS', 'a', 'b', 'LEN')).toBe(6);
    expect(await r.call('LCS', 'a', 'b', 'IDX')).toEqual(['matches', [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], 'len', 6]);
    expect(await r.call('LCS', 'a', 'b', 'IDX', 'MINMATCHLEN', '4', 'WITHMATCHLEN')).toEqual(['matches', [[[4, 7], [5, 8], 4]], 'len', 6]);
    expect(await r.call('LCS', 'a', 'missing')).toBe('');
  });

  it("LCS's errors", async () => {
    expect(await errorOf(r.call('LCS', 'a', 'b', 'LEN', 'IDX'))).toBe('ERR If you want both the length and indexes, please just use IDX.');
    expect(await errorOf(r.call('LCS', 'a', 'b', 'MINMATCHLEN'))).toBe(kSyntax);
    putOtherTypes();
    expect(await errorOf(r.call('LCS', 'a', 'list'))).toBe('ERR The specified keys must contain string values');
    await r.set('big', Buffer.alloc(1024, 'x'));
    expect(await errorOf(r.call('LCS', 'big', 'big'))).toBe('ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len');
  });
});

describe('RESP3, COMMAND INFO and WATCH', () => {
  it('RESP3 answers null for a missing value and a map for LCS IDX', async () => {
    const raw = await RawClient.connect(server.respPort as number);
    try {
      expect((await raw.call('HELLO', '3')).t).toBe('%');
      expect(show(await raw.call('GETEX', 'missing'))).toBe('_');
      expect(show(await raw.call('SET', 'k', 'v', 'NX', 'GET'))).toBe('_');
      await raw.call('MSET', 'a', 'ohmytext', 'b', 'mynewtext');
      expect(show(await raw.call('LCS', 'a', 'b', 'IDX', 'MINMATCHLEN', '4'))).toBe(
        `%{$${Buffer.from('matches').toString('hex')}:[[[:4,:7],[:5,:8]]],$${Buffer.from('len').toString('hex')}::6}`,
      );
      expect(show(await raw.call('INCRBYFLOAT', 'f', '1.5'))).toBe(`$${Buffer.from('1.5').toString('hex')}`);
    } finally {
      raw.destroy();
    }
  });

  it("COMMAND INFO has Redis's arity, flags and key positions", async () => {
    const info = (await r.call('COMMAND', 'INFO', 'getex', 'msetnx', 'lcs', 'incrbyfloat', 'setrange')) as unknown[][];
    expect(info.map((entry) => entry.slice(0, 6))).toEqual([
      ['getex', -2, ['write', 'fast'], 1, 1, 1],
      ['msetnx', -3, ['write', 'denyoom'], 1, -1, 2],
      ['lcs', -3, ['readonly'], 1, 2, 1],
      ['incrbyfloat', 3, ['write', 'denyoom', 'fast'], 1, 1, 1],
      ['setrange', 4, ['write', 'denyoom'], 1, 1, 1],
    ]);
    expect(await r.call('COMMAND', 'GETKEYS', 'MSETNX', 'a', '1', 'b', '2')).toEqual(['a', 'b']);
  });

  it('a WATCHed key changed by SETRANGE or INCRBYFLOAT aborts the transaction', async () => {
    const other = ioredis(server.respPort as number);
    await other.connect();
    try {
      for (const change of [() => other.setrange('w', 0, 'x'), () => other.incrbyfloat('w', '1'), () => other.call('GETEX', 'w', 'EX', '100')]) {
        await r.set('w', '1');
        await r.watch('w');
        await change();
        expect(await r.multi().get('w').exec()).toBeNull();
      }
    } finally {
      other.disconnect();
    }
  });
});
