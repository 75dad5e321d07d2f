/**
 * The central read-only check over a real socket: after a live save fails (the file-system
 * fault seam), every write action and write subaction of Skytable 0.7's set
 * (test/server/skyhash/action-expectations.ts) is answered code 5 and changes nothing; once a
 * save succeeds the same requests are no longer refused, so the 5 came from the state.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDefaults } from '../../../src/config/types.js';
import { newFaultPlan } from '../../../src/persist/fs-seam.js';
import type { FaultInjector } from '../../../src/persist/persistence.js';
import { FrostServer } from '../../../src/server/server.js';
import { MemoryLogger } from '../../../src/util/log.js';
import { SkyClient } from '../../support/skyhash.js';
import { tempDir } from '../../support/tmp.js';
import { OK, SERVER_ERROR, expectRepliesOn, one, uint } from './helpers.js';
import { expectedWrites, kRefusedBeforeLaterChecks, kWriteSamples } from './action-expectations.js';

let server: FrostServer;
const faults: FaultInjector = { plan: null };
let kv: SkyClient;
let list: SkyClient;

beforeAll(async () => {
  const config = withDefaults({
    server: { dataDir: tempDir(), port: 0 },
    bgsave: { enabled: false, every: 120 },
    snapshot: { enabled: false, every: 3600, atmost: 0, failsafe: true },
    workers: { threads: 1 },
  });
  server = await FrostServer.start(config, { logger: new MemoryLogger(), saveOnShutdown: false, faults });
  kv = await SkyClient.connect(server.addresses.skyhash.port);
  list = await SkyClient.connect(server.addresses.skyhash.port);
  await expectRepliesOn(kv, [
    [['CREATE', 'KEYSPACE', 'ro'], OK],
    [['CREATE', 'KEYSPACE', 'ro_empty'], OK],
    [['CREATE', 'TABLE', 'ro:kv', 'keymap(str,str)'], OK],
    [['CREATE', 'TABLE', 'ro:l', 'keymap(str,list<str>)'], OK],
    [['CREATE', 'TABLE', 'ro:dropme', 'keymap(str,str)'], OK],
    [['USE', 'ro:kv'], OK],
    [['USET', 'a', '1', 'b', '2'], one(uint(2))],
  ]);
  await expectRepliesOn(list, [
    [['USE', 'ro:l'], OK],
    [['LSET', 'l', 'p', 'q', 'r'], OK],
  ]);
});

afterAll(async () => {
  faults.plan = null;
  kv.close();
  list.close();
  await server.shutdown();
});

/** Everything a write sample could touch, read through a third connection. */
async function observableState(): Promise<string[]> {
  const c = await SkyClient.connect(server.addresses.skyhash.port);
  const out: string[] = [];
  for (const args of [
    ['USE', 'ro:kv'],
    ['MGET', 'a', 'b', 'new'],
    ['DBSIZE'],
    ['USE', 'ro:l'],
    ['LGET', 'l'],
    ['LGET', 'l2'],
    ['DBSIZE', 'ro:dropme'],
    ['INSPECT', 'KEYSPACES'],
    ['INSPECT', 'KEYSPACE', 'ro'],
  ]) {
    out.push(await c.run(...args));
  }
  c.close();
  return out;
}

describe('write actions while writes are refused', () => {
  it('has a sample request for every write action and subaction', () => {
    expect(Object.keys(kWriteSamples).sort()).toEqual(expectedWrites().sort());
  });

  it('answers 5 to every write and changes nothing; the same requests run once a save succeeds', async () => {
    const before = await observableState();
    faults.plan = newFaultPlan('write', 1, true, 'EIO');
    const failed = await server.db.save();
    faults.plan = null;
    expect(failed.ok).toBe(false);

    for (const [name, sample] of Object.entries(kWriteSamples)) {
      expect.soft(await (sample.on === 'kv' ? kv : list).run(...sample.args), name).toBe(SERVER_ERROR);
    }
    // The state is checked before what would otherwise refuse these.
    for (const sample of kRefusedBeforeLaterChecks) {
      const name = `${sample.args.join(' ')} (otherwise ${sample.otherwise})`;
      expect.soft(await (sample.on === 'kv' ? kv : list).run(...sample.args), name).toBe(SERVER_ERROR);
    }
    expect(await observableState()).toEqual(before);

    expect((await server.db.save()).ok).toBe(true);
    for (const [name, sample] of Object.entries(kWriteSamples)) {
      expect.soft(await (sample.on === 'kv' ? kv : list).run(...sample.args), name).not.toBe(SERVER_ERROR);
    }
    expect(await observableState()).not.toEqual(before);
  });
});
