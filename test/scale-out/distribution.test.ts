/**
 * Keys spread over frostkv shards exactly as twemproxy's ketama says: written through nutcracker,
 * read back from each shard directly (SCAN, DBSIZE, GET). Every key lives on exactly one shard,
 * on the shard an independent computation of twemproxy 0.5.0's ketama over fnv1a_64
 * (test/support/nutcracker.ts) names; each shard holds a share; keys with one `{}` hash tag live
 * together. Also pinned, for docs/scale-out.md: multi-key commands twemproxy does not split
 * (EXISTS, COPY) go whole to the first key's shard.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startInProcess, type InProcessServer } from '../support/server.js';
import { ketamaContinuum, ketamaServerFor, kNutcrackerNote, kNutcrackerSkip, poolYaml, startNutcracker, type Nutcracker } from '../support/nutcracker.js';
import { encodeCommand, RawClient, show, type Reply } from '../server/resp/raw.js';

const kShardNames = ['alpha', 'bravo', 'charlie'];
const kKeys = 900;
const kBatch = 100;
/** With 160 points per shard, ketama gives each of three shards well over this share. */
const kMinSharePct = 20;

let shards: InProcessServer[] = [];
let proxy: Nutcracker;
const continuum = ketamaContinuum(kShardNames.map((name) => ({ name })));

beforeAll(async () => {
  if (kNutcrackerSkip) return;
  shards = await Promise.all(kShardNames.map(() => startInProcess({ workers: { threads: 1 } }, { resp: true })));
  const listenPort = await freePort();
  // Listed in an order unlike their names: twemproxy's continuum depends on the names only.
  const servers = [2, 0, 1].map((index) => ({ host: '127.0.0.1', port: shards[index]?.respPort as number, name: kShardNames[index] as string }));
  proxy = await startNutcracker(poolYaml({ servers, listenPort }), listenPort);
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all(shards.map((shard) => shard.stop()));
});

async function call(port: number, ...args: string[]): Promise<Reply> {
  const client = await RawClient.connect(port);
  try {
    return await client.call(...args);
  } finally {
    client.destroy();
  }
}

/** Every key of one shard, by SCAN straight to it. */
async function scanAll(port: number): Promise<string[]> {
  const client = await RawClient.connect(port);
  const keys: string[] = [];
  try {
    let cursor = '0';
    do {
      const reply = await client.call('SCAN', cursor, 'COUNT', '1000');
      if (reply.t !== '*' || reply.v === null) throw new Error(`SCAN answered ${show(reply)}`);
      const [next, batch] = reply.v as [Reply, Reply];
      cursor = (next as { v: Buffer }).v.toString();
      for (const key of (batch as { v: Reply[] }).v) keys.push((key as { v: Buffer }).v.toString());
    } while (cursor !== '0');
  } finally {
    client.destroy();
  }
  return keys;
}

describe.skipIf(kNutcrackerSkip)(`keys spread over the shards as ketama says${kNutcrackerNote}`, () => {
  it(`${kKeys} keys written through the proxy each live on exactly one shard, the one ketama names, each shard holding a share`, async () => {
    const client = await RawClient.connect(proxy.port);
    const keys = Array.from({ length: kKeys }, (_, i) => `user:${i}`);
    // Half by MSET (split by the proxy), half by SET, all pipelined.
    for (let at = 0; at < kKeys / 2; at += kBatch) client.write(encodeCommand(['MSET', ...keys.slice(at, at + kBatch).flatMap((key) => [key, `v-${key}`])]));
    for (const key of keys.slice(kKeys / 2)) client.write(encodeCommand(['SET', key, `v-${key}`]));
    const replies = await client.replies(kKeys / 2 / kBatch + kKeys / 2, 15_000);
    client.destroy();
    expect(new Set(replies.map(show))).toEqual(new Set(['+OK']));

    const held = await Promise.all(shards.map((shard) => scanAll(shard.respPort as number)));
    const owner = new Map<string, string>();
    held.forEach((shardKeys, index) => {
      for (const key of shardKeys) {
        expect(owner.has(key), `${key} on two shards`).toBe(false);
        owner.set(key, kShardNames[index] as string);
      }
    });
    expect(owner.size).toBe(kKeys);
    for (const key of keys) expect(owner.get(key), key).toBe(ketamaServerFor(continuum, key));
    for (const [index, shard] of shards.entries()) {
      expect(show(await call(shard.respPort as number, 'DBSIZE'))).toBe(`:${held[index]?.length}`);
      expect((100 * (held[index]?.length ?? 0)) / kKeys, `${kShardNames[index]}'s share`).toBeGreaterThan(kMinSharePct);
      const sample = held[index]?.[0] as string;
      expect(show(await call(shard.respPort as number, 'GET', sample))).toBe(`$${Buffer.from(`v-${sample}`).toString('hex')}`);
    }
  });

  it('keys with the same {tag} land on one shard, the one ketama names for the tag alone', async () => {
    // Short tags differing only in a last digit (user0..user39) all hash onto one shard with
    // twemproxy's fnv1a_64 (docs/scale-out.md); these are spread by a multiplicative scramble.
    const tags = ['user1', ...Array.from({ length: 39 }, (_, i) => `t${(Math.imul(i + 1, 0x9e3779b1) >>> 0).toString(36)}`)];
    const client = await RawClient.connect(proxy.port);
    for (const tag of tags) for (const field of ['a', 'b', 'profile:c']) client.write(encodeCommand(['SET', `{${tag}}:${field}`, field]));
    await client.replies(tags.length * 3);
    client.destroy();
    const owners = new Set<string>();
    for (const tag of tags) {
      const expected = ketamaServerFor(continuum, tag);
      owners.add(expected);
      const shard = shards[kShardNames.indexOf(expected)] as InProcessServer;
      const got = await call(shard.respPort as number, 'EXISTS', `{${tag}}:a`, `{${tag}}:b`, `{${tag}}:profile:c`);
      expect(show(got), `{${tag}} on ${expected}`).toBe(':3');
    }
    // The 40 tags themselves spread over every shard.
    expect([...owners].sort()).toEqual([...kShardNames].sort());
  });

  it('EXISTS and COPY are not split by twemproxy: they go whole to the first key\'s shard', async () => {
    const first = 'user:1';
    const other = Array.from({ length: 100 }, (_, i) => `user:${i}`).find((key) => ketamaServerFor(continuum, key) !== ketamaServerFor(continuum, first)) as string;
    // Both keys exist (written by the first test), on two different shards.
    expect(show(await call(proxy.port, 'EXISTS', first, other))).toBe(':1');
    expect(show(await call(proxy.port, 'MGET', first, other))).toBe(`[$${Buffer.from(`v-${first}`).toString('hex')},$${Buffer.from(`v-${other}`).toString('hex')}]`);
    // COPY writes the copy beside its source, where reads of the copy's name never look.
    const copyName = Array.from({ length: 100 }, (_, i) => `copy:${i}`).find((key) => ketamaServerFor(continuum, key) !== ketamaServerFor(continuum, first)) as string;
    expect(show(await call(proxy.port, 'COPY', first, copyName))).toBe(':1');
    expect(show(await call(proxy.port, 'GET', copyName))).toBe('$nil');
    const sourceShard = shards[kShardNames.indexOf(ketamaServerFor(continuum, first))] as InProcessServer;
    expect(show(await call(sourceShard.respPort as number, 'GET', copyName))).toBe(`$${Buffer.from(`v-${first}`).toString('hex')}`);
  });
});
