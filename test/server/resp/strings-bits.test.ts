/**
 * The RESP bitmap commands against a real frostkv RESP listener (ioredis over a socket):
 * SETBIT GETBIT BITCOUNT BITPOS BITOP with Redis 7.0.15's texts, ranges (BYTE and BIT), the
 * expiry rules, WRONGTYPE, and a seeded comparison with a bit-by-bit model of the same value.
 */

import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeList } from '../../../src/engine/list.js';
import { kNoExpiry, ValueType } from '../../../src/engine/value.js';
import { startInProcess, type InProcessServer } from '../../support/server.js';
import { withSeed } from '../../support/random.js';
import { errorOf } from './client-helpers.js';

const kWrongType = 'WRONGTYPE Operation against a key holding the wrong kind of value';
const kBitOffset = 'ERR bit offset is not an integer or out of range';
const kBitValue = 'ERR bit is not an integer or out of range';
const kValueMaxBytes = 1024 * 1024;
const kFuzzRounds = 300;

let server: InProcessServer;
let r: Redis;

function putList(key: string): void {
  const t = server.server.db.engine.table('default:default');
  const k = Buffer.from(key);
  const v = encodeList('binstr', [Buffer.from('a')]);
  t.writeRange('upsert', k, 0, k.length, v, 0, v.length, kNoExpiry, ValueType.list);
}

beforeAll(async () => {
  server = await startInProcess({ limits: { valueMaxBytes: kValueMaxBytes } }, { resp: true });
  r = new Redis({ host: '127.0.0.1', port: server.respPort as number, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  await r.connect();
});

afterAll(async () => {
  r.disconnect();
  await server.stop();
});

beforeEach(async () => {
  await r.flushall();
});

describe('SETBIT and GETBIT', () => {
  it('bit 0 is the top bit of byte 0; the string grows with zeros; the old bit is answered', async () => {
    expect(await r.setbit('k', 1, 1)).toBe(0);
    expect(await r.getBuffer('k')).toEqual(Buffer.from([0x40]));
    expect(await r.setbit('k', 1, 1)).toBe(1);
    expect(await r.setbit('k', 17, 1)).toBe(0);
    expect(await r.getBuffer('k')).toEqual(Buffer.from([0x40, 0x00, 0x40]));
    expect(await r.setbit('k', 1, 0)).toBe(1);
    expect(await r.getbit('k', 17)).toBe(1);
    expect(await r.getbit('k', 1)).toBe(0);
    expect(await r.getbit('k', 1_000_000)).toBe(0);
    expect(await r.getbit('missing', 0)).toBe(0);
    await r.set('digit', '1');
    expect(await r.getbit('digit', 2)).toBe(1);
    expect(await r.getbit('digit', 7)).toBe(1);
  });

  it('SETBIT keeps the expiry', async () => {
    await r.set('k', 'a', 'EX', 100);
    await r.setbit('k', 7, 0);
    expect(await r.get('k')).toBe('`');
    expect(await r.ttl('k')).toBeGreaterThan(98);
  });

  it("refuses bad offsets and values with Redis's texts, and a string past the value limit", async () => {
    expect(await errorOf(r.setbit('k', -1, 1))).toBe(kBitOffset);
    expect(await errorOf(r.setbit('k', 4 * 1024 * 1024 * 1024, 1))).toBe(kBitOffset);
    expect(await errorOf(r.call('SETBIT', 'k', 'x', '1'))).toBe(kBitOffset);
    expect(await errorOf(r.getbit('k', -1))).toBe(kBitOffset);
    for (const bad of ['2', '-1', 'a']) expect(await errorOf(r.call('SETBIT', 'k', '0', bad))).toBe(kBitValue);
    expect(await errorOf(r.setbit('k', kValueMaxBytes * 8, 1))).toBe('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
    expect(await r.exists('k')).toBe(0);
    putList('list');
    expect(await errorOf(r.setbit('list', 0, 1))).toBe(kWrongType);
    expect(await errorOf(r.getbit('list', 0))).toBe(kWrongType);
  });
});

describe('BITCOUNT and BITPOS', () => {
  it('BITCOUNT over the whole value and over BYTE and BIT ranges', async () => {
    await r.set('k', 'foobar');
    expect(await r.bitcount('k')).toBe(26);
    expect(await r.bitcount('k', 0, 0)).toBe(4);
    expect(await r.bitcount('k', 1, 1)).toBe(6);
    expect(await r.call('BITCOUNT', 'k', '1', '1', 'BYTE')).toBe(6);
    expect(await r.call('BITCOUNT', 'k', '5', '30', 'BIT')).toBe(17);
    expect(await r.bitcount('k', -2, -1)).toBe(7);
    expect(await r.bitcount('k', -1, -2)).toBe(0);
    expect(await r.bitcount('missing', 0, 1)).toBe(0);
    expect(await errorOf(r.call('BITCOUNT', 'k', '0'))).toBe('ERR syntax error');
    expect(await errorOf(r.call('BITCOUNT', 'k', '0', '1', 'WORD'))).toBe('ERR syntax error');
    expect(await errorOf(r.call('BITCOUNT', 'k', 'a', '1'))).toBe('ERR value is not an integer or out of range');
  });

  it('BITPOS finds set and clear bits; a clear bit past the string counts without an end', async () => {
    await r.set('k', Buffer.from([0xff, 0xf0, 0x00]));
    expect(await r.bitpos('k', 0)).toBe(12);
    expect(await r.bitpos('k', 1, 2)).toBe(-1);
    expect(await r.call('BITPOS', 'k', '1', '7', '15', 'BIT')).toBe(7);
    expect(await r.call('BITPOS', 'k', '0', '0', '11', 'BIT')).toBe(-1);
    await r.set('ones', Buffer.from([0xff, 0xff]));
    expect(await r.bitpos('ones', 0)).toBe(16);
    expect(await r.bitpos('ones', 0, 0, -1)).toBe(-1);
    expect(await r.bitpos('missing', 0)).toBe(0);
    expect(await r.bitpos('missing', 1)).toBe(-1);
    expect(await errorOf(r.call('BITPOS', 'k', '2'))).toBe('ERR The bit argument must be 1 or 0.');
    expect(await errorOf(r.call('BITPOS', 'k', '1', '0', '1', 'WORD'))).toBe('ERR syntax error');
    putList('list');
    expect(await errorOf(r.bitpos('list', 1))).toBe(kWrongType);
    expect(await errorOf(r.bitcount('list'))).toBe(kWrongType);
  });

  it('agree with a bit-by-bit model on random values and ranges (seeded)', async () => {
    await withSeed(async (rng) => {
      for (let round = 0; round < kFuzzRounds; round++) {
        const value = rng.bytes(1 + rng.int(12));
        await r.set('f', value);
        const bits = [...value].flatMap((byte) => [7, 6, 5, 4, 3, 2, 1, 0].map((shift) => (byte >> shift) & 1));
        const start = rng.int(bits.length);
        const end = start + rng.int(bits.length - start);
        const wanted = rng.int(2);
        const expectedCount = bits.slice(start, end + 1).filter((bit) => bit === 1).length;
        expect(await r.call('BITCOUNT', 'f', String(start), String(end), 'BIT')).toBe(expectedCount);
        const found = bits.slice(start, end + 1).indexOf(wanted);
        expect(await r.call('BITPOS', 'f', String(wanted), String(start), String(end), 'BIT')).toBe(found < 0 ? -1 : start + found);
      }
    });
  });
});

describe('BITOP', () => {
  it('AND OR XOR NOT over sources of different lengths (missing ones are empty)', async () => {
    await r.set('a', Buffer.from([0xf0, 0x0f]));
    await r.set('b', Buffer.from([0xff]));
    expect(await r.bitop('AND', 'd', 'a', 'b')).toBe(2);
    expect(await r.getBuffer('d')).toEqual(Buffer.from([0xf0, 0x00]));
    expect(await r.bitop('OR', 'd', 'a', 'b', 'missing')).toBe(2);
    expect(await r.getBuffer('d')).toEqual(Buffer.from([0xff, 0x0f]));
    expect(await r.bitop('XOR', 'd', 'a', 'b')).toBe(2);
    expect(await r.getBuffer('d')).toEqual(Buffer.from([0x0f, 0x0f]));
    expect(await r.bitop('NOT', 'd', 'a')).toBe(2);
    expect(await r.getBuffer('d')).toEqual(Buffer.from([0x0f, 0xf0]));
    expect(await r.bitop('AND', 'a', 'a', 'b')).toBe(2);
    expect(await r.getBuffer('a')).toEqual(Buffer.from([0xf0, 0x00]));
  });

  it('replaces the destination and drops its expiry; an empty result deletes it', async () => {
    await r.set('d', 'old', 'EX', 100);
    await r.set('a', 'x');
    expect(await r.bitop('OR', 'd', 'a')).toBe(1);
    expect(await r.ttl('d')).toBe(-1);
    expect(await r.bitop('OR', 'd', 'missing1', 'missing2')).toBe(0);
    expect(await r.exists('d')).toBe(0);
  });

  it("BITOP's errors, and key specs for the destination and the sources", async () => {
    expect(await errorOf(r.call('BITOP', 'NAND', 'd', 'a'))).toBe('ERR syntax error');
    expect(await errorOf(r.call('BITOP', 'NOT', 'd', 'a', 'b'))).toBe('ERR BITOP NOT must be called with a single source key.');
    putList('list');
    expect(await errorOf(r.bitop('AND', 'd', 'a', 'list'))).toBe(kWrongType);
    expect(await r.call('COMMAND', 'GETKEYS', 'BITOP', 'AND', 'd', 'a', 'b')).toEqual(['d', 'a', 'b']);
  });
});

describe('BITFIELD and BITFIELD_RO', () => {
  it('GET, SET and INCRBY of signed and unsigned fields, with #n offsets', async () => {
    expect(await r.call('BITFIELD', 'k', 'SET', 'u8', '0', '255', 'GET', 'u8', '0', 'GET', 'i8', '0')).toEqual([0, 255, -1]);
    expect(await r.call('BITFIELD', 'k', 'SET', 'i16', '#1', '-2', 'GET', 'u4', '16')).toEqual([0, 15]);
    expect(await r.getBuffer('k')).toEqual(Buffer.from([0xff, 0x00, 0xff, 0xfe]));
    expect(await r.call('BITFIELD', 'k', 'INCRBY', 'u2', '100', '1', 'GET', 'u2', '100')).toEqual([1, 1]);
    expect(await r.call('BITFIELD', 'k', 'GET', 'i64', '0')).toEqual([-71776127651151872]);
    expect(await r.call('BITFIELD', 'missing', 'GET', 'u8', '0')).toEqual([0]);
    expect(await r.exists('missing')).toBe(0);
    expect(await r.call('BITFIELD_RO', 'k', 'GET', 'u8', '24')).toEqual([254]);
    expect(await r.call('BITFIELD', 'k')).toEqual([]);
  });

  it('OVERFLOW WRAP, SAT and FAIL apply to the operations after them', async () => {
    expect(await r.call('BITFIELD', 'k', 'SET', 'u8', '0', '250', 'INCRBY', 'u8', '0', '10')).toEqual([0, 4]);
    expect(await r.call('BITFIELD', 'k', 'OVERFLOW', 'SAT', 'INCRBY', 'u8', '0', '300', 'INCRBY', 'i8', '8', '-200')).toEqual([255, -128]);
    expect(await r.call('BITFIELD', 'k', 'OVERFLOW', 'FAIL', 'INCRBY', 'u8', '0', '1', 'OVERFLOW', 'WRAP', 'INCRBY', 'u8', '0', '1')).toEqual([null, 0]);
    expect(await r.call('BITFIELD', 'k', 'SET', 'u8', '0', '-1', 'GET', 'u8', '0')).toEqual([0, 255]);
    expect(await r.call('BITFIELD', 'k', 'SET', 'i8', '0', '200', 'GET', 'i8', '0')).toEqual([-1, -56]);
    expect(await r.call('BITFIELD', 'k', 'OVERFLOW', 'SAT', 'SET', 'u8', '0', '-1')).toEqual([200]);
    expect(await r.call('BITFIELD', 'k', 'GET', 'u8', '0')).toEqual([255]);
    // A failed write still creates (pads) the key, as Redis does.
    expect(await r.call('BITFIELD', 'new', 'OVERFLOW', 'FAIL', 'SET', 'u2', '0', '5')).toEqual([null]);
    expect(await r.getBuffer('new')).toEqual(Buffer.from([0]));
  });

  it('keeps the expiry, and checks every operation before running any', async () => {
    await r.set('k', 'a', 'EX', 100);
    await r.call('BITFIELD', 'k', 'SET', 'u8', '0', '98');
    expect(await r.get('k')).toBe('b');
    expect(await r.ttl('k')).toBeGreaterThan(98);
    const kType = 'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.';
    for (const type of ['u64', 'i65', 'x8', 'u0', 'i']) expect(await errorOf(r.call('BITFIELD', 'k', 'SET', 'u8', '0', '1', 'GET', type, '0'))).toBe(kType);
    expect(await errorOf(r.call('BITFIELD', 'k', 'SET', 'u8', '0', '1', 'OVERFLOW', 'NONE'))).toBe('ERR Invalid OVERFLOW type specified');
    expect(await errorOf(r.call('BITFIELD', 'k', 'SET', 'u8', '0', '1', 'GET', 'u8'))).toBe('ERR syntax error');
    expect(await errorOf(r.call('BITFIELD', 'k', 'SET', 'u8', '-1', '1'))).toBe(kBitOffset);
    expect(await errorOf(r.call('BITFIELD', 'k', 'SET', 'u8', '0', 'x'))).toBe('ERR value is not an integer or out of range');
    expect(await errorOf(r.call('BITFIELD_RO', 'k', 'SET', 'u8', '0', '1'))).toBe('ERR BITFIELD_RO only supports the GET subcommand');
    expect(await r.get('k')).toBe('b');
    putList('list');
    expect(await errorOf(r.call('BITFIELD', 'list', 'GET', 'u8', '0'))).toBe(kWrongType);
    expect(await errorOf(r.call('BITFIELD', 'list', 'SET', 'u8', '0', '1'))).toBe(kWrongType);
  });
});
