/**
 * Hashes written over RESP survive a save and a restart of a real frostkv process (the CLI as
 * a child process on a real data directory): small (inline) hashes, large ones (their own
 * collection table), a field past 3 KiB, a hash's TTL, and a hash emptied by HDEL staying gone.
 */

import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, spawnCli, type ChildServer } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';

const kStartTimeoutMs = 30_000;
/** Past the 128 fields of a small hash. */
const kLargeFieldCount = 2_000;
const kBigFieldBytes = 5 * 1024;

const children: ChildServer[] = [];
const clients: Redis[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const child of children.splice(0)) {
    if (child.proc.exitCode === null && child.proc.signalCode === null) {
      child.proc.kill('SIGKILL');
      await child.exited;
    }
  }
});

async function start(dataDir: string): Promise<Redis> {
  const respPort = await freePort();
  const child = spawnCli(['--data-dir', dataDir, '--port', String(await freePort()), '--resp-port', String(respPort), '--noart']);
  children.push(child);
  await child.waitFor(/ready to accept connections/, kStartTimeoutMs);
  const r = new Redis({ host: '127.0.0.1', port: respPort, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  clients.push(r);
  await r.connect();
  return r;
}

async function stopGracefully(): Promise<void> {
  for (const c of clients.splice(0)) c.disconnect();
  const child = children.pop() as ChildServer;
  child.proc.kill('SIGTERM');
  expect((await child.exited).code).toBe(0);
}

describe('hashes across a save and a restart', () => {
  it('small, large and big-field hashes, their TTLs and deletions come back as they were', async () => {
    const dataDir = tempDir();
    let r = await start(dataDir);
    const large: string[] = [];
    for (let i = 0; i < kLargeFieldCount; i++) large.push(`field:${i}`, `value:${i}`);
    const bigField = 'F'.repeat(kBigFieldBytes);
    expect(await r.hset('small', 'a', '1', 'b', '2')).toBe(2);
    expect(await r.hset('large', ...large)).toBe(kLargeFieldCount);
    expect(await r.hset('bigfield', bigField, 'x', 'y', 'z')).toBe(2);
    expect(await r.call('OBJECT', 'ENCODING', 'large')).toBe('hashtable');
    expect(await r.call('OBJECT', 'ENCODING', 'bigfield')).toBe('hashtable');
    expect(await r.expire('large', 100_000)).toBe(1);
    expect(await r.save()).toBe('OK');
    // Changes after the SAVE reach the disk through the final save at SIGTERM.
    expect(await r.hincrby('small', 'n', 41)).toBe(41);
    expect(await r.hdel('large', 'field:0', 'field:1')).toBe(2);
    expect(await r.hset('gone', 'only', 'one')).toBe(1);
    expect(await r.hdel('gone', 'only')).toBe(1);
    await stopGracefully();

    r = await start(dataDir);
    expect(await r.hgetall('small')).toEqual({ a: '1', b: '2', n: '41' });
    expect(await r.hlen('large')).toBe(kLargeFieldCount - 2);
    expect(await r.hget('large', 'field:1234')).toBe('value:1234');
    expect(await r.hexists('large', 'field:0')).toBe(0);
    expect(await r.call('OBJECT', 'ENCODING', 'large')).toBe('hashtable');
    const ttl = await r.ttl('large');
    expect(ttl).toBeGreaterThan(90_000);
    expect(ttl).toBeLessThanOrEqual(100_000);
    expect(await r.ttl('small')).toBe(-1);
    expect(await r.hget('bigfield', bigField)).toBe('x');
    expect(await r.hget('bigfield', 'y')).toBe('z');
    expect(await r.exists('gone')).toBe(0);
    // The reloaded large hash takes writes and scans like a fresh one.
    expect(await r.hset('large', 'field:0', 'back')).toBe(1);
    let cursor = '0';
    let seen = 0;
    do {
      const [next, items] = (await r.hscan('large', cursor, 'COUNT', 200)) as [string, string[]];
      seen += items.length / 2;
      cursor = next;
    } while (cursor !== '0');
    expect(seen).toBe(kLargeFieldCount - 1);
  }, 120_000);
});
