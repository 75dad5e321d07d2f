/**
 * A shard killed (SIGKILL) behind nutcracker with `auto_eject_hosts: true`, then restarted on
 * the same port: what twemproxy 0.5.0 does (nc_server.c server_failure / ketama_update):
 * - requests for the dead shard's keys get error replies (never a hang) until the shard has
 *   failed `server_failure_limit` times in a row (the connection's EOF counts as one);
 * - then it is ejected: the continuum is rebuilt over the live shards, its keys go to the shard
 *   ketama names among those (the data is not moved: they read as missing there), the stats
 *   count the ejection, and keys of the other shards are served throughout;
 * - `server_retry_timeout` after the ejection the continuum is rebuilt with it again, and once
 *   it answers (restarted on its port) its keys go back to it.
 * Shards are child processes (the CLI) so one can really be killed.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/server.js';
import {
  ketamaContinuum,
  ketamaServerFor,
  kNutcrackerNote,
  kNutcrackerSkip,
  nutcrackerStats,
  poolYaml,
  startNutcracker,
  startShard,
  type Nutcracker,
  type ShardProcess,
} from '../support/nutcracker.js';
import { RawClient, show } from '../server/resp/raw.js';

const kShardNames = ['s-one', 's-two', 's-three'];
const kVictim = 1;
const kFailureLimit = 2;
const kRetryTimeoutMs = 2_000;
/** How long the proxy may take to route around the dead shard, and to take it back. */
const kRerouteDeadlineMs = 5_000;
const kRejoinDeadlineMs = 8_000;
const kPollMs = 50;

let shards: ShardProcess[] = [];
let proxy: Nutcracker;
const all = ketamaContinuum(kShardNames.map((name) => ({ name })));
const survivors = ketamaContinuum(kShardNames.filter((_, index) => index !== kVictim).map((name) => ({ name })));

/** Ten keys ketama puts on each shard. */
function keysOn(name: string): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < 10; i++) if (ketamaServerFor(all, `k:${i}`) === name) keys.push(`k:${i}`);
  return keys;
}

const hex = (text: string): string => `$${Buffer.from(text).toString('hex')}`;

beforeAll(async () => {
  if (kNutcrackerSkip) return;
  shards = await Promise.all(kShardNames.map(() => startShard({ extraArgs: ['--nosave'] })));
  const listenPort = await freePort();
  const servers = shards.map((shard, index) => ({ host: '127.0.0.1', port: shard.respPort, name: kShardNames[index] as string }));
  const yaml = poolYaml({ servers, listenPort, serverFailureLimit: kFailureLimit, serverRetryTimeoutMs: kRetryTimeoutMs, timeoutMs: 1_000 });
  proxy = await startNutcracker(yaml, listenPort);
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await Promise.all(shards.map((shard) => shard.stop()));
});

describe.skipIf(kNutcrackerSkip)(`a killed shard is ejected and rejoins after a restart${kNutcrackerNote}`, () => {
  it('errors, then re-routes the dead shard\'s keys to the survivors, then takes the restarted shard back', async () => {
    const client = await RawClient.connect(proxy.port);
    const victimKeys = keysOn(kShardNames[kVictim] as string);
    const otherKeys = kShardNames.filter((_, index) => index !== kVictim).flatMap((name) => keysOn(name));
    for (const key of [...victimKeys, ...otherKeys]) expect(show(await client.call('SET', key, `v-${key}`))).toBe('+OK');
    const probe = victimKeys[0] as string;
    expect(show(await client.call('GET', probe))).toBe(hex(`v-${probe}`));

    await (shards[kVictim] as ShardProcess).kill();

    // Until the ejection: error replies only, at most server_failure_limit of them.
    const errors: string[] = [];
    let reply = '';
    const deadline = Date.now() + kRerouteDeadlineMs;
    for (;;) {
      reply = show(await client.call('GET', probe));
      if (!reply.startsWith('-')) break;
      errors.push(reply);
      expect(Date.now(), `still failing after ${kRerouteDeadlineMs} ms: ${errors.join(' | ')}\n${proxy.log()}`).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, kPollMs));
    }
    for (const error of errors) expect(error).toMatch(/^-ERR /);
    expect(errors.length).toBeLessThanOrEqual(kFailureLimit);
    // Ejected: the key now goes to a survivor, which never had it.
    expect(reply).toBe('$nil');
    const stats = await waitForEjection();
    expect(stats.ejects).toBeGreaterThanOrEqual(1);
    expect(stats.ejectedAt).toBeGreaterThan(0);
    for (const key of otherKeys) expect(show(await client.call('GET', key)), key).toBe(hex(`v-${key}`));
    // A write of the dead shard's key lands on the survivor ketama names over the live shards.
    expect(show(await client.call('SET', probe, 'rerouted'))).toBe('+OK');
    const stand = shards[kShardNames.indexOf(ketamaServerFor(survivors, probe))] as ShardProcess;
    expect(show(await direct(stand.respPort, 'GET', probe))).toBe(hex('rerouted'));

    // Restart on the same ports; after server_retry_timeout the proxy routes to it again.
    const victim = shards[kVictim] as ShardProcess;
    shards[kVictim] = await startShard({ dataDir: victim.dataDir, skyhashPort: victim.skyhashPort, respPort: victim.respPort, extraArgs: ['--nosave'] });
    const rejoinBy = Date.now() + kRejoinDeadlineMs;
    for (;;) {
      // The restarted shard is empty: its key reads as missing once it is routed there again.
      reply = show(await client.call('GET', probe));
      if (reply === '$nil') break;
      // Still the survivor's copy, or an error while the proxy retries the shard.
      if (!reply.startsWith('-ERR ')) expect(reply, 'after the restart').toBe(hex('rerouted'));
      expect(Date.now(), `not rejoined after ${kRejoinDeadlineMs} ms\n${proxy.log()}`).toBeLessThan(rejoinBy);
      await new Promise((resolve) => setTimeout(resolve, kPollMs));
    }
    expect(show(await client.call('SET', probe, 'back'))).toBe('+OK');
    expect(show(await direct(victim.respPort, 'GET', probe))).toBe(hex('back'));
    for (const key of otherKeys) expect(show(await client.call('GET', key)), key).toBe(hex(`v-${key}`));
    client.destroy();
  }, 30_000);
});

async function direct(port: number, ...args: string[]): ReturnType<RawClient['call']> {
  const client = await RawClient.connect(port);
  try {
    return await client.call(...args);
  } finally {
    client.destroy();
  }
}

/** The pool's ejection count and the victim's ejected-at time, once the stats show them. */
async function waitForEjection(): Promise<{ ejects: number; ejectedAt: number }> {
  const deadline = Date.now() + kRerouteDeadlineMs;
  for (;;) {
    const stats = await nutcrackerStats(proxy.statsPort);
    const pool = stats.frostkv as Record<string, unknown>;
    const server = pool[kShardNames[kVictim] as string] as Record<string, number>;
    const result = { ejects: Number(pool.server_ejects), ejectedAt: Number(server.server_ejected_at) };
    if (result.ejects > 0 || Date.now() > deadline) return result;
    await new Promise((resolve) => setTimeout(resolve, kPollMs));
  }
}
