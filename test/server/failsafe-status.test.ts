/**
 * The failsafe as a server user sees it: after a failed live save, RESP INFO, Skyhash
 * `SYS METRIC health` and the embedded status read one state and name its cause, and a
 * successful periodic snapshot does not re-open writes while data/ks is still failing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDefaults } from '../../src/config/types.js';
import { newFaultPlan } from '../../src/persist/fs-seam.js';
import type { FaultInjector } from '../../src/persist/persistence.js';
import { FrostServer } from '../../src/server/server.js';
import { MemoryLogger } from '../../src/util/log.js';
import { SkyClient } from '../support/skyhash.js';
import { tempDir } from '../support/tmp.js';
import { RawClient } from './resp/raw.js';

const kCritical = '*1\n+8\ncritical\n';
const kGood = '*1\n+4\ngood\n';

let server: FrostServer;
const faults: FaultInjector = { plan: null };
let sky: SkyClient;
let resp: RawClient;

beforeAll(async () => {
  const config = withDefaults({
    server: { dataDir: tempDir(), port: 0 },
    bgsave: { enabled: false, every: 120 },
    snapshot: { enabled: true, every: 1, atmost: 0, failsafe: true },
    resp: { enabled: true, port: 0 },
    workers: { threads: 1 },
  });
  server = await FrostServer.start(config, { logger: new MemoryLogger(), saveOnShutdown: false, faults });
  sky = await SkyClient.connect(server.addresses.skyhash.port);
  resp = await RawClient.connect(server.addresses.resp?.port ?? 0);
});

afterAll(async () => {
  faults.plan = null;
  sky.close();
  await server.shutdown();
});

async function info(): Promise<Map<string, string>> {
  const reply = await resp.call('INFO', 'persistence');
  if (reply.t !== '$' || reply.v === null) throw new Error(`INFO answered ${reply.t}`);
  const fields = new Map<string, string>();
  for (const line of reply.v.toString('utf8').split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  return fields;
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('failsafe status over both protocols', () => {
  it('a failed live save: INFO, SYS METRIC health and status agree and name the cause, through a successful periodic snapshot', async () => {
    expect(await sky.run('SYS', 'METRIC', 'health')).toBe(kGood);
    expect(await resp.call('SET', 'a', '1')).toMatchObject({ t: '+', v: 'OK' });
    faults.plan = newFaultPlan('write', 1, true);
    await waitFor(() => server.db.status().readOnly, 'the failing periodic snapshot');
    const failed = await resp.call('SAVE');
    expect(failed).toMatchObject({ t: '-' });
    faults.plan = null;
    expect(server.db.status().persistence!.readOnlyCauses).toEqual(['bgsave', 'snapshot']);
    // A successful periodic snapshot clears only its own cause.
    expect(await resp.call('SET', 'b', '2')).toMatchObject({ t: '-' });
    await waitFor(() => server.db.status().persistence!.readOnlyCauses.length === 1, 'a periodic snapshot to succeed');
    const during = await info();
    expect(during.get('rdb_last_bgsave_status')).toBe('err');
    expect(during.get('frostkv_read_only')).toBe('1');
    expect(during.get('frostkv_read_only_causes')).toBe('bgsave');
    expect(during.get('frostkv_read_only_reason')).toMatch(/^bgsave: live save to .* failed/);
    expect(await sky.run('SYS', 'METRIC', 'health')).toBe(kCritical);
    expect(await resp.call('SET', 'b', '2')).toMatchObject({ t: '-' });

    expect(await resp.call('SAVE')).toMatchObject({ t: '+', v: 'OK' });
    const after = await info();
    expect(after.get('rdb_last_bgsave_status')).toBe('ok');
    expect(after.get('frostkv_read_only')).toBe('0');
    expect(after.get('frostkv_read_only_causes')).toBe('');
    expect(await sky.run('SYS', 'METRIC', 'health')).toBe(kGood);
    expect(server.db.status().readOnly).toBe(false);
    expect(await resp.call('SET', 'b', '2')).toMatchObject({ t: '+', v: 'OK' });
  });
});
