/**
 * Cluster-wide named snapshots (src/cli/cluster.ts) against three real frostkv shards: the
 * real CLI (`frostkv snapshots create|list|restore` through tsx) and its exported functions,
 * shards in this process for create/list, stopped data directories and restarted shards for
 * restore; a shard that is down, one that never answers, one that needs a password.
 */

import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClusterSnapshot, isClusterCommandLine, kClusterSnapshotFlags, parseClusterCommand, parseShardAddress } from '../../src/cli/cluster.js';
import type { Output } from '../../src/cli/snapshots.js';
import { createWorkerPool } from '../../src/persist/worker-pool.js';
import { verifySave } from '../../src/persist/restore.js';
import { ErrorCode } from '../../src/util/errors.js';
import { SkyClient } from '../support/skyhash.js';
import { freePort, spawnCli, startInProcess, type InProcessServer } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { ioredis } from '../server/resp/client-helpers.js';

const kShards = 3;
const kKeysPerShard = 300;
const kCliTimeoutMs = 60_000;

function hostsOf(shards: readonly InProcessServer[]): string {
  return shards.map((shard) => `127.0.0.1:${shard.respPort}`).join(',');
}

async function withClient<T>(shard: InProcessServer, body: (r: Redis) => Promise<T>): Promise<T> {
  const r = ioredis(shard.respPort as number);
  await r.connect();
  try {
    return await body(r);
  } finally {
    r.disconnect();
  }
}

/** Different data on each shard: `s<i>:k<j>` = `v<j>@<i>`. */
async function fill(shard: InProcessServer, index: number): Promise<void> {
  await withClient(shard, async (r) => {
    const pipeline = r.pipeline();
    for (let j = 0; j < kKeysPerShard; j++) pipeline.set(`s${index}:k${j}`, `v${j}@${index}`);
    await pipeline.exec();
  });
}

/** Every key and value a shard serves. */
async function contents(shard: InProcessServer): Promise<Record<string, string>> {
  return withClient(shard, async (r) => {
    const keys = ((await r.keys('*')) as string[]).sort();
    const values = keys.length === 0 ? [] : await r.mget(...keys);
    return Object.fromEntries(keys.map((key, i) => [key, values[i] as string]));
  });
}

async function verifiedRecords(dir: string): Promise<number | null> {
  const pool = createWorkerPool(1);
  try {
    const report = await verifySave(pool, dir);
    return report.ok ? report.records : null;
  } finally {
    await pool.destroy();
  }
}

function capture(): Output & { text(): string } {
  const lines: string[] = [];
  return { out: (line) => lines.push(line), err: (line) => lines.push(line), text: () => lines.join('\n') };
}

describe('frostkv snapshots create / list --hosts (three running shards)', () => {
  let shards: InProcessServer[] = [];

  beforeAll(async () => {
    shards = await Promise.all(Array.from({ length: kShards }, () => startInProcess({ workers: { threads: 1 } }, { resp: true })));
    await Promise.all(shards.map((shard, i) => fill(shard, i)));
  });

  afterAll(async () => {
    await Promise.all(shards.map((shard) => shard.stop()));
  });

  it('takes the same named snapshot on every shard (exit 0, one OK line per shard), each verifying with its own data', async () => {
    const run = spawnCli(['snapshots', 'create', '--hosts', hostsOf(shards), '--name', 'n1']);
    expect((await run.exited).code).toBe(0);
    const out = run.output();
    for (const shard of shards) expect(out).toMatch(new RegExp(`^127\\.0\\.0\\.1:${shard.respPort}\\s+OK\\s+rsnap/n1$`, 'm'));
    expect(out).toMatch(/snapshot n1 is complete: on all 3 shard\(s\)/);
    expect(out).toMatch(/the cuts are not one instant across shards/);
    for (const shard of shards) expect(await verifiedRecords(join(shard.dataDir, 'rsnap', 'n1'))).toBe(kKeysPerShard);
  }, kCliTimeoutMs);

  it('lists names x shards and marks a name missing on some shard as INCOMPLETE', async () => {
    await withClient(shards[0] as InProcessServer, (r) => r.call('MKSNAP', 'only-first'));
    await withClient(shards[2] as InProcessServer, (r) => r.call('MKSNAP', 'only-first'));
    const run = spawnCli(['snapshots', 'list', '--hosts', hostsOf(shards)]);
    expect((await run.exited).code).toBe(0);
    const lines = run.output().trim().split('\n');
    const [a, b, c] = shards.map((shard) => `127\\.0\\.0\\.1:${shard.respPort}`);
    expect(lines[0]).toMatch(new RegExp(`^NAME\\s+${a}\\s+${b}\\s+${c}\\s+SET$`));
    expect(lines).toContainEqual(expect.stringMatching(/^n1\s+yes\s+yes\s+yes\s+complete$/));
    expect(lines).toContainEqual(expect.stringMatching(/^only-first\s+yes\s+-\s+yes\s+INCOMPLETE \(2\/3\)$/));
  }, kCliTimeoutMs);

  it('reports a shard that is down (exit 1) while the others take and keep the snapshot, and says how to finish the set', async () => {
    const down = `127.0.0.1:${await freePort()}`;
    const run = spawnCli(['snapshots', 'create', '--hosts', `${hostsOf(shards)},${down}`, '--name', 'n2']);
    expect((await run.exited).code).toBe(1);
    const out = run.output();
    expect(out).toMatch(new RegExp(`^${down.replace(/\./g, '\\.')}\\s+FAILED\\s+UNREACHABLE cannot connect: ECONNREFUSED$`, 'm'));
    expect(out).toMatch(/snapshot n2 is INCOMPLETE: on 3 of 4 shard\(s\)/);
    expect(out).toMatch(/the shards that succeeded keep their snapshot n2/);
    expect(out).toContain(`frostkv snapshots create --hosts ${down} --name n2`);
    expect(out).toMatch(/next: take a new set under another name on every shard, or complete this one/);
    for (const shard of shards) expect(await verifiedRecords(join(shard.dataDir, 'rsnap', 'n2'))).toBe(kKeysPerShard);

    const listed = spawnCli(['snapshots', 'list', '--hosts', `${hostsOf(shards)},${down}`]);
    expect((await listed.exited).code).toBe(1);
    expect(listed.output()).toMatch(/^n2\s+yes\s+yes\s+yes\s+\?\s+unknown \(3\/4, 1 not answering\)$/m);
    expect(listed.output()).toMatch(/error: 127\.0\.0\.1:\d+: UNREACHABLE/);
  }, kCliTimeoutMs);

  it('a rerun with the same name fails with SNAPEXISTS on the shards that hold it and says they held it already', async () => {
    const output = capture();
    const hosts = shards.map((shard) => parseShardAddress(`127.0.0.1:${shard.respPort}`));
    expect(await createClusterSnapshot(hosts, 'n1', { password: null, replyTimeoutMs: 10_000 }, output)).toBe(1);
    expect(output.text()).toMatch(/FAILED\s+SNAPEXISTS .*rsnap\/n1 already exists/);
    expect(output.text()).toMatch(/already held a snapshot named n1 from before: it is not part of this set/);
    expect(output.text()).not.toMatch(/frostkv snapshots create --hosts/);
    expect(output.text()).toMatch(/next: take a new set under another name on every shard$/m);
  });

  it('gives up on a shard that accepts the connection but never answers, within the reply timeout', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const output = capture();
      const hosts = [parseShardAddress(`127.0.0.1:${shards[0]?.respPort}`), parseShardAddress(`127.0.0.1:${port}`)];
      const started = Date.now();
      expect(await createClusterSnapshot(hosts, 'n3', { password: null, replyTimeoutMs: 500 }, output)).toBe(1);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(output.text()).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}\\s+FAILED\\s+TIMEOUT no reply to MKSNAP within 500 ms`));
      expect(output.text()).toMatch(/a shard that timed out may still finish its snapshot/);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('refuses bad input with exit 2 before contacting any shard', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--hosts', 'localhost', '--name', 'x'], /`localhost` is not a shard address: expected host:port/],
      [['--hosts', '127.0.0.1:1,,127.0.0.1:2', '--name', 'x'], /`--hosts` has an empty entry/],
      [['--hosts', `127.0.0.1:${shards[0]?.respPort},127.0.0.1:${shards[0]?.respPort}`, '--name', 'x'], /names the same shard twice/],
      [['--hosts', hostsOf(shards)], /needs --name/],
      [['--hosts', hostsOf(shards), '--name', '../up'], /unsafe snapshot name "\.\.\/up"/],
    ];
    const runs = cases.map(([args]) => spawnCli(['snapshots', 'create', ...args]));
    for (const [i, run] of runs.entries()) {
      expect((await run.exited).code).toBe(2);
      expect(run.output()).toMatch((cases[i] as [string[], RegExp])[1]);
    }
    for (const shard of shards) expect(readdirSync(join(shard.dataDir, 'rsnap'))).not.toContain('x');
  }, kCliTimeoutMs);
});

describe('parsing the cluster command line', () => {
  const parse = (...argv: string[]) => parseClusterCommand(['snapshots', ...argv], {}, '/work');
  const usageOf = (...argv: string[]): string => {
    try {
      parse(...argv);
    } catch (error) {
      expect((error as { code: string }).code).toBe(ErrorCode.configUsage);
      return (error as Error).message;
    }
    throw new Error('expected a usage error');
  };

  it('tells the cluster forms from the local ones', () => {
    expect(isClusterCommandLine(['snapshots', 'create'])).toBe(true);
    expect(isClusterCommandLine(['snapshots', 'list', '--hosts=a:1'])).toBe(true);
    expect(isClusterCommandLine(['snapshots', 'restore', '--name', 'n'])).toBe(true);
    expect(isClusterCommandLine(['snapshots', 'list'])).toBe(false);
    expect(isClusterCommandLine(['snapshots', 'list', '--data-dir', 'd'])).toBe(false);
    expect(isClusterCommandLine(['snapshots', 'restore', 'dir', '--data-dir', 'd'])).toBe(false);
    expect(isClusterCommandLine(['snapshots', 'create', '--help'])).toBe(false);
    expect(kClusterSnapshotFlags).toContain('--hosts');
  });

  it('parses hosts (IPv6 in brackets), the name, the password (flag over FROSTKV_PASSWORD) and the timeout', () => {
    const command = parseClusterCommand(['snapshots', 'create', '--hosts', '10.0.0.5:6379,[::1]:7000', '--name=a/b', '--timeout', '2.5'], { FROSTKV_PASSWORD: 'env' }, '/');
    expect(command).toEqual({
      kind: 'create',
      hosts: [{ label: '10.0.0.5:6379', host: '10.0.0.5', port: 6379 }, { label: '[::1]:7000', host: '::1', port: 7000 }],
      name: 'a/b',
      options: { password: 'env', replyTimeoutMs: 2500 },
    });
    expect(parse('list', '--hosts', 'h:1', '--password', 'p')).toMatchObject({ kind: 'list', options: { password: 'p' } });
    expect(parse('restore', '--name', 'n', '--data-dirs', 'a,b')).toEqual({ kind: 'restore', name: 'n', dataDirs: ['/work/a', '/work/b'] });
  });

  it('refuses every malformed line with a usage error naming the problem', () => {
    expect(usageOf('create', '--hosts', 'h:0', '--name', 'n')).toMatch(/port 1-65535/);
    expect(usageOf('create', '--hosts', 'h:65536', '--name', 'n')).toMatch(/not a shard address/);
    expect(usageOf('create', '--hosts', 'h :1', '--name', 'n')).toMatch(/not a shard address/);
    expect(usageOf('create', '--hosts', '', '--name', 'n')).toMatch(/needs a non-empty value/);
    expect(usageOf('create', '--hosts', 'H:1,h:1', '--name', 'n')).toMatch(/same shard twice: `H:1` and `h:1`/);
    expect(usageOf('create', '--name', 'n')).toMatch(/needs --hosts/);
    expect(usageOf('create', '--hosts', 'h:1', '--name')).toMatch(/needs a value/);
    expect(usageOf('create', '--hosts', 'h:1', '--name', 'n', '--name', 'm')).toMatch(/given more than once/);
    expect(usageOf('create', '--hosts', 'h:1', '--name', 'n', '--data-dirs', 'd')).toMatch(/`--data-dirs` does not apply/);
    expect(usageOf('create', '--hosts', 'h:1', '--name', 'n', '--timeout', '0')).toMatch(/greater than 0/);
    expect(usageOf('list', '--hosts', 'h:1', '--name', 'n')).toMatch(/`--name` does not apply/);
    expect(usageOf('restore', '--name', 'n')).toMatch(/needs --data-dirs/);
    expect(usageOf('restore', '--data-dirs', 'a,b')).toMatch(/needs --name/);
    expect(usageOf('restore', '--name', 'n', '--data-dirs', 'a,./a')).toMatch(/same data directory twice/);
    expect(usageOf('restore', 'dir', '--name', 'n')).toMatch(/restore takes either a folder/);
    expect(usageOf('restore', '--name', '.x', '--data-dirs', 'a')).toMatch(/unsafe snapshot name/);
  });
});

describe('shards that require a password', () => {
  const kOrigin = 'Q7mZp2Lr8XvB4nT6yH1sK9dF3gJ5wC0aE2uR4iOo';

  it('sends AUTH first with --password or FROSTKV_PASSWORD; without it each shard reports NOAUTH with a hint', async () => {
    const shards = await Promise.all([0, 1].map(() => startInProcess({ auth: { originKey: kOrigin }, workers: { threads: 1 } }, { resp: true })));
    try {
      const tokens: string[] = [];
      for (const shard of shards) {
        const sky = await SkyClient.connect(shard.port);
        tokens.push((await sky.run('AUTH', 'CLAIM', kOrigin)).split('\n')[2] as string);
        sky.close();
      }
      // One root token for both shards is not possible (each claims its own), so the second
      // shard's failure with the first one's token shows AUTH is really checked.
      const first = shards[0] as InProcessServer;
      const anonymous = spawnCli(['snapshots', 'create', '--hosts', `127.0.0.1:${first.respPort}`, '--name', 'locked']);
      expect((await anonymous.exited).code).toBe(1);
      expect(anonymous.output()).toMatch(/FAILED\s+NOAUTH Authentication required\. \(give the shards' password with --password or FROSTKV_PASSWORD\)/);

      const withEnv = spawnCli(['snapshots', 'create', '--hosts', hostsOf(shards), '--name', 'locked'], { env: { FROSTKV_PASSWORD: tokens[0] } });
      expect((await withEnv.exited).code).toBe(1);
      expect(withEnv.output()).toMatch(new RegExp(`127\\.0\\.0\\.1:${first.respPort}\\s+OK`));
      expect(withEnv.output()).toMatch(new RegExp(`127\\.0\\.0\\.1:${shards[1]?.respPort}\\s+FAILED\\s+AUTH refused: WRONGPASS`));
      expect(existsSync(join(first.dataDir, 'rsnap', 'locked'))).toBe(true);

      const withFlag = spawnCli(['snapshots', 'list', '--hosts', `127.0.0.1:${first.respPort}`, '--password', tokens[0] as string]);
      expect((await withFlag.exited).code).toBe(0);
      expect(withFlag.output()).toMatch(/^locked\s+yes\s+complete$/m);
    } finally {
      await Promise.all(shards.map((shard) => shard.stop()));
    }
  }, kCliTimeoutMs);
});

describe('frostkv snapshots restore --name --data-dirs (stopped shards)', () => {
  let dataDirs: string[] = [];
  /** What each shard served when n1 was taken. */
  let atSnapshot: Array<Record<string, string>> = [];

  beforeAll(async () => {
    dataDirs = Array.from({ length: kShards }, () => tempDir());
    const shards = await Promise.all(dataDirs.map((dataDir) => startInProcess({ server: { dataDir }, workers: { threads: 1 } }, { resp: true })));
    try {
      await Promise.all(shards.map((shard, i) => fill(shard, i)));
      const run = spawnCli(['snapshots', 'create', '--hosts', hostsOf(shards), '--name', 'n1']);
      expect((await run.exited).code).toBe(0);
      atSnapshot = await Promise.all(shards.map(contents));
      // Change every shard after the snapshot and make that the live save.
      await Promise.all(
        shards.map((shard, i) =>
          withClient(shard, async (r) => {
            await r.set(`s${i}:k0`, 'changed');
            await r.del(`s${i}:k1`);
            await r.set(`s${i}:after`, 'new');
            expect(await r.call('SAVE')).toBe('OK');
          }),
        ),
      );
    } finally {
      await Promise.all(shards.map((shard) => shard.stop()));
    }
  }, kCliTimeoutMs);

  /** The live save's MANIFEST of each data dir and whether it has backups: "nothing changed" means these stay. */
  function liveState(): string[] {
    return dataDirs.map((dir) => `${readFileSync(join(dir, 'ks', 'MANIFEST')).toString('hex')} backups:${existsSync(join(dir, 'backups'))}`);
  }

  it('refuses while one shard is running, changing nothing on any shard', async () => {
    const before = liveState();
    const running = await startInProcess({ server: { dataDir: dataDirs[1] as string }, workers: { threads: 1 } }, { resp: true });
    try {
      const run = spawnCli(['snapshots', 'restore', '--name', 'n1', '--data-dirs', dataDirs.join(',')]);
      expect((await run.exited).code).toBe(1);
      expect(run.output()).toMatch(new RegExp(`${dataDirs[1]}\\s+REFUSED\\s+.*`));
      expect(run.output()).toMatch(/nothing was changed on any shard/);
    } finally {
      await running.stop();
    }
    expect(liveState()).toEqual(before);
  }, kCliTimeoutMs);

  it("refuses when one shard's snapshot is missing or corrupt, changing nothing on any shard", async () => {
    const before = liveState();
    const missing = join(dataDirs[2] as string, 'rsnap', 'n1');
    const saved = join(dataDirs[2] as string, 'rsnap', 'n1-aside');
    renameSync(missing, saved);
    try {
      const run = spawnCli(['snapshots', 'restore', '--name', 'n1', '--data-dirs', dataDirs.join(',')]);
      expect((await run.exited).code).toBe(1);
      expect(run.output()).toMatch(new RegExp(`${missing}\\s+MISSING`));
      expect(run.output()).toMatch(/1 of 3 shard\(s\) lack a good snapshot; nothing was changed on any shard/);
    } finally {
      renameSync(saved, missing);
    }
    expect(liveState()).toEqual(before);

    const folder = join(dataDirs[0] as string, 'rsnap', 'n1', 'default', 'default');
    const part = join(folder, readdirSync(folder)[0] as string);
    const good = readFileSync(part);
    const bad = Buffer.from(good);
    bad[10] = (bad[10] as number) ^ 0x40;
    writeFileSync(part, bad);
    try {
      const run = spawnCli(['snapshots', 'restore', '--name', 'n1', '--data-dirs', dataDirs.join(',')]);
      expect((await run.exited).code).toBe(1);
      expect(run.output()).toMatch(/rsnap\/n1\s+BAD\s+.*checksum/);
      expect(run.output()).toMatch(/nothing was changed on any shard/);
    } finally {
      writeFileSync(part, good);
    }
    expect(liveState()).toEqual(before);
  }, kCliTimeoutMs);

  it('restores every shard from its own rsnap/n1; each restarted shard serves exactly the snapshotted data', async () => {
    const run = spawnCli(['snapshots', 'restore', '--name', 'n1', '--data-dirs', dataDirs.join(',')]);
    expect((await run.exited).code).toBe(0);
    for (const dir of dataDirs) expect(run.output()).toMatch(new RegExp(`^${dir}\\s+restored n1 \\(${kKeysPerShard} keys\\); the previous live save is in ${dir}/backups/`, 'm'));
    expect(run.output()).toMatch(/restored n1 on all 3 shard\(s\)/);
    for (const [i, dataDir] of dataDirs.entries()) {
      const shard = await startInProcess({ server: { dataDir }, workers: { threads: 1 } }, { resp: true });
      try {
        const served = await contents(shard);
        expect(Object.keys(served).length).toBe(kKeysPerShard);
        expect(served).toEqual(atSnapshot[i]);
      } finally {
        await shard.stop();
      }
    }
  }, kCliTimeoutMs);
});
