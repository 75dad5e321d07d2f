/**
 * The RESP server family against a real frostkv over real sockets (ioredis and a raw RESP2 /
 * RESP3 client): INFO's sections and fields, the per-command and per-error statistics and
 * CONFIG RESETSTAT, CONFIG GET / SET with Redis 7.0's texts, TIME, COMMAND GETKEYSANDFLAGS
 * and COMMAND LIST filters. Expected texts and shapes are Redis 7.0.15's (checked against a
 * real redis-server 7.0.15).
 */

import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ValueType } from '../../../src/engine/value.js';
import { startInProcess, type InProcessServer } from '../../support/server.js';
import { RawClient, show, type Reply } from './raw.js';
import { errorOf } from './client-helpers.js';

function client(port: number): Redis {
  return new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableReadyCheck: false });
}

/** INFO text as [section title, lines] in the order written; checks every line's shape. */
function sectionsOf(text: string): Array<[string, Map<string, string>]> {
  const out: Array<[string, Map<string, string>]> = [];
  for (const line of text.split('\r\n')) {
    if (line === '') continue;
    if (line.startsWith('# ')) {
      out.push([line.slice(2), new Map()]);
      continue;
    }
    const colon = line.indexOf(':');
    const current = out.at(-1);
    if (current === undefined || colon <= 0) throw new Error(`bad INFO line ${JSON.stringify(line)}`);
    current[1].set(line.slice(0, colon), line.slice(colon + 1));
  }
  return out;
}

async function infoOf(r: Redis, ...sections: string[]): Promise<Array<[string, Map<string, string>]>> {
  return sectionsOf((await r.call('INFO', ...sections)) as string);
}

const kDefaultTitles = ['Server', 'Clients', 'Memory', 'Persistence', 'Stats', 'Replication', 'CPU', 'Modules', 'Errorstats', 'Cluster', 'Keyspace'];
const kAllTitles = ['Server', 'Clients', 'Memory', 'Persistence', 'Stats', 'Replication', 'CPU', 'Modules', 'Commandstats', 'Errorstats', 'Latencystats', 'Cluster', 'Keyspace'];

let server: InProcessServer;
let port: number;
let r: Redis;

beforeAll(async () => {
  server = await startInProcess({}, { resp: true });
  port = server.respPort as number;
});

afterAll(async () => {
  await server.stop();
});

beforeEach(async () => {
  r?.disconnect();
  r = client(port);
  await r.connect();
  await r.flushall();
  await r.config('RESETSTAT');
});

describe('INFO', () => {
  it('answers Redis 7.0 default sections without arguments and for `default`; `all` and `everything` add commandstats and latencystats', async () => {
    for (const args of [[], ['default'], ['DEFAULT']]) expect((await infoOf(r, ...args)).map(([title]) => title), args.join()).toEqual(kDefaultTitles);
    for (const word of ['all', 'everything', 'cpu all', 'all server']) expect((await infoOf(r, ...word.split(' '))).map(([title]) => title), word).toEqual(kAllTitles);
  });

  it('answers only the sections asked, in Redis order, once each, case-insensitively; unknown names add nothing', async () => {
    expect((await infoOf(r, 'cpu')).map(([t]) => t)).toEqual(['CPU']);
    expect((await infoOf(r, 'cpu', 'sentinel')).map(([t]) => t)).toEqual(['CPU']);
    expect((await infoOf(r, 'commandSTATS')).map(([t]) => t)).toEqual(['Commandstats']);
    expect((await infoOf(r, 'keyspace', 'server', 'SERVER')).map(([t]) => t)).toEqual(['Server', 'Keyspace']);
    expect((await infoOf(r, 'cpu', 'default')).map(([t]) => t)).toEqual(kDefaultTitles);
    expect(await r.call('INFO', 'no-such-section')).toBe('');
  });

  it('reports CPU time as seconds with six decimals, and replication as a master without replicas', async () => {
    const [[, cpu]] = (await infoOf(r, 'cpu')) as [[string, Map<string, string>]];
    for (const field of ['used_cpu_sys', 'used_cpu_user', 'used_cpu_sys_children', 'used_cpu_user_children']) expect(cpu.get(field), field).toMatch(/^\d+\.\d{6}$/);
    expect(Number(cpu.get('used_cpu_user'))).toBeGreaterThan(0);
    const [[, replication]] = (await infoOf(r, 'replication')) as [[string, Map<string, string>]];
    expect(replication.get('role')).toBe('master');
    expect(replication.get('connected_slaves')).toBe('0');
    expect(replication.get('master_repl_offset')).toBe('0');
    expect(replication.get('master_replid')).toMatch(/^[0-9a-f]{40}$/);
  });

  it('keyspace lists every database in use with its keys and the keys that expire', async () => {
    await r.set('a', '1');
    await r.set('b', '2', 'PX', 60_000);
    await r.select(3);
    await r.set('c', '3');
    const [[, keyspace]] = (await infoOf(r, 'keyspace')) as [[string, Map<string, string>]];
    expect([...keyspace]).toEqual([
      ['db0', 'keys=2,expires=1,avg_ttl=0'],
      ['db3', 'keys=1,expires=0,avg_ttl=0'],
    ]);
  });

  it('is a verbatim string in RESP3 and a bulk string in RESP2', async () => {
    const raw = await RawClient.connect(port);
    try {
      const two = await raw.call('INFO', 'cluster');
      expect(two).toEqual({ t: '$', v: Buffer.from('# Cluster\r\ncluster_enabled:0\r\n') });
      expect((await raw.call('HELLO', '3')).t).toBe('%');
      const three = await raw.call('INFO', 'cluster');
      expect(three).toEqual({ t: '=', v: { format: 'txt', text: Buffer.from('# Cluster\r\ncluster_enabled:0\r\n') } });
    } finally {
      raw.socket.destroy();
    }
  });
});

function cmdstat(text: string, name: string): string | undefined {
  return sectionsOf(text)[0]?.[1].get(`cmdstat_${name}`);
}

describe('INFO commandstats and errorstats', () => {
  it('count calls, failed calls (an error reply) and rejected calls (refused before running), and errors by prefix', async () => {
    await r.set('n', 'not a number');
    expect(await errorOf(r.incr('n'))).toBe('ERR value is not an integer or out of range');
    expect(await errorOf(r.call('GET'))).toBe("ERR wrong number of arguments for 'get' command");
    expect(await errorOf(r.call('NOSUCHCOMMAND'))).toMatch(/^ERR unknown command 'NOSUCHCOMMAND'/);
    const list = Buffer.from('l');
    server.server.db.engine.table('default:default').writeRange('upsert', list, 0, 1, Buffer.from([0x90]), 0, 1, 0, ValueType.list);
    expect(await errorOf(r.get('l'))).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
    const stats = (await r.call('INFO', 'commandstats')) as string;
    expect(cmdstat(stats, 'set')).toMatch(/^calls=1,usec=\d+,usec_per_call=\d+\.\d{2},rejected_calls=0,failed_calls=0$/);
    expect(cmdstat(stats, 'incr')).toMatch(/^calls=1,usec=\d+,usec_per_call=\d+\.\d{2},rejected_calls=0,failed_calls=1$/);
    expect(cmdstat(stats, 'get')).toMatch(/^calls=1,usec=\d+,usec_per_call=\d+\.\d{2},rejected_calls=1,failed_calls=1$/);
    expect(cmdstat(stats, 'nosuchcommand')).toBeUndefined();
    // Counted after it reset the counters, as Redis does.
    expect(cmdstat(stats, 'config|resetstat')).toMatch(/^calls=1,/);
    const [[, errors]] = (await infoOf(r, 'errorstats')) as [[string, Map<string, string>]];
    expect([...errors]).toEqual([
      ['errorstat_ERR', 'count=3'],
      ['errorstat_WRONGTYPE', 'count=1'],
    ]);
    const [[, statsSection]] = (await infoOf(r, 'stats')) as [[string, Map<string, string>]];
    expect(statsSection.get('total_error_replies')).toBe('4');
  });

  it('counts the commands EXEC runs as themselves, and a subcommand by its full name', async () => {
    const multi = r.multi();
    multi.set('k', 'v');
    multi.incr('k');
    await multi.exec();
    await r.config('GET', 'port');
    const stats = (await r.call('INFO', 'commandstats')) as string;
    for (const name of ['multi', 'exec', 'set', 'config|get']) expect(cmdstat(stats, name), name).toMatch(/^calls=1,.*failed_calls=0$/);
    expect(cmdstat(stats, 'incr')).toMatch(/^calls=1,.*failed_calls=1$/);
  });

  it('instantaneous_ops_per_sec follows the recent command rate', async () => {
    for (let round = 0; round < 4; round++) {
      const pipeline = r.pipeline();
      for (let i = 0; i < 200; i++) pipeline.ping();
      await pipeline.exec();
      await new Promise((resolve) => setTimeout(resolve, 120));
    }
    const [[, stats]] = (await infoOf(r, 'stats')) as [[string, Map<string, string>]];
    // 800 commands over about half a second of samples; at least a few hundred per second.
    expect(Number(stats.get('instantaneous_ops_per_sec'))).toBeGreaterThan(200);
  });

  it('CONFIG RESETSTAT zeroes the command, error and connection counters', async () => {
    await errorOf(r.call('GET'));
    await r.config('RESETSTAT');
    expect(cmdstat((await r.call('INFO', 'commandstats')) as string, 'get')).toBeUndefined();
    const [[, errors]] = (await infoOf(r, 'errorstats')) as [[string, Map<string, string>]];
    expect(errors.size).toBe(0);
    const [[, stats]] = (await infoOf(r, 'stats')) as [[string, Map<string, string>]];
    expect(stats.get('total_error_replies')).toBe('0');
    expect(stats.get('keyspace_misses')).toBe('0');
  });
});

describe('CONFIG', () => {
  it('accepts Redis encoding and tuning parameters and answers them by name and by alias', async () => {
    expect(await r.config('SET', 'hash-max-ziplist-value', '10')).toBe('OK');
    expect(await r.config('GET', 'hash-max-listpack-value')).toEqual(['hash-max-listpack-value', '10']);
    expect(await r.config('GET', 'hash-max-ziplist-value')).toEqual(['hash-max-ziplist-value', '10']);
    expect(await r.call('CONFIG', 'SET', 'zset-max-ziplist-entries', '16', 'lazyfree-lazy-user-del', 'YES', 'list-max-ziplist-size', '-3', 'maxmemory', '1kb')).toBe('OK');
    expect(await r.call('CONFIG', 'GET', 'zset-max-listpack-entries', 'lazyfree-lazy-user-del', 'list-max-listpack-size', 'maxmemory')).toEqual([
      'zset-max-listpack-entries', '16', 'lazyfree-lazy-user-del', 'yes', 'list-max-listpack-size', '-3', 'maxmemory', '1024',
    ]);
    await r.config('SET', 'maxmemory', '0');
  });

  it('changes all the parameters or none, with Redis 7.0 error texts', async () => {
    await r.config('SET', 'maxmemory', '10000002');
    expect(await errorOf(r.call('CONFIG', 'SET', 'maxmemory', '10000001', 'maxmemory-clients', '200%', 'client-query-buffer-limit', 'invalid'))).toBe(
      "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100",
    );
    expect(await r.config('GET', 'maxmemory')).toEqual(['maxmemory', '10000002']);
    expect(await errorOf(r.call('CONFIG', 'SET', 'maxmemory', '1', 'maxmemory', '2'))).toBe("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter");
    expect(await errorOf(r.call('CONFIG', 'SET', 'daemonize', 'yes'))).toBe("ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config");
    expect(await errorOf(r.call('CONFIG', 'SET', 'maxmemory', '5', 'no-such-option', '1'))).toBe("ERR Unknown option or number of arguments for CONFIG SET - 'no-such-option'");
    expect(await errorOf(r.call('CONFIG', 'SET', 'activerehashing', 'maybe'))).toBe("ERR CONFIG SET failed (possibly related to argument 'activerehashing') - argument must be 'yes' or 'no'");
    expect(await errorOf(r.call('CONFIG', 'SET', 'hz', 'ten'))).toBe("ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer");
    expect(await errorOf(r.call('CONFIG', 'SET', 'maxmemory', 'lots'))).toBe("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value");
    expect(await errorOf(r.call('CONFIG', 'SET', 'active-expire-effort', '11'))).toBe("ERR CONFIG SET failed (possibly related to argument 'active-expire-effort') - argument must be between 1 and 10 inclusive");
    expect(await errorOf(r.call('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru'))).toBe("ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: noeviction");
    expect(await errorOf(r.call('CONFIG', 'SET', 'maxmemory', '1', 'hz'))).toBe('ERR syntax error');
    expect(await r.config('GET', 'maxmemory')).toEqual(['maxmemory', '10000002']);
    await r.config('SET', 'maxmemory', '0');
  });

  it("accepts frostkv's own settings only at the value in force", async () => {
    expect(await r.config('SET', 'port', String(port))).toBe('OK');
    expect(await errorOf(r.config('SET', 'port', String(port + 1)))).toBe("ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config");
    const [, save] = (await r.config('GET', 'save')) as [string, string];
    expect(await r.config('SET', 'save', save)).toBe('OK');
    expect(await errorOf(r.config('SET', 'appendonly', 'yes'))).toBe("ERR CONFIG SET failed (possibly related to argument 'appendonly') - can't set immutable config");
  });

  it('every parameter CONFIG GET * answers can be set to the value it answered (Redis skips the immutable ones)', async () => {
    const all = (await r.config('GET', '*')) as string[];
    for (let i = 0; i < all.length; i += 2) {
      const [name, value] = [all[i] as string, all[i + 1] as string];
      if (['daemonize', 'databases', 'replicaof', 'slaveof', 'cluster-enabled'].includes(name)) continue;
      expect(await r.config('SET', name, value), name).toBe('OK');
    }
    expect(await r.config('GET', '*')).toEqual(all);
  });

  it('answers hidden parameters by exact name only, and names and aliases matched by a pattern, once each', async () => {
    const all = (await r.config('GET', '*')) as string[];
    expect(all.filter((_, i) => i % 2 === 0)).not.toContain('key-load-delay');
    expect(await r.config('GET', 'KEY-LOAD-DELAY')).toEqual(['KEY-LOAD-DELAY', '0']);
    expect(await r.config('GET', 'MAXMEM*-P*')).toEqual(['maxmemory-policy', 'noeviction']);
    const res = (await r.call('CONFIG', 'GET', 'maxmemory', 'maxmemory*', 'bind', '*of')) as string[];
    const names = res.filter((_, i) => i % 2 === 0);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['maxmemory', 'maxmemory-samples', 'maxmemory-clients', 'bind', 'replicaof', 'slaveof']));
  });

  it('is a map in RESP3', async () => {
    const raw = await RawClient.connect(port);
    try {
      await raw.call('HELLO', '3');
      expect(show(await raw.call('CONFIG', 'GET', 'appendonly'))).toBe(show({ t: '%', v: [[{ t: '$', v: Buffer.from('appendonly') }, { t: '$', v: Buffer.from('no') }]] }));
    } finally {
      raw.socket.destroy();
    }
  });

  it('REWRITE answers as Redis does without a configuration file', async () => {
    expect(await errorOf(r.config('REWRITE'))).toBe('ERR The server is running without a config file');
  });
});

describe('TIME, COMMAND GETKEYSANDFLAGS, COMMAND LIST', () => {
  it('TIME answers Unix seconds and microseconds as bulk strings', async () => {
    const [seconds, micros] = (await r.call('TIME')) as [string, string];
    expect(Math.abs(Number(seconds) - Date.now() / 1000)).toBeLessThan(5);
    expect(Number(micros)).toBeGreaterThanOrEqual(0);
    expect(Number(micros)).toBeLessThan(1_000_000);
    expect(await errorOf(r.call('TIME', 'x'))).toBe("ERR wrong number of arguments for 'time' command");
  });

  it('COMMAND GETKEYSANDFLAGS answers each key with its key-spec flags (a set in RESP3)', async () => {
    expect(await r.call('COMMAND', 'GETKEYSANDFLAGS', 'get', 'k1')).toEqual([['k1', ['RO', 'access']]]);
    expect(await r.call('COMMAND', 'GETKEYSANDFLAGS', 'mset', 'k1', 'v1', 'k2', 'v2')).toEqual([
      ['k1', ['OW', 'update']],
      ['k2', ['OW', 'update']],
    ]);
    // SET's flags depend on the line, as Redis's: an overwrite, or a read and update with GET.
    expect(await r.call('COMMAND', 'GETKEYSANDFLAGS', 'set', 'k1', 'v1')).toEqual([['k1', ['OW', 'update']]]);
    expect(await r.call('COMMAND', 'GETKEYSANDFLAGS', 'set', 'k1', 'v1', 'NX', 'get')).toEqual([['k1', ['RW', 'access', 'update']]]);
    // One key spec per key: RENAME's source is read and deleted, its destination overwritten.
    expect(await r.call('COMMAND', 'GETKEYSANDFLAGS', 'rename', 'a', 'b')).toEqual([
      ['a', ['RW', 'access', 'delete']],
      ['b', ['OW', 'update']],
    ]);
    expect(await r.call('COMMAND', 'GETKEYS', 'rename', 'a', 'b')).toEqual(['a', 'b']);
    expect(await errorOf(r.call('COMMAND', 'GETKEYSANDFLAGS', 'ping', 'x'))).toBe('ERR The command has no key arguments');
    const raw = await RawClient.connect(port);
    try {
      await raw.call('HELLO', '3');
      const reply = (await raw.call('COMMAND', 'GETKEYSANDFLAGS', 'get', 'k1')) as Reply;
      expect(show(reply)).toBe(show({ t: '*', v: [{ t: '*', v: [{ t: '$', v: Buffer.from('k1') }, { t: '~', v: [{ t: '+', v: 'RO' }, { t: '+', v: 'access' }] }] }] }));
    } finally {
      raw.socket.destroy();
    }
  });

  it('COMMAND LIST FILTERBY PATTERN matches commands and subcommands', async () => {
    expect(await r.call('COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'set')).toEqual(['set']);
    const configs = (await r.call('COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'config|*re*')) as string[];
    expect(configs.sort()).toEqual(['config|resetstat', 'config|rewrite']);
    expect(await r.call('COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'cl*help')).toEqual(['client|help']);
  });
});

describe('MEMORY USAGE', () => {
  it('estimates a key from the engine: a string, a big value, a large hash; null when missing', async () => {
    const server = await startInProcess({}, { resp: true });
    const r = new Redis({ host: '127.0.0.1', port: server.respPort as number, lazyConnect: true, maxRetriesPerRequest: 0 });
    await r.connect();
    try {
      await r.set('small', 'v');
      await r.set('big', 'x'.repeat(100_000));
      const fields: string[] = [];
      for (let i = 0; i < 1000; i++) fields.push(`f${i}`, `v${i}`);
      await r.hset('h', ...fields);
      const small = (await r.call('MEMORY', 'USAGE', 'small')) as number;
      const big = (await r.call('MEMORY', 'USAGE', 'big')) as number;
      const hash = (await r.call('MEMORY', 'USAGE', 'h', 'SAMPLES', '5')) as number;
      expect(small).toBeGreaterThan(0);
      expect(small).toBeLessThan(64);
      expect(big).toBeGreaterThan(100_000);
      expect(hash).toBeGreaterThan(100_000); // its own segments
      expect(await r.call('MEMORY', 'USAGE', 'missing')).toBeNull();
      await expect(r.call('MEMORY', 'USAGE', 'h', 'SAMPLES')).rejects.toThrow('ERR syntax error');
      await expect(r.call('MEMORY', 'NOPE')).rejects.toThrow(/unknown subcommand/);
    } finally {
      r.disconnect();
      await server.stop();
    }
  });
});

describe('maxmemory (noeviction)', () => {
  it('refuses denyoom commands with -OOM above maxmemory, keeps reads and deletes, and aborts EXEC queuing one', async () => {
    const server = await startInProcess({}, { resp: true });
    const r = new Redis({ host: '127.0.0.1', port: server.respPort as number, lazyConnect: true, maxRetriesPerRequest: 0 });
    const admin = new Redis({ host: '127.0.0.1', port: server.respPort as number, lazyConnect: true, maxRetriesPerRequest: 0 });
    await r.connect();
    await admin.connect();
    try {
      await r.set('x', 'value');
      expect(await r.call('MULTI')).toBe('OK');
      expect(await r.call('SET', 'y', '1')).toBe('QUEUED');
      await admin.config('SET', 'maxmemory', '1');
      await expect(r.call('EXEC')).rejects.toThrow(/EXECABORT .*OOM command not allowed/);
      await expect(r.set('z', '1')).rejects.toThrow("OOM command not allowed when used memory > 'maxmemory'.");
      await expect(r.hset('h', 'f', 'v')).rejects.toThrow(/^OOM/);
      expect(await r.get('x')).toBe('value');
      expect(await r.del('x')).toBe(1);
      const replies = await r.multi().get('x').ping().exec();
      expect(replies).toEqual([[null, null], [null, 'PONG']]);
      await admin.config('SET', 'maxmemory', '0');
      expect(await r.set('z', '1')).toBe('OK');
    } finally {
      r.disconnect();
      admin.disconnect();
      await server.stop();
    }
  });
});
