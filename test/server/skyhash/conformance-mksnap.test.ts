/**
 * docs/persistence.md (MKSNAP) over a real socket: local snapshots disabled and enabled, the
 * second's folder already existing, named snapshots with safe and unsafe names, duplicates,
 * invalid UTF-8, too many arguments, `err-snapshot-busy` for both kinds, and other connections
 * being served while a snapshot is written. (I/O failures are in readonly.test.ts, which
 * injects file-system faults.)
 */

import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SkyClient, pipeline, query, responseLength } from '../../support/skyhash.js';
import type { InProcessServer } from '../../support/server.js';
import { snapshotNameFor } from '../../../src/persist/format.js';
import { ACTION_ERROR, ENCODING, OK, bin, code, eventually, err, many, one, startServer, str } from './helpers.js';

const INVALID_NAME = one(err('err-invalid-snapshot-name'));
const BUSY = one(err('err-snapshot-busy'));
const kSnapNamePattern = /^\d{8}-\d{6}$/;

/** Enough data (about 96 MB) that writing a snapshot takes a noticeable time. */
const kBulkKeys = 1500;
const kBulkValueBytes = 64 * 1024;

let plain: InProcessServer;
let snappy: InProcessServer;

beforeAll(async () => {
  [plain, snappy] = await Promise.all([
    startServer(),
    startServer({ snapshot: { enabled: true, every: 3600, atmost: 0, failsafe: true } }),
  ]);
  const loader = await SkyClient.connect(snappy.port);
  const value = Buffer.alloc(kBulkValueBytes, 'v');
  for (let i = 0; i < kBulkKeys; i += 100) {
    const args: Array<string | Buffer> = ['USET'];
    for (let j = i; j < Math.min(kBulkKeys, i + 100); j++) args.push(`bulk-${j}`, value);
    await loader.run(...args);
  }
  loader.close();
});

afterAll(async () => {
  await Promise.all([plain.stop(), snappy.stop()]);
});

function localSnapshots(dataDir: string): string[] {
  const dir = join(dataDir, 'snaps');
  return existsSync(dir) ? readdirSync(dir).filter((name) => kSnapNamePattern.test(name)) : [];
}

/** Resolves once `server` reports a save in progress (its MKSNAP has started). */
async function saveStarted(server: InProcessServer): Promise<void> {
  await eventually(async () => (server.server.db.persistence?.status().saving.length ?? 0) > 0, 5_000);
}

describe('MKSNAP without a name', () => {
  it('answers err-snapshot-disabled when local snapshots are not configured', async () => {
    const c = await SkyClient.connect(plain.port);
    expect(await c.run('MKSNAP')).toBe('*1\n!21\nerr-snapshot-disabled\n');
    expect(localSnapshots(plain.dataDir)).toEqual([]);
    c.close();
  });

  it('answers 0 once the snapshot folder is published under snaps/<YYYYMMDD-HHMMSS>', async () => {
    const c = await SkyClient.connect(snappy.port);
    const before = new Set(localSnapshots(snappy.dataDir));
    const startedMs = Date.now();
    expect(await c.run('MKSNAP')).toBe(OK);
    const made = localSnapshots(snappy.dataDir).filter((name) => !before.has(name));
    expect(made).toHaveLength(1);
    const name = made[0] as string;
    // Named by the UTC second of the cut, which lies between the request and the reply.
    expect(name >= snapshotNameFor(startedMs - 1000) && name <= snapshotNameFor(Date.now())).toBe(true);
    const folder = join(snappy.dataDir, 'snaps', name);
    expect(statSync(folder).isDirectory()).toBe(true);
    expect(readdirSync(folder).length).toBeGreaterThan(0);
    c.close();
  });

  it("answers 5 when folders it did not make hold this second's name and the next ones, and never overwrites them", async () => {
    const c = await SkyClient.connect(snappy.port);
    // A write first: a snapshot this run published this second would otherwise already hold
    // every write, and count as this one (docs/decisions.md).
    expect(await c.run('USET', 'mksnap-blocked', 'x')).toBe(one(':1\n1\n'));
    const snaps = join(snappy.dataDir, 'snaps');
    const now = Date.now();
    const blockers: string[] = [];
    for (let s = -2; s <= 20; s++) {
      const name = snapshotNameFor(now + s * 1000);
      const path = join(snaps, name);
      if (existsSync(path)) continue;
      mkdirSync(path, { recursive: true });
      blockers.push(path);
    }
    try {
      expect(await c.run('MKSNAP')).toBe(one(code(5)));
      for (const path of blockers) expect(readdirSync(path)).toEqual([]);
    } finally {
      for (const path of blockers) rmSync(path, { recursive: true, force: true });
    }
    // A failed client MKSNAP does not make the database read-only.
    expect(await c.run('SYS', 'METRIC', 'health')).toBe(one(str('good')));
    c.close();
  });

  it('answers err-snapshot-busy while another local snapshot is running', async () => {
    const a = await SkyClient.connect(snappy.port);
    const b = await SkyClient.connect(snappy.port);
    // Earlier tests' snapshots may hold this second's folder name: clear them so only busyness can refuse.
    for (const name of localSnapshots(snappy.dataDir)) rmSync(join(snappy.dataDir, 'snaps', name), { recursive: true, force: true });
    // And a write, so the snapshot has something new to save (else it counts the last one).
    expect(await a.run('USET', 'mksnap-busy', 'x')).toBe(one(':1\n1\n'));
    a.send(query('MKSNAP'));
    await saveStarted(snappy);
    expect(await b.run('MKSNAP')).toBe(BUSY);
    expect((await a.response()).toString('latin1')).toBe(OK);
    a.close();
    b.close();
  });

  it('answers 3 for two arguments', async () => {
    const c = await SkyClient.connect(plain.port);
    expect(await c.run('MKSNAP', 'a', 'b')).toBe(ACTION_ERROR);
    expect(await c.run('MKSNAP', 'a', 'b', 'c')).toBe(ACTION_ERROR);
    expect(existsSync(join(plain.dataDir, 'rsnap', 'a'))).toBe(false);
    c.close();
  });
});

describe('MKSNAP with a name', () => {
  it('writes data/rsnap/<name> and answers 0, even with local snapshots disabled', async () => {
    const c = await SkyClient.connect(plain.port);
    expect(await c.run('MKSNAP', 'first')).toBe(OK);
    const folder = join(plain.dataDir, 'rsnap', 'first');
    expect(statSync(folder).isDirectory()).toBe(true);
    expect(readdirSync(folder).length).toBeGreaterThan(0);
    c.close();
  });

  it('accepts nested names and names at the 128-byte segment and 255-byte total limits', async () => {
    const c = await SkyClient.connect(plain.port);
    const seg128 = 'a'.repeat(128);
    const total255 = `${'b'.repeat(128)}/${'c'.repeat(126)}`;
    expect(total255.length).toBe(255);
    for (const name of ['nested/deeper/name', 'v1.2_final-B', '0start', seg128, total255]) {
      expect(await c.run('MKSNAP', name), name).toBe(OK);
      expect(statSync(join(plain.dataDir, 'rsnap', ...name.split('/'))).isDirectory()).toBe(true);
    }
    c.close();
  });

  it('answers err-invalid-snapshot-name for every unsafe name and writes nothing', async () => {
    const c = await SkyClient.connect(plain.port);
    const unsafe = [
      '',
      '/abs',
      '/etc/passwd',
      '..',
      '.',
      '../escape',
      'a/../../escape',
      'a/../b',
      'a/./b',
      '.hidden',
      'a/.hidden',
      'a\\b',
      '..\\escape',
      'a\0b',
      'a\tb',
      'a\nb',
      'a\x7fb',
      'a b',
      'a//b',
      'a/',
      '-dash',
      '_under',
      'ünïcode',
      'a'.repeat(129),
      `${'b'.repeat(128)}/${'c'.repeat(127)}`,
    ];
    for (const name of unsafe) {
      expect(await c.run('MKSNAP', name), JSON.stringify(name)).toBe(INVALID_NAME);
    }
    const rsnap = join(plain.dataDir, 'rsnap');
    const entries = existsSync(rsnap) ? readdirSync(rsnap) : [];
    expect(entries.filter((entry) => entry.startsWith('.') || entry.includes('escape'))).toEqual([]);
    expect(existsSync(join(plain.dataDir, 'escape'))).toBe(false);
    c.close();
  });

  it('answers duplicate-snapshot when data/rsnap/<name> already exists', async () => {
    const c = await SkyClient.connect(plain.port);
    expect(await c.run('MKSNAP', 'twice')).toBe(OK);
    expect(await c.run('MKSNAP', 'twice')).toBe('*1\n!18\nduplicate-snapshot\n');
    mkdirSync(join(plain.dataDir, 'rsnap', 'made-by-hand'), { recursive: true });
    expect(await c.run('MKSNAP', 'made-by-hand')).toBe(one(err('duplicate-snapshot')));
    expect(readdirSync(join(plain.dataDir, 'rsnap', 'made-by-hand'))).toEqual([]);
    c.close();
  });

  it('answers 9 for a name that is not valid UTF-8', async () => {
    const c = await SkyClient.connect(plain.port);
    expect(await c.run('MKSNAP', Buffer.from([0x73, 0x6e, 0xff, 0x70]))).toBe(ENCODING);
    c.close();
  });

  it('answers err-snapshot-busy while a snapshot of the same name is in progress', async () => {
    const a = await SkyClient.connect(snappy.port);
    const b = await SkyClient.connect(snappy.port);
    a.send(query('MKSNAP', 'contended'));
    await saveStarted(snappy);
    expect(await b.run('MKSNAP', 'contended')).toBe(BUSY);
    expect((await a.response()).toString('latin1')).toBe(OK);
    expect(await b.run('MKSNAP', 'contended')).toBe(one(err('duplicate-snapshot')));
    a.close();
    b.close();
  });
});

describe('MKSNAP and other connections', () => {
  it('keeps serving other connections while one waits for its snapshot', async () => {
    const a = await SkyClient.connect(snappy.port);
    const b = await SkyClient.connect(snappy.port);
    a.send(query('MKSNAP', 'while-serving'));
    await saveStarted(snappy);
    // While a's snapshot is being written, b gets answers, reads and writes alike.
    expect(await b.run('HEYA')).toBe(one(str('HEY!')));
    expect(await b.run('SET', 'during-snapshot', 'yes')).toBe(OK);
    expect(await b.run('GET', 'during-snapshot')).toBe(one(bin('yes')));
    expect(responseLength(a.pending)).toBe(-1);
    expect((await a.response()).toString('latin1')).toBe(OK);
    a.close();
    b.close();
  });

  it('delays the queries after MKSNAP on its own connection, keeping their order', async () => {
    const a = await SkyClient.connect(snappy.port);
    const b = await SkyClient.connect(snappy.port);
    a.send(
      Buffer.concat([
        pipeline(['SET', 'order-1', 'x'], ['MKSNAP', 'ordered'], ['GET', 'order-1'], ['DEL', 'order-1']),
        query('EXISTS', 'order-1'),
      ]),
    );
    await saveStarted(snappy);
    expect(await b.run('HEYA')).toBe(one(str('HEY!')));
    expect((await a.response()).toString('latin1')).toBe(many(code(0), code(0), bin('x'), ':1\n1\n'));
    expect((await a.response()).toString('latin1')).toBe(one(':1\n0\n'));
    a.close();
    b.close();
  });

  it('finishes the snapshot and keeps serving when the waiting client disconnects', async () => {
    const a = await SkyClient.connect(snappy.port);
    const b = await SkyClient.connect(snappy.port);
    a.send(query('MKSNAP', 'abandoned'));
    await saveStarted(snappy);
    a.close();
    expect(await b.run('HEYA')).toBe(one(str('HEY!')));
    // Until the abandoned snapshot has finished, the name answers err-snapshot-busy; then it is taken.
    const seen = new Set<string>();
    await eventually(async () => {
      const reply = await b.run('MKSNAP', 'abandoned');
      seen.add(reply);
      return reply === one(err('duplicate-snapshot'));
    }, 10_000);
    expect([...seen].filter((reply) => reply !== BUSY && reply !== one(err('duplicate-snapshot')))).toEqual([]);
    expect(existsSync(join(snappy.dataDir, 'rsnap', 'abandoned'))).toBe(true);
    b.close();
  });
});
