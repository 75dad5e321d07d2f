/**
 * RESP MKSNAP and LSSNAP (src/server/resp/commands/snapshots.ts), the commands the cluster
 * snapshot CLI sends to every shard: with ioredis against real servers, their replies, their
 * error prefixes (the Skyhash MKSNAP refusals, one stable prefix each), MULTI, auth, and the
 * folders they leave on disk.
 */

import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorkerPool } from '../../src/persist/worker-pool.js';
import { verifySave } from '../../src/persist/restore.js';
import { SkyClient } from '../support/skyhash.js';
import { startInProcess, type InProcessServer } from '../support/server.js';
import { errorOf, ioredis } from '../server/resp/client-helpers.js';

let server: InProcessServer;
let r: Redis;

beforeAll(async () => {
  server = await startInProcess({ workers: { threads: 1 } }, { resp: true });
  r = ioredis(server.respPort as number);
  await r.connect();
});

afterAll(async () => {
  r.disconnect();
  await server.stop();
});

describe('RESP MKSNAP', () => {
  it('writes rsnap/<name> and answers +OK once it is on disk; the folder verifies and holds the data', async () => {
    for (let i = 0; i < 500; i++) await r.set(`k${i}`, `v${i}`);
    expect(await r.call('MKSNAP', 'first')).toBe('OK');
    const pool = createWorkerPool(1);
    try {
      const report = await verifySave(pool, join(server.dataDir, 'rsnap', 'first'));
      expect(report.ok).toBe(true);
      expect(report.records).toBe(500);
    } finally {
      await pool.destroy();
    }
    expect(await r.call('MKSNAP', 'release/2')).toBe('OK');
    expect(readdirSync(join(server.dataDir, 'rsnap', 'release'))).toEqual(['2']);
  });

  it('refuses an existing name with SNAPEXISTS and an unsafe one with BADSNAPNAME, creating nothing', async () => {
    await r.call('MKSNAP', 'taken');
    expect(await errorOf(r.call('MKSNAP', 'taken'))).toMatch(/^SNAPEXISTS .*rsnap\/taken already exists/);
    for (const bad of ['../escape', '.hidden', 'a//b', '/abs', 'sp ace', '']) {
      expect(await errorOf(r.call('MKSNAP', bad))).toMatch(/^BADSNAPNAME /);
    }
    expect(await errorOf(r.call('MKSNAP', Buffer.from([0x61, 0xff])))).toMatch(/^BADSNAPNAME /);
    expect(readdirSync(join(server.dataDir, 'rsnap')).sort()).toEqual(['first', 'release', 'taken']);
  });

  it('answers SNAPDISABLED without a name when local snapshots are off, and an arity error past one name', async () => {
    expect(await errorOf(r.call('MKSNAP'))).toMatch(/^SNAPDISABLED local snapshots are not configured/);
    expect(await errorOf(r.call('MKSNAP', 'a', 'b'))).toBe("ERR wrong number of arguments for 'mksnap' command");
  });

  it('answers SNAPBUSY to a second MKSNAP of a name still being written', async () => {
    for (let i = 0; i < 20_000; i++) r.set(`bulk${i}`, 'x'.repeat(100));
    await r.ping();
    const other = ioredis(server.respPort as number);
    await other.connect();
    try {
      const [first, second] = await Promise.allSettled([r.call('MKSNAP', 'racing'), other.call('MKSNAP', 'racing')]);
      expect(first).toEqual({ status: 'fulfilled', value: 'OK' });
      expect(second.status).toBe('rejected');
      expect(((second as PromiseRejectedResult).reason as Error).message).toMatch(/^SNAPBUSY a snapshot named racing is already being written/);
    } finally {
      other.disconnect();
    }
  });

  it('is refused inside MULTI (as SAVE is), and the transaction then aborts', async () => {
    expect(await r.multi().call('MKSNAP', 'in-multi').exec().catch((error: Error) => error.message)).toMatch(/EXECABORT/);
    expect(readdirSync(join(server.dataDir, 'rsnap'))).not.toContain('in-multi');
  });

  it('runs while CLIENT PAUSE WRITE holds the writers (the way to get one instant across shards)', async () => {
    const pauser = ioredis(server.respPort as number);
    await pauser.connect();
    try {
      expect(await pauser.call('CLIENT', 'PAUSE', '10000', 'WRITE')).toBe('OK');
      const started = Date.now();
      expect(await r.call('MKSNAP', 'paused')).toBe('OK');
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await pauser.call('CLIENT', 'UNPAUSE');
      pauser.disconnect();
    }
  });

  it('is an admin command in COMMAND INFO (@admin @dangerous, no_multi)', async () => {
    const [info] = (await r.call('COMMAND', 'INFO', 'mksnap', 'lssnap')) as unknown[][];
    expect(info?.[0]).toBe('mksnap');
    expect(info?.[2]).toEqual(expect.arrayContaining(['admin', 'no_multi']));
    expect(info?.[6]).toEqual(expect.arrayContaining(['@admin', '@dangerous']));
  });
});

describe('RESP MKSNAP when the save fails', () => {
  it('answers SNAPFAILED naming the cause, and the name stays free for a retry', async () => {
    const broken = await startInProcess({ workers: { threads: 1 } }, { resp: true });
    const c = ioredis(broken.respPort as number);
    await c.connect();
    try {
      writeFileSync(join(broken.dataDir, 'rsnap'), 'not a folder');
      expect(await errorOf(c.call('MKSNAP', 'n'))).toMatch(/^SNAPFAILED .*rsnap is a regular file, not a directory \(ENOTDIR\)/);
      rmSync(join(broken.dataDir, 'rsnap'));
      expect(await c.call('MKSNAP', 'n')).toBe('OK');
    } finally {
      c.disconnect();
      await broken.stop();
    }
  });
});

describe('RESP LSSNAP', () => {
  it('lists the names in rsnap holding a complete save, nested names included, skipping folders without a MANIFEST', async () => {
    mkdirSync(join(server.dataDir, 'rsnap', 'half-written'));
    writeFileSync(join(server.dataDir, 'rsnap', 'half-written', 'junk'), 'x');
    const names = (await r.call('LSSNAP')) as string[];
    expect(names).toEqual(['first', 'paused', 'racing', 'release/2', 'taken']);
    expect(await errorOf(r.call('LSSNAP', 'extra'))).toBe("ERR wrong number of arguments for 'lssnap' command");
  });

  it('answers an empty array on a fresh data directory', async () => {
    const fresh = await startInProcess({ workers: { threads: 1 } }, { resp: true });
    const c = ioredis(fresh.respPort as number);
    await c.connect();
    try {
      expect(await c.call('LSSNAP')).toEqual([]);
    } finally {
      c.disconnect();
      await fresh.stop();
    }
  });
});

describe('MKSNAP and LSSNAP with auth on', () => {
  const kOrigin = 'Q7mZp2Lr8XvB4nT6yH1sK9dF3gJ5wC0aE2uR4iOo';

  it('answer NOAUTH before AUTH and work after it', async () => {
    const secured = await startInProcess({ auth: { originKey: kOrigin }, workers: { threads: 1 } }, { resp: true });
    const sky = await SkyClient.connect(secured.port);
    const token = (await sky.run('AUTH', 'CLAIM', kOrigin)).split('\n')[2] as string;
    sky.close();
    // No ready check: ioredis's INFO would be refused before AUTH and close the connection.
    const anonymous = new Redis({ host: '127.0.0.1', port: secured.respPort as number, enableReadyCheck: false, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    await anonymous.connect();
    const root = new Redis({ host: '127.0.0.1', port: secured.respPort as number, password: token, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    await root.connect();
    try {
      expect(await errorOf(anonymous.call('MKSNAP', 'x'))).toBe('NOAUTH Authentication required.');
      expect(await errorOf(anonymous.call('LSSNAP'))).toBe('NOAUTH Authentication required.');
      expect(await root.call('MKSNAP', 'x')).toBe('OK');
      expect(await root.call('LSSNAP')).toEqual(['x']);
    } finally {
      anonymous.disconnect();
      root.disconnect();
      await secured.stop();
    }
  });
});
