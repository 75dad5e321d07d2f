/**
 * docs/persistence.md (Failsafe) end to end over the socket: a live save made to fail through
 * the file-system fault seam puts the server in the read-only state, where every write action
 * answers `!1\n5\n` and changes nothing while reads, MKSNAP, SYS, INSPECT and AUTH keep
 * working and `SYS METRIC health` is `critical`; the next successful save restores normal
 * service. Also the MKSNAP rows of docs/persistence.md (MKSNAP) that need an I/O failure (code 5, the name
 * stays free, a client MKSNAP never sets or clears the read-only state).
 */

import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDefaults } from '../../../src/config/types.js';
import { newFaultPlan } from '../../../src/persist/fs-seam.js';
import type { FaultInjector } from '../../../src/persist/persistence.js';
import { FrostServer } from '../../../src/server/server.js';
import { MemoryLogger } from '../../../src/util/log.js';
import { SkyClient, pipeline, type Arg } from '../../support/skyhash.js';
import { tempDir } from '../../support/tmp.js';
import { ACTION_ERROR, OK, SERVER_ERROR, bin, code, err, expectRepliesOn, many, nonNull, one, str, typed, uint } from './helpers.js';

const CRITICAL = '*1\n+8\ncritical\n';
const GOOD = '*1\n+4\ngood\n';

let server: FrostServer;
const faults: FaultInjector = { plan: null };
let port: number;
let respPort: number;
let client: SkyClient;

beforeAll(async () => {
  const config = withDefaults({
    server: { dataDir: tempDir(), port: 0 },
    bgsave: { enabled: false, every: 120 },
    snapshot: { enabled: true, every: 3600, atmost: 0, failsafe: true },
    resp: { enabled: true, port: 0 },
    workers: { threads: 1 },
  });
  server = await FrostServer.start(config, { logger: new MemoryLogger(), saveOnShutdown: false, faults });
  port = server.addresses.skyhash.port;
  respPort = server.addresses.resp?.port ?? 0;
  client = await SkyClient.connect(port);
});

afterAll(async () => {
  faults.plan = null;
  client.close();
  await server.shutdown();
});

function expectReplies(steps: ReadonlyArray<readonly [Arg[], string]>, on: SkyClient = client): Promise<void> {
  return expectRepliesOn(on, steps, true);
}

/** One RESP command on a fresh connection; returns the first reply line (`+OK`, `-MISCONF ...`). */
async function resp(...args: string[]): Promise<string> {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect(respPort, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  const frame = `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`no RESP reply; have ${JSON.stringify(text)}`)), 10_000);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n');
      if (end >= 0) {
        clearTimeout(timer);
        socket.destroy();
        resolve(text.slice(0, end));
      }
    });
    socket.write(frame);
  });
}

/** Everything the write checks touch, read back through the socket. */
async function observableState(): Promise<string[]> {
  const c = await SkyClient.connect(port);
  const out = [
    await c.run('MGET', 'a', 'b', 'c', 'new'),
    await c.run('DBSIZE'),
    await c.run('DBSIZE', 'ro:kv'),
    await c.run('USE', 'ro:kv'),
    await c.run('MGET', 'x', 'y'),
    await c.run('DBSIZE', 'ro:l'),
    await c.run('USE', 'ro:l'),
    await c.run('LGET', 'l'),
    await c.run('INSPECT', 'KEYSPACES'),
    await c.run('INSPECT', 'KEYSPACE', 'ro'),
  ];
  c.close();
  return out;
}

describe('the read-only state after a failed save', () => {
  it('refuses every write with 5, keeps reads, MKSNAP, SYS and INSPECT working, and recovers after a successful save', async () => {
    // A known state.
    await expectReplies([
      [['USET', 'a', '1', 'b', '2', 'c', '3'], one(uint(3))],
      [['CREATE', 'KEYSPACE', 'ro'], OK],
      [['CREATE', 'KEYSPACE', 'ro_empty'], OK],
      [['CREATE', 'TABLE', 'ro:kv', 'keymap(str,str)'], OK],
      [['CREATE', 'TABLE', 'ro:l', 'keymap(str,list<str>)'], OK],
      [['CREATE', 'TABLE', 'ro:dropme', 'keymap(str,str)'], OK],
      [['USE', 'ro:kv'], OK],
      [['USET', 'x', '10', 'y', '20'], one(uint(2))],
      [['USE', 'ro:l'], OK],
      [['LSET', 'l', 'p', 'q', 'r'], OK],
      [['USE', 'default:default'], OK],
    ]);
    const before = await observableState();
    expect(await client.run('SYS', 'METRIC', 'health')).toBe(GOOD);

    // The live save fails: every write of it, persistently.
    faults.plan = newFaultPlan('write', 1, true, 'EIO');
    const failed = await server.db.save();
    faults.plan = null;
    expect(failed.ok).toBe(false);
    expect(await client.run('SYS', 'METRIC', 'health')).toBe(CRITICAL);

    // Every write action answers 5, whatever it would otherwise have answered.
    const kvWrites: Arg[][] = [
      ['SET', 'new', 'v'],
      ['SET', 'a', 'v'],
      ['UPDATE', 'a', 'v'],
      ['UPDATE', 'nosuch', 'v'],
      ['SDEL', 'nosuch'],
      ['SUPDATE', 'nosuch', 'v'],
      ['SSET', 'a', 'v'],
      ['POP', 'nosuch'],
      ['MPOP', 'nosuch'],
      ['DEL', 'a'],
      ['DEL', 'nosuch'],
      ['MSET', 'new', 'v', 'a', 'v'],
      ['MUPDATE', 'a', 'v'],
      ['USET', 'a', 'v', 'new', 'v'],
      ['SSET', 'new', 'v'],
      ['SDEL', 'a', 'b'],
      ['SUPDATE', 'a', 'v'],
      ['POP', 'a'],
      ['MPOP', 'a', 'b'],
      ['FLUSHDB'],
      ['FLUSHDB', 'ro:kv'],
      ['CREATE', 'KEYSPACE', 'ro_new'],
      ['CREATE', 'TABLE', 'ro:new', 'keymap(str,str)'],
      ['CREATE', 'TABLE', 'default:ro_new', 'keymap(binstr,binstr)', 'volatile'],
      ['DROP', 'TABLE', 'ro:dropme'],
      ['DROP', 'KEYSPACE', 'ro_empty'],
      ['DROP', 'KEYSPACE', 'ro', 'force'],
    ];
    for (const args of kvWrites) await expectReplies([[args, SERVER_ERROR]]);
    const listClient = await SkyClient.connect(port);
    await expectReplies([[['USE', 'ro:l'], OK]], listClient);
    const listWrites: Arg[][] = [
      ['LSET', 'l2', 'v'],
      ['LSET', 'l2'],
      ['LSET', 'l', 'exists'],
      ['LMOD', 'nosuch', 'PUSH', 'v'],
      ['LMOD', 'nosuch', 'CLEAR'],
      ['LMOD', 'l', 'REMOVE', '99'],
      ['LMOD', 'l', 'PUSH', 'v'],
      ['LMOD', 'l', 'INSERT', '0', 'v'],
      ['LMOD', 'l', 'POP'],
      ['LMOD', 'l', 'POP', '0'],
      ['LMOD', 'l', 'REMOVE', '0'],
      ['LMOD', 'l', 'CLEAR'],
      ['DEL', 'l'],
      ['FLUSHDB'],
      // As Skytable 0.7: the read-only check comes before the model check.
      ['POP', 'l'],
    ];
    for (const args of listWrites) await expectReplies([[args, SERVER_ERROR]], listClient);

    // In a pipeline each refused write gets its 5 in place, reads around them still answer.
    listClient.send(pipeline(['LGET', 'l', 'LEN'], ['LMOD', 'l', 'PUSH', 'z'], ['LGET', 'l', 'LAST'], ['LSET', 'm']));
    expect((await listClient.response()).toString('latin1')).toBe(many(uint(3), code(5), str('r'), code(5)));

    // Argument errors are still argument errors.
    await expectReplies([
      [['SET', 'a'], ACTION_ERROR],
      [['MSET', 'a'], ACTION_ERROR],
    ]);

    // Reads, SYS, INSPECT, USE, WHEREAMI, HEYA and AUTH keep working.
    await expectReplies([
      [['GET', 'a'], one(bin('1'))],
      [['MGET', 'a', 'zz'], one(typed('?', ['1', null]))],
      [['EXISTS', 'a', 'b', 'zz'], one(uint(2))],
      [['KEYLEN', 'c'], one(uint(1))],
      [['DBSIZE'], one(uint(3))],
      [['HEYA'], one(str('HEY!'))],
      [['WHEREAMI'], one(nonNull('+', ['default', 'default']))],
      [['INSPECT', 'TABLE', 'ro:l'], one(str('Keymap { data:(str,list<str>), volatile:false }'))],
      [['INSPECT', 'KEYSPACE', 'ro'], one(nonNull('+', ['kv', 'l', 'dropme']))],
      [['SYS', 'INFO', 'protocol'], one(str('Skyhash-1.0'))],
      [['AUTH', 'WHOAMI'], one(err('err-auth-disabled'))],
    ]);
    expect(await client.run('SYS', 'METRIC', 'storage')).toMatch(/^\*1\n:\d+\n\d+\n$/);
    expect(await client.run('LSKEYS', 'ro:kv')).toMatch(/^\*1\n@\+2\n/);
    await expectReplies(
      [
        [['LGET', 'l'], one(nonNull('+', ['p', 'q', 'r']))],
        [['LGET', 'l', 'VALUEAT', '1'], one(str('q'))],
        [['LGET', 'l', 'RANGE', '1'], one(nonNull('+', ['q', 'r']))],
      ],
      listClient,
    );
    listClient.close();

    // MKSNAP works, local and named, and neither clears the read-only state.
    await expectReplies([
      [['MKSNAP', 'while-read-only'], OK],
      [['MKSNAP'], OK],
      [['SYS', 'METRIC', 'health'], CRITICAL],
      [['SET', 'new', 'v'], SERVER_ERROR],
    ]);

    // RESP writes are refused like Redis (-MISCONF); RESP reads work.
    expect(await resp('SET', 'resp-key', 'v')).toMatch(/^-MISCONF /);
    expect(await resp('GET', 'a')).toBe('$1');

    // Nothing changed.
    expect(await observableState()).toEqual(before);

    // The next successful save (through RESP SAVE) clears the state.
    expect(await resp('SAVE')).toBe('+OK');
    expect(await client.run('SYS', 'METRIC', 'health')).toBe(GOOD);
    await expectReplies([
      [['SET', 'new', 'v'], OK],
      [['POP', 'a'], one(bin('1'))],
      [['DROP', 'TABLE', 'ro:dropme'], OK],
      [['DROP', 'KEYSPACE', 'ro_empty'], OK],
      [['CREATE', 'KEYSPACE', 'ro_empty'], OK],
    ]);
    const again = await SkyClient.connect(port);
    await expectReplies(
      [
        [['USE', 'ro:l'], OK],
        [['LMOD', 'l', 'PUSH', 's'], OK],
        [['LGET', 'l', 'LAST'], one(str('s'))],
      ],
      again,
    );
    again.close();
    expect(await resp('SET', 'resp-key', 'v')).toBe('+OK');
  });

  it('re-enters the read-only state on the next failed save and leaves it on the next success', async () => {
    await expectReplies([[['USET', 'cycle', '1'], one(uint(1))]]);
    faults.plan = newFaultPlan('fsync', 1, true, 'ENOSPC');
    expect((await server.db.save()).ok).toBe(false);
    faults.plan = null;
    await expectReplies([
      [['SYS', 'METRIC', 'health'], CRITICAL],
      [['USET', 'cycle', '2'], SERVER_ERROR],
      [['GET', 'cycle'], one(bin('1'))],
    ]);
    expect((await server.db.save()).ok).toBe(true);
    await expectReplies([
      [['SYS', 'METRIC', 'health'], GOOD],
      [['USET', 'cycle', '2'], one(uint(1))],
      [['GET', 'cycle'], one(bin('2'))],
    ]);
  });
});

describe('MKSNAP with an I/O failure', () => {
  it('answers 5 for a named snapshot, leaves the server healthy, and the name stays free for a retry', async () => {
    expect(await client.run('SYS', 'METRIC', 'health')).toBe(GOOD);
    faults.plan = newFaultPlan('write', 1, true, 'EIO');
    expect(await client.run('MKSNAP', 'retry-me')).toBe(SERVER_ERROR);
    faults.plan = null;
    await expectReplies([
      [['SYS', 'METRIC', 'health'], GOOD],
      [['SET', 'after-failed-mksnap', 'v'], OK],
      [['MKSNAP', 'retry-me'], OK],
      [['MKSNAP', 'retry-me'], one(err('duplicate-snapshot'))],
    ]);
  });

  it('answers 5 for a local snapshot and leaves the server healthy', async () => {
    faults.plan = newFaultPlan('rename', 1, true, 'EACCES');
    expect(await client.run('MKSNAP')).toBe(SERVER_ERROR);
    faults.plan = null;
    await expectReplies([
      [['SYS', 'METRIC', 'health'], GOOD],
      [['SET', 'after-failed-local', 'v'], OK],
    ]);
  });
});
