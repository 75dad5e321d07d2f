/**
 * What a Node app does with Redis, unchanged against frostkv: node-redis 6 with its defaults
 * (RESP3) as a session store with expiry, ioredis as a cache with TTLs and pipelines, hashes
 * for profiles, and an optimistic WATCH/MULTI counter under concurrent clients that must not
 * lose an increment.
 */

import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInProcess, type InProcessServer } from '../../support/server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a Node app on frostkv', () => {
  let server: InProcessServer;
  let port: number;

  beforeAll(async () => {
    server = await startInProcess({}, { resp: true });
    port = server.respPort as number;
  });

  afterAll(async () => {
    await server.stop();
  });

  it('keeps sessions with node-redis defaults (RESP3): set with EX, touch, expire', async () => {
    const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false } });
    client.on('error', () => undefined);
    await client.connect();
    try {
      const session = JSON.stringify({ user: 'ada', cart: [1, 2] });
      expect(await client.set('sess:1', session, { EX: 60 })).toBe('OK');
      expect(await client.get('sess:1')).toBe(session);
      expect(await client.ttl('sess:1')).toBeGreaterThan(58);
      expect(await client.pExpire('sess:1', 150)).toBe(1); // "touch" with a short lifetime
      expect(await client.set('sess:2', 'x', { PX: 100, NX: true })).toBe('OK');
      expect(await client.set('sess:2', 'y', { PX: 100, NX: true })).toBeNull();
      await sleep(250);
      expect(await client.get('sess:1')).toBeNull();
      expect(await client.exists(['sess:1', 'sess:2'])).toBe(0);
      const hello = (await client.sendCommand(['HELLO'])) as Record<string, unknown> | unknown[];
      expect(JSON.stringify(hello)).toContain('proto');
    } finally {
      await client.quit();
    }
  });

  it('caches with TTLs through ioredis pipelines; expired entries are gone for reads and scans', async () => {
    const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 });
    await redis.connect();
    try {
      const pipe = redis.pipeline();
      for (let i = 0; i < 200; i++) pipe.set(`cache:${i}`, `v${i}`, 'PX', i % 2 === 0 ? 100 : 60_000);
      const results = await pipe.exec();
      expect(results?.every(([error, reply]) => error === null && reply === 'OK')).toBe(true);
      await sleep(250);
      const seen: string[] = [];
      for await (const keys of redis.scanStream({ match: 'cache:*', count: 50 })) seen.push(...(keys as string[]));
      expect(new Set(seen).size).toBe(100);
      expect(seen.every((key) => Number(key.split(':')[1]) % 2 === 1)).toBe(true);
      expect(await redis.mget('cache:0', 'cache:1')).toEqual([null, 'v1']);
      // Rate limiting: INCR + EXPIRE NX in one transaction.
      const replies = await redis.multi().incr('rate:ada').expire('rate:ada', 60, 'NX').exec();
      expect(replies).toEqual([[null, 1], [null, 1]]);
    } finally {
      redis.disconnect();
    }
  });

  it('stores profiles in hashes', async () => {
    const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false } });
    client.on('error', () => undefined);
    await client.connect();
    try {
      expect(await client.hSet('user:1', { name: 'Ada', lang: 'en', visits: '0' })).toBe(3);
      expect(await client.hIncrBy('user:1', 'visits', 2)).toBe(2);
      expect(await client.hGetAll('user:1')).toEqual({ name: 'Ada', lang: 'en', visits: '2' });
      expect(await client.type('user:1')).toBe('hash');
      await expect(client.get('user:1')).rejects.toThrow(/WRONGTYPE/);
    } finally {
      await client.quit();
    }
  });

  it('an optimistic WATCH/MULTI counter loses no increment under concurrent clients', async () => {
    const clients = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0 });
        await redis.connect();
        return redis;
      }),
    );
    try {
      await clients[0]!.set('counter', '0');
      let conflicts = 0;
      const incrementsEach = 25;
      await Promise.all(
        clients.map(async (redis) => {
          for (let done = 0; done < incrementsEach; ) {
            await redis.watch('counter');
            const value = Number(await redis.get('counter'));
            await sleep(Math.random() * 2);
            const result = await redis.multi().set('counter', String(value + 1)).exec();
            if (result === null) conflicts++;
            else done++;
          }
        }),
      );
      expect(await clients[0]!.get('counter')).toBe(String(clients.length * incrementsEach));
      expect(conflicts).toBeGreaterThan(0);
    } finally {
      for (const redis of clients) redis.disconnect();
    }
  });
});
