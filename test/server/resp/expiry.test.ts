/**
 * The RESP expiry family against a real frostkv RESP listener, with ioredis, node-redis and a
 * raw RESP2/RESP3 client: EXPIRE PEXPIRE EXPIREAT PEXPIREAT (NX XX GT LT), TTL PTTL EXPIRETIME
 * PEXPIRETIME PERSIST, Redis 7.0's texts and reply shapes, keys of every type, and keys that
 * really disappear when their time comes (short PX times, polled, never long sleeps).
 */

import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { encodeList } from '../../../src/engine/list.js';
import { encodeSmall } from '../../../src/engine/small-hash.js';
import { kNoExpiry, ValueType } from '../../../src/engine/value.js';
import { startInProcess, type InProcessServer } from '../../support/server.js';
import { RawClient, show } from './raw.js';
import { errorOf, ioredis } from './client-helpers.js';

/** 2100-01-01T00:00:00Z in seconds: a fixed time far enough ahead for every test. */
const kFutureSeconds = 4_102_444_800;
/** How long a test waits for a key with a short TTL to go (it should take ~the TTL). */
const kGoneDeadlineMs = 3_000;
const kPollMs = 10;

let server: InProcessServer;
let r: Redis;

/** Poll until `key` no longer exists; the time it took in ms. */
async function waitGone(client: Redis, key: string): Promise<number> {
  const started = Date.now();
  while ((await client.exists(key)) === 1) {
    if (Date.now() - started > kGoneDeadlineMs) throw new Error(`${key} still exists after ${kGoneDeadlineMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, kPollMs));
  }
  return Date.now() - started;
}

/** Write a record of another type straight through the engine (RESP has no LPUSH/HSET of its own yet). */
function putTyped(key: string, type: number, value: Buffer): void {
  const t = server.server.db.engine.table('default:default');
  const k = Buffer.from(key);
  t.writeRange('upsert', k, 0, k.length, value, 0, value.length, kNoExpiry, type);
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

describe('setting an expiry', () => {
  it('PEXPIRE with a short time: the key answers a TTL, then is gone once it passes (GET, EXISTS, DBSIZE)', async () => {
    await r.set('short', 'v');
    expect(await r.pexpire('short', 80)).toBe(1);
    const pttl = await r.pttl('short');
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(80);
    expect(await r.ttl('short')).toBeLessThanOrEqual(1);
    const tookMs = await waitGone(r, 'short');
    expect(tookMs).toBeLessThan(kGoneDeadlineMs);
    expect(await r.get('short')).toBeNull();
    expect(await r.ttl('short')).toBe(-2);
    expect(await r.keys('*')).toEqual([]);
  });

  it('EXPIRE and PEXPIRE answer TTL/PTTL from the engine clock; seconds round to the nearest', async () => {
    await r.set('k', 'v');
    expect(await r.expire('k', 100)).toBe(1);
    expect(await r.ttl('k')).toBe(100);
    const pttl = await r.pttl('k');
    expect(pttl).toBeGreaterThan(99_000);
    expect(pttl).toBeLessThanOrEqual(100_000);
    // 1499 ms left rounds to 1 s, 1500 ms to 2 s: Redis's (ms + 500) / 1000.
    expect(await r.pexpire('k', 1_499)).toBe(1);
    expect(await r.ttl('k')).toBe(1);
    expect(await r.pexpire('k', 2_600)).toBe(1);
    expect(await r.ttl('k')).toBe(3);
  });

  it('EXPIREAT / PEXPIREAT set absolute times that EXPIRETIME / PEXPIRETIME answer', async () => {
    await r.set('k', 'v');
    expect(await r.expireat('k', kFutureSeconds)).toBe(1);
    expect(await r.call('EXPIRETIME', 'k')).toBe(kFutureSeconds);
    expect(await r.call('PEXPIRETIME', 'k')).toBe(kFutureSeconds * 1000);
    expect(await r.pexpireat('k', kFutureSeconds * 1000 + 600)).toBe(1);
    expect(await r.call('PEXPIRETIME', 'k')).toBe(kFutureSeconds * 1000 + 600);
    expect(await r.call('EXPIRETIME', 'k')).toBe(kFutureSeconds + 1);
  });

  it('TTL PTTL EXPIRETIME PEXPIRETIME answer -1 without an expiry and -2 for a missing key', async () => {
    await r.set('plain', 'v');
    for (const command of ['TTL', 'PTTL', 'EXPIRETIME', 'PEXPIRETIME']) {
      expect(await r.call(command, 'plain')).toBe(-1);
      expect(await r.call(command, 'missing')).toBe(-2);
    }
  });

  it('a time at or before now deletes the key and answers 1; a missing key answers 0', async () => {
    for (const [command, time] of [['EXPIRE', '-1'], ['PEXPIRE', '0'], ['EXPIREAT', '1'], ['PEXPIREAT', '-9223372036854770000']] as const) {
      await r.set('k', 'v');
      expect(await r.call(command, 'k', time)).toBe(1);
      expect(await r.exists('k')).toBe(0);
      expect(await r.call(command, 'missing', '100')).toBe(0);
    }
    expect(await r.dbsize()).toBe(0);
  });

  it('PERSIST removes an expiry (1) and answers 0 for a key without one or a missing key', async () => {
    await r.set('k', 'v');
    await r.expire('k', 100);
    expect(await r.persist('k')).toBe(1);
    expect(await r.ttl('k')).toBe(-1);
    expect(await r.persist('k')).toBe(0);
    expect(await r.persist('missing')).toBe(0);
    expect(await r.get('k')).toBe('v');
  });

  it('a time past what frostkv records (2^53 - 1 ms) is kept as that latest time, and the key stays', async () => {
    await r.set('k', 'v');
    expect(await r.call('PEXPIREAT', 'k', '9223372036854770000')).toBe(1);
    expect(await r.call('PEXPIRETIME', 'k')).toBe(Number.MAX_SAFE_INTEGER);
    expect(await r.ttl('k')).toBeGreaterThan(0);
    expect(await r.get('k')).toBe('v');
  });

  it('works on keys of every type (expiry never reads the value), and such a key expires too', async () => {
    putTyped('list', ValueType.list, encodeList('binstr', [Buffer.from('a')]));
    putTyped('hash', ValueType.hash, encodeSmall([[Buffer.from('f'), Buffer.from('v')]]));
    expect(await r.expire('list', 100)).toBe(1);
    expect(await r.ttl('list')).toBe(100);
    expect(await r.type('list')).toBe('list');
    expect(await r.pexpire('hash', 50)).toBe(1);
    expect(await r.type('hash')).toBe('hash');
    await waitGone(r, 'hash');
    expect(await r.type('hash')).toBe('none');
  });
});

describe('NX XX GT LT', () => {
  it('NX sets only without an expiry, XX only with one', async () => {
    await r.set('k', 'v');
    expect(await r.call('EXPIRE', 'k', '100', 'XX')).toBe(0);
    expect(await r.ttl('k')).toBe(-1);
    expect(await r.call('EXPIRE', 'k', '100', 'nx')).toBe(1);
    expect(await r.call('EXPIRE', 'k', '200', 'NX')).toBe(0);
    expect(await r.ttl('k')).toBe(100);
    expect(await r.call('EXPIRE', 'k', '200', 'XX')).toBe(1);
    expect(await r.ttl('k')).toBe(200);
  });

  it('GT only raises an existing expiry (no expiry counts as infinite); LT lowers, and sets one when there is none', async () => {
    await r.set('k', 'v');
    expect(await r.call('EXPIRE', 'k', '100', 'GT')).toBe(0);
    expect(await r.ttl('k')).toBe(-1);
    expect(await r.call('EXPIRE', 'k', '100', 'LT')).toBe(1);
    expect(await r.ttl('k')).toBe(100);
    expect(await r.call('EXPIRE', 'k', '50', 'GT')).toBe(0);
    expect(await r.call('EXPIRE', 'k', '200', 'GT')).toBe(1);
    expect(await r.ttl('k')).toBe(200);
    expect(await r.call('EXPIRE', 'k', '300', 'LT')).toBe(0);
    expect(await r.call('PEXPIRE', 'k', '150000', 'LT', 'XX')).toBe(1);
    expect(await r.ttl('k')).toBe(150);
    await r.set('plain', 'v');
    expect(await r.call('EXPIRE', 'plain', '100', 'LT', 'XX')).toBe(0);
    expect(await r.ttl('plain')).toBe(-1);
  });

  it('conflicting and unknown options get Redis texts and change nothing', async () => {
    await r.set('k', 'v');
    expect(await errorOf(r.call('EXPIRE', 'k', '100', 'LT', 'GT'))).toBe('ERR GT and LT options at the same time are not compatible');
    for (const second of ['GT', 'LT', 'XX']) {
      expect(await errorOf(r.call('EXPIRE', 'k', '100', 'NX', second))).toBe('ERR NX and XX, GT or LT options at the same time are not compatible');
    }
    expect(await errorOf(r.call('EXPIRE', 'k', '100', 'Ab'))).toBe('ERR Unsupported option Ab');
    // Options are checked before the time, as in Redis.
    expect(await errorOf(r.call('EXPIRE', 'k', 'soon', 'AB'))).toBe('ERR Unsupported option AB');
    expect(await r.ttl('k')).toBe(-1);
  });
});

describe('argument errors', () => {
  it('a time that is not an integer is refused', async () => {
    await r.set('k', 'v');
    for (const time of ['', '1.5', ' 1', '01', 'x']) {
      expect(await errorOf(r.call('EXPIRE', 'k', time))).toBe('ERR value is not an integer or out of range');
    }
    expect(await r.ttl('k')).toBe(-1);
  });

  it('a time that overflows int64 ms, scaled or added to now, is "invalid expire time in <command>"', async () => {
    await r.set('k', 'v');
    for (const seconds of ['9223370399119966', '9223372036854776', '10000000000000000', '18446744073709561', '-9223372036854776', '-9999999999999999']) {
      expect(await errorOf(r.call('EXPIRE', 'k', seconds))).toBe("ERR invalid expire time in 'expire' command");
    }
    expect(await errorOf(r.call('PEXPIRE', 'k', '9223372036854770000'))).toBe("ERR invalid expire time in 'pexpire' command");
    expect(await errorOf(r.call('EXPIREAT', 'k', '9223372036854776'))).toBe("ERR invalid expire time in 'expireat' command");
    expect(await r.ttl('k')).toBe(-1);
  });

  it('arity errors name the command', async () => {
    expect(await errorOf(r.call('EXPIRE', 'k'))).toBe("ERR wrong number of arguments for 'expire' command");
    expect(await errorOf(r.call('PEXPIRETIME', 'k', 'x'))).toBe("ERR wrong number of arguments for 'pexpiretime' command");
    expect(await errorOf(r.call('PERSIST'))).toBe("ERR wrong number of arguments for 'persist' command");
  });
});

describe('other clients and protocols', () => {
  it('node-redis: expire, pExpireAt, ttl, pTTL, expireTime, persist', async () => {
    const nr = createClient({ socket: { host: '127.0.0.1', port: server.respPort as number, reconnectStrategy: false } });
    await nr.connect();
    try {
      await nr.set('nr', 'v');
      expect(await nr.expire('nr', 100)).toBe(1);
      expect(await nr.ttl('nr')).toBe(100);
      expect(await nr.pExpireAt('nr', kFutureSeconds * 1000)).toBe(1);
      expect(await nr.expireTime('nr')).toBe(kFutureSeconds);
      expect(await nr.pTTL('nr')).toBeGreaterThan(0);
      expect(await nr.persist('nr')).toBe(1);
      expect(await nr.ttl('nr')).toBe(-1);
      expect(await nr.pExpire('nr', 40)).toBe(1);
      const started = Date.now();
      while ((await nr.exists('nr')) === 1) {
        if (Date.now() - started > kGoneDeadlineMs) throw new Error('nr did not expire');
        await new Promise((resolve) => setTimeout(resolve, kPollMs));
      }
    } finally {
      await nr.quit();
    }
  });

  it('RESP3 (HELLO 3) and RESP2 answer the same integers', async () => {
    const raw = await RawClient.connect(server.respPort as number);
    try {
      await raw.call('SET', 'k', 'v');
      expect(show(await raw.call('PEXPIREAT', 'k', String(kFutureSeconds * 1000)))).toBe(':1');
      expect(show(await raw.call('EXPIRETIME', 'k'))).toBe(`:${kFutureSeconds}`);
      expect((await raw.call('HELLO', '3')).t).toBe('%');
      expect(show(await raw.call('PEXPIRETIME', 'k'))).toBe(`:${kFutureSeconds * 1000}`);
      expect(show(await raw.call('TTL', 'missing'))).toBe(':-2');
      expect(show(await raw.call('EXPIRE', 'k', '1', 'NX', 'XX'))).toBe('-ERR NX and XX, GT or LT options at the same time are not compatible');
    } finally {
      raw.socket.destroy();
    }
  });

  it('EXPIRE touches a WATCHed key: the watcher\'s EXEC is aborted', async () => {
    const watcher = ioredis(server.respPort as number);
    await watcher.connect();
    try {
      await r.set('w', 'v');
      await watcher.watch('w');
      expect(await r.expire('w', 100)).toBe(1);
      expect(await watcher.multi().get('w').exec()).toBeNull();
    } finally {
      watcher.disconnect();
    }
  });

  it('COMMAND INFO lists the expiry commands with Redis 7.0 arity, flags and key specs', async () => {
    const [expire] = (await r.call('COMMAND', 'INFO', 'expire')) as unknown[][];
    expect(expire?.slice(0, 6)).toEqual(['expire', -3, ['write', 'fast'], 1, 1, 1]);
    const [ttl] = (await r.call('COMMAND', 'INFO', 'pexpiretime')) as unknown[][];
    expect(ttl?.slice(0, 6)).toEqual(['pexpiretime', 2, ['readonly', 'fast'], 1, 1, 1]);
    const [spec] = (ttl?.[8] ?? []) as unknown[][];
    expect(spec?.[1]).toEqual(['RO', 'access']);
  });
});
