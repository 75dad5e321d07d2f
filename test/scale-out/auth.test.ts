/**
 * nutcracker's `redis_auth` in front of frostkv shards that require a password. twemproxy keeps
 * one password per pool: it is what clients must send to the proxy (the proxy checks it itself),
 * and what the proxy sends as `AUTH <password>` on every new shard connection. frostkv's
 * passwords are tokens it generates (AUTH CLAIM), different on every server, so the recipe of
 * docs/scale-out.md is used: claim root on one shard, snapshot it, restore that snapshot into
 * the other shards' data directories (the users travel with every save), and every shard then
 * accepts the same root token.
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SkyClient } from '../support/skyhash.js';
import { freePort, spawnCli, startInProcess, type InProcessServer } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { ketamaContinuum, ketamaServerFor, kNutcrackerNote, kNutcrackerSkip, poolYaml, startNutcracker, type Nutcracker } from '../support/nutcracker.js';
import { RawClient, show } from '../server/resp/raw.js';

const kOrigin = 'Zr4mQ8pL2xV6nB0tH3sK7dF1gJ9wC5aE8uR2iOoY';
const kShardNames = ['shard0', 'shard1', 'shard2'];
const kProxyNoAuth = '-NOAUTH Authentication required';
const kShardNoAuth = '-NOAUTH Authentication required.';

let shards: InProcessServer[] = [];
let proxy: Nutcracker;
let rootToken = '';
const continuum = ketamaContinuum(kShardNames.map((name) => ({ name })));
const hex = (text: string): string => `$${Buffer.from(text).toString('hex')}`;

/** Claim root on a fresh shard over Skyhash and snapshot it as `seed`; returns root's token. */
async function claimAndSnapshot(skyhashPort: number): Promise<string> {
  const sky = await SkyClient.connect(skyhashPort);
  try {
    const token = (await sky.run('AUTH', 'CLAIM', kOrigin)).split('\n')[2] as string;
    expect(await sky.run('MKSNAP', 'seed')).toBe('*1\n!1\n0\n');
    return token;
  } finally {
    sky.close();
  }
}

beforeAll(async () => {
  if (kNutcrackerSkip) return;
  const config = { auth: { originKey: kOrigin }, workers: { threads: 1 } };
  const seed = await startInProcess(config, { resp: true });
  rootToken = await claimAndSnapshot(seed.port);
  const snapshot = join(seed.dataDir, 'rsnap', 'seed');
  expect(existsSync(snapshot)).toBe(true);
  const dataDirs = [tempDir(), tempDir()];
  for (const dataDir of dataDirs) {
    const restore = spawnCli(['snapshots', 'restore', snapshot, '--data-dir', dataDir]);
    const exit = await restore.exited;
    expect(exit, restore.output()).toEqual({ code: 0, signal: null });
  }
  shards = [seed, ...(await Promise.all(dataDirs.map((dataDir) => startInProcess({ ...config, server: { dataDir } }, { resp: true }))))];
  const listenPort = await freePort();
  const servers = shards.map((shard, index) => ({ host: '127.0.0.1', port: shard.respPort as number, name: kShardNames[index] as string }));
  proxy = await startNutcracker(poolYaml({ servers, listenPort, redisAuth: rootToken }), listenPort);
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await Promise.all(shards.map((shard) => shard.stop()));
});

describe.skipIf(kNutcrackerSkip)(`redis_auth: clients AUTH to the proxy, the proxy AUTHs to every shard${kNutcrackerNote}`, () => {
  it('every shard refuses an anonymous client and accepts the one root token restored into it', async () => {
    for (const shard of shards) {
      const client = await RawClient.connect(shard.respPort as number);
      expect(show(await client.call('GET', 'k'))).toBe(kShardNoAuth);
      expect(show(await client.call('AUTH', rootToken))).toBe('+OK');
      expect(show(await client.call('GET', 'k'))).toBe('$nil');
      client.destroy();
    }
  });

  it('the proxy answers NOAUTH before AUTH and refuses a wrong password itself', async () => {
    const client = await RawClient.connect(proxy.port);
    expect(show(await client.call('GET', 'k'))).toBe(kProxyNoAuth);
    expect(show(await client.call('MGET', 'a', 'b'))).toBe(kProxyNoAuth);
    expect(show(await client.call('AUTH', 'not-the-token'))).toBe('-ERR invalid password');
    expect(show(await client.call('SET', 'k', 'v'))).toBe(kProxyNoAuth);
    client.destroy();
  });

  it('after AUTH through the proxy, reads and writes on every shard work (the proxy logged in to each)', async () => {
    const client = await RawClient.connect(proxy.port);
    expect(show(await client.call('AUTH', rootToken))).toBe('+OK');
    const keys = Array.from({ length: 60 }, (_, i) => `auth:${(Math.imul(i + 1, 0x9e3779b1) >>> 0).toString(36)}`);
    expect(new Set(keys.map((key) => ketamaServerFor(continuum, key)))).toEqual(new Set(kShardNames));
    expect(show(await client.call('MSET', ...keys.flatMap((key) => [key, `v-${key}`])))).toBe('+OK');
    expect(show(await client.call('MGET', ...keys))).toBe(`[${keys.map((key) => hex(`v-${key}`)).join(',')}]`);
    expect(show(await client.call('DEL', ...keys))).toBe(`:${keys.length}`);
    client.destroy();
  });
});
