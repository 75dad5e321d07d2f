/**
 * frostkv as shards behind twemproxy (nutcracker 0.5.0): through the proxy, every command family
 * twemproxy forwards and frostkv implements answers byte for byte what one frostkv answers
 * directly (strings, bits, keys, expiry, hashes, the MGET / MSET / DEL / TOUCH / UNLINK fan-out,
 * pipelines, large and binary values); commands twemproxy forwards but frostkv lacks (lists,
 * sets, sorted sets, HyperLogLog, geo, scripts) come back as a clean error on a connection that
 * stays usable; what twemproxy itself answers (PING, QUIT) or refuses (it closes the
 * connection) is pinned so docs/scale-out.md stays true; `redis_db` selects the database.
 *
 * Three in-process shards and a fourth server as the single-server reference; nutcracker as a
 * real child process (skipped with a note when it is not installed, failing under CI).
 */

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startInProcess, type InProcessServer } from '../support/server.js';
import {
  ketamaContinuum,
  ketamaServerFor,
  kNutcrackerNote,
  kNutcrackerSkip,
  poolYaml,
  startNutcracker,
  type Nutcracker,
} from '../support/nutcracker.js';
import { encodeCommand, RawClient, show, type Reply } from '../server/resp/raw.js';

const kShardNames = ['shard0', 'shard1', 'shard2'];
const kBigValueBytes = 100 * 1024;

let shards: InProcessServer[] = [];
let reference: InProcessServer;
let proxy: Nutcracker;
const continuum = ketamaContinuum(kShardNames.map((name) => ({ name })));

function shardOf(key: string): InProcessServer {
  return shards[kShardNames.indexOf(ketamaServerFor(continuum, key))] as InProcessServer;
}

beforeAll(async () => {
  if (kNutcrackerSkip) return;
  const options = { workers: { threads: 1 } };
  const servers = await Promise.all([0, 1, 2, 3].map(() => startInProcess(options, { resp: true })));
  reference = servers[0] as InProcessServer;
  shards = servers.slice(1);
  const listenPort = await freePort();
  const pool = shards.map((shard, index) => ({ host: '127.0.0.1', port: shard.respPort as number, name: kShardNames[index] as string }));
  proxy = await startNutcracker(poolYaml({ servers: pool, listenPort }), listenPort);
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all([reference, ...shards].filter((server) => server !== undefined).map((server) => server.stop()));
});

type Command = Array<string | Buffer>;

/**
 * Eight keys per shard for the fan-out commands. twemproxy's fnv1a_64 is a 32-bit FNV-1a with a
 * small multiplier, so keys differing only in their last digit hash close together and often
 * land on one shard: the keys are picked by their ketama owner instead of by count.
 */
const fanKeys = pickKeysPerShard('fan:', 8);

function pickKeysPerShard(prefix: string, perShard: number): string[] {
  const picked = new Map<string, string[]>(kShardNames.map((name) => [name, []]));
  for (let i = 0; [...picked.values()].some((keys) => keys.length < perShard); i++) {
    const key = `${prefix}${i}`;
    const keys = picked.get(ketamaServerFor(continuum, key)) as string[];
    if (keys.length < perShard) keys.push(key);
  }
  // Interleaved: any three neighbours live on three different shards.
  const lists = [...picked.values()];
  return Array.from({ length: perShard * lists.length }, (_, i) => (lists[i % lists.length] as string[])[Math.floor(i / lists.length)] as string);
}

function script(): Command[] {
  const big = Buffer.alloc(kBigValueBytes, 0x61);
  big.write('\r\n$-1\r\n', 5000, 'latin1');
  const binary = Buffer.from([0x00, 0x0d, 0x0a, 0x24, 0x2d, 0x31, 0x0d, 0x0a, 0xff, 0x80]);
  const mset: string[] = fanKeys.flatMap((key, i) => [key, `value-${i}`]);
  const f = (i: number): string => fanKeys[i] as string;
  return [
    // strings
    ['SET', 's1', 'v1'], ['GET', 's1'], ['SET', 's1', 'v2', 'GET'], ['SET', 's2', '10', 'NX'], ['SET', 's2', '11', 'XX'],
    ['SET', 's1', 'v', 'BADOPTION'], ['SETNX', 's3', 'a'], ['SETNX', 's3', 'b'], ['GETSET', 's3', 'c'], ['APPEND', 's3', 'dd'],
    ['STRLEN', 's3'], ['GETRANGE', 's3', '0', '1'], ['SETRANGE', 's3', '1', 'ZZ'], ['GET', 's3'], ['GETDEL', 's3'], ['GET', 's3'],
    ['INCR', 'n1'], ['INCRBY', 'n1', '41'], ['DECR', 'n1'], ['DECRBY', 'n1', '-2'], ['INCR', 's1'], ['INCRBY', 'n1', 'x'],
    ['INCRBYFLOAT', 'f1', '1.5'], ['INCRBYFLOAT', 'f1', '-0.25'], ['INCRBYFLOAT', 'f1', '1e400'],
    ['SET', 'bin', binary], ['GET', 'bin'], ['SET', 'big', big], ['GET', 'big'], ['STRLEN', 'big'], ['GET', 'nosuchkey'],
    // bits
    ['SETBIT', 'b1', '7', '1'], ['SETBIT', 'b1', '100', '1'], ['GETBIT', 'b1', '7'], ['BITCOUNT', 'b1'], ['BITCOUNT', 'b1', '0', '0'],
    ['BITPOS', 'b1', '1'], ['BITFIELD', 'b1', 'GET', 'u8', '0', 'SET', 'u8', '8', '255', 'OVERFLOW', 'FAIL', 'INCRBY', 'u8', '8', '10'],
    // keys and expiry
    ['SETEX', 'e1', '1000', 'x'], ['PSETEX', 'e2', '1000000', 'y'], ['TTL', 'e1'], ['TTL', 'e2'], ['GETEX', 'e1', 'PERSIST'], ['TTL', 'e1'],
    ['GETEX', 'e2', 'EX', '500'], ['TTL', 'e2'], ['EXPIRE', 's1', '1000'], ['TTL', 's1'], ['PEXPIRE', 's2', '2000000'],
    ['EXPIREAT', 'n1', '4102444800'], ['PEXPIREAT', 'f1', '4102444800000'], ['PERSIST', 's1'], ['PERSIST', 's1'], ['TTL', 's1'],
    ['PTTL', 's1'], ['PTTL', 'nosuchkey'], ['TTL', 'nosuchkey'], ['EXPIRE', 'nosuchkey', '10'], ['EXPIRE', 's1', 'x'],
    ['TYPE', 's1'], ['TYPE', 'nosuchkey'], ['SETEX', 'e3', '0', 'x'],
    ['SET', '{c}src', 'copied'], ['COPY', '{c}src', '{c}dst'], ['COPY', '{c}src', '{c}dst'], ['GET', '{c}dst'], ['COPY', '{c}src', '{c}dst', 'REPLACE'],
    // hashes
    ['HSET', 'h1', 'a', '1', 'b', '2', 'c', '3'], ['HSETNX', 'h1', 'a', '9'], ['HSETNX', 'h1', 'z', '26'], ['HGET', 'h1', 'a'],
    ['HMGET', 'h1', 'a', 'nofield', 'c'], ['HGETALL', 'h1'], ['HKEYS', 'h1'], ['HVALS', 'h1'], ['HLEN', 'h1'], ['HSTRLEN', 'h1', 'z'],
    ['HEXISTS', 'h1', 'b'], ['HEXISTS', 'h1', 'nofield'], ['HINCRBY', 'h1', 'n', '5'], ['HINCRBYFLOAT', 'h1', 'fl', '2.5'],
    ['HINCRBY', 'h1', 'a', 'x'], ['HDEL', 'h1', 'b', 'nofield'], ['HMSET', 'h1', 'd', '4', 'e', '5'], ['HSCAN', 'h1', '0'],
    ['HSCAN', 'h1', '0', 'MATCH', 'a*', 'COUNT', '100'], ['HRANDFIELD', 'h1', '0'], ['HRANDFIELD', 'nosuchkey'],
    ['HGETALL', 'nosuchkey'], ['GET', 'h1'], ['HGET', 's2', 'a'], ['TYPE', 'h1'], ['EXPIRE', 'h1', '1000'], ['TTL', 'h1'],
    // the fan-out commands, over keys on every shard
    ['MSET', ...mset], ['MGET', ...fanKeys, 'nosuchkey', 'h1', 'big'], ['MGET', f(0)],
    ['DEL', f(0), f(1), f(2), 'nosuchkey'], ['TOUCH', f(3), f(4), f(5), 'nosuchkey'],
    ['UNLINK', f(6), f(7), 'nosuchkey', f(8)], ['MGET', ...fanKeys], ['EXISTS', f(9)], ['EXISTS', f(0)],
    ['MSET', f(0), 'again'], ['DEL', f(0)], ['DEL', ...fanKeys, 'h1', 's1', 's2', 'big'], ['MGET', ...fanKeys],
  ];
}

async function runOn(port: number, commands: readonly Command[]): Promise<string[]> {
  const client = await RawClient.connect(port);
  try {
    const replies: string[] = [];
    for (const command of commands) replies.push(show(await client.call(...command)));
    return replies;
  } finally {
    client.destroy();
  }
}

function label(commands: readonly Command[], index: number): string {
  return (commands[index] as Command).map((arg) => (typeof arg === 'string' ? arg : `<${arg.length} bytes>`)).join(' ').slice(0, 120);
}

describe.skipIf(kNutcrackerSkip)(`frostkv behind nutcracker answers as one frostkv does${kNutcrackerNote}`, () => {
  it('the fan-out keys of the script live on every shard (so the fan-out is really exercised)', () => {
    const owners = new Set(fanKeys.map((key) => ketamaServerFor(continuum, key)));
    expect([...owners].sort()).toEqual(kShardNames);
  });

  it('strings, bits, keys, expiry, hashes and MGET/MSET/DEL/TOUCH/UNLINK give the same replies through the proxy as direct', async () => {
    const commands = script();
    const direct = await runOn(reference.respPort as number, commands);
    const proxied = await runOn(proxy.port, commands);
    for (let i = 0; i < commands.length; i++) expect(proxied[i], label(commands, i)).toBe(direct[i]);
    // The data really went to the shards: together they hold exactly the keys the reference holds.
    const [referenceSize] = await runOn(reference.respPort as number, [['DBSIZE']]);
    const sizes = await Promise.all(shards.map(async (shard) => Number((await runOn(shard.respPort as number, [['DBSIZE']]))[0]?.slice(1))));
    expect(sizes.filter((size) => size > 0).length).toBeGreaterThan(1);
    expect(`:${sizes.reduce((a, b) => a + b, 0)}`).toBe(referenceSize);
  });

  it('a whole script written in one pipelined write gets every reply, in order, as direct', async () => {
    const commands = script();
    const direct = await runOn(reference.respPort as number, commands);
    const client = await RawClient.connect(proxy.port);
    client.write(Buffer.concat(commands.map((command) => encodeCommand(command))));
    const replies: Reply[] = await client.replies(commands.length, 15_000);
    client.destroy();
    expect(replies.map(show)).toEqual(direct);
  });

  it('MSET and MGET of 300 keys x 8 KiB across the shards through ioredis round-trip every byte', async () => {
    const redis = new Redis({ port: proxy.port, enableReadyCheck: false, disableClientInfo: true, lazyConnect: true, maxRetriesPerRequest: 0 });
    await redis.connect();
    try {
      const keys = Array.from({ length: 300 }, (_, i) => `bulk:${i}`);
      const values = keys.map((key, i) => Buffer.alloc(8192, i % 251).fill(key, 0, key.length));
      expect(await redis.mset(...keys.flatMap((key, i) => [key, values[i] as Buffer]))).toBe('OK');
      const back = await redis.mgetBuffer(...keys);
      expect(back.length).toBe(keys.length);
      back.forEach((value, i) => expect(value?.equals(values[i] as Buffer), keys[i]).toBe(true));
      // Each key is on the shard ketama names, and only there.
      for (const key of keys.slice(0, 30)) {
        for (const shard of shards) {
          const direct = await runOn(shard.respPort as number, [['EXISTS', key]]);
          expect(direct[0], `${key} on shard ${shards.indexOf(shard)}`).toBe(shard === shardOf(key) ? ':1' : ':0');
        }
      }
      const pipeline = redis.pipeline();
      for (let i = 0; i < 500; i++) pipeline.incr(`counter:${i % 50}`);
      pipeline.mget(...Array.from({ length: 50 }, (_, i) => `counter:${i}`));
      const results = (await pipeline.exec()) ?? [];
      expect(results.slice(0, 500).every(([error]) => error === null)).toBe(true);
      expect(results[500]).toEqual([null, Array.from({ length: 50 }, () => '10')]);
      expect(await redis.del(...keys, ...Array.from({ length: 50 }, (_, i) => `counter:${i}`))).toBe(350);
    } finally {
      redis.disconnect();
    }
  });

  it('ioredis with its defaults cannot connect through twemproxy (INFO and CLIENT SETINFO are refused), as documented', async () => {
    const redis = new Redis({ port: proxy.port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => undefined);
    await expect(redis.connect().then(() => redis.get('x'))).rejects.toThrow(/Connection is closed|closed/);
    redis.disconnect();
  });
});

describe.skipIf(kNutcrackerSkip)(`what twemproxy answers itself, forwards to an error, or refuses${kNutcrackerNote}`, () => {
  it('PING is answered by the proxy (no shard sees it); QUIT closes the connection without a reply', async () => {
    const pingsBefore = await Promise.all(shards.map((shard) => pingCalls(shard.respPort as number)));
    const client = await RawClient.connect(proxy.port);
    for (let i = 0; i < 5; i++) expect(show(await client.call('PING'))).toBe('+PONG');
    const pingsAfter = await Promise.all(shards.map((shard) => pingCalls(shard.respPort as number)));
    expect(pingsAfter).toEqual(pingsBefore);
    const before = client.bytes.length;
    client.write(encodeCommand(['QUIT']));
    await client.waitClosed();
    expect(client.bytes.length).toBe(before);
  });

  it('COMMAND (no arguments) is forwarded to a shard, and its large nested reply parses in the proxy', async () => {
    const [direct] = await runOn(reference.respPort as number, [['COMMAND']]);
    const [proxied] = await runOn(proxy.port, [['COMMAND']]);
    expect((direct as string).length).toBeGreaterThan(10_000);
    expect(proxied).toBe(direct);
  });

  const missing: Command[] = [
    ['LPUSH', 'l', 'a'], ['RPUSH', 'l', 'a'], ['LRANGE', 'l', '0', '-1'], ['LLEN', 'l'], ['LPOP', 'l'], ['SADD', 'set', 'a'],
    ['SMEMBERS', 'set'], ['SCARD', 'set'], ['ZADD', 'z', '1', 'a'], ['ZRANGE', 'z', '0', '-1'], ['ZSCORE', 'z', 'a'],
    ['PFADD', 'p', 'a'], ['PFCOUNT', 'p'], ['GEOADD', 'g', '1', '1', 'm'], ['EVAL', 'return 1', '1', 'k'], ['SORT', 'k'],
    ['DUMP', 'k'], ['LOLWUT'],
  ];
  it('commands twemproxy forwards but frostkv lacks come back as the same clean error, and the connection goes on', async () => {
    const direct = await runOn(reference.respPort as number, missing);
    const client = await RawClient.connect(proxy.port);
    for (let i = 0; i < missing.length; i++) {
      const reply = show(await client.call(...(missing[i] as Command)));
      expect(reply, label(missing, i)).toBe(direct[i]);
      expect(reply, label(missing, i)).toMatch(/^-ERR unknown command '/);
      expect(show(await client.call('SET', 'after', String(i)))).toBe('+OK');
    }
    expect(show(await client.call('GET', 'after'))).toBe(`$${Buffer.from(String(missing.length - 1)).toString('hex')}`);
    client.destroy();
  });

  // docs/scale-out.md, "What does not work", lists each of these.
  const refused: Command[] = [
    ['MULTI'], ['EXEC'], ['DISCARD'], ['WATCH', 'k'], ['UNWATCH'],
    ['KEYS', '*'], ['SCAN', '0'], ['DBSIZE'], ['FLUSHDB'], ['FLUSHALL'], ['RANDOMKEY'], ['INFO'],
    ['RENAME', 'a', 'b'], ['RENAMENX', 'a', 'b'], ['MSETNX', 'a', '1'], ['BITOP', 'AND', 'd', 'a', 'b'], ['MOVE', 'k', '1'],
    ['SELECT', '1'], ['ECHO', 'x'], ['HELLO', '3'], ['CLIENT', 'LIST'], ['CONFIG', 'GET', 'maxmemory'], ['COMMAND', 'COUNT'],
    ['MKSNAP', 'x'], ['LSSNAP'], ['SAVE'], ['BGSAVE'], ['BLPOP', 'l', '0'], ['SUBSCRIBE', 'ch'], ['PUBLISH', 'ch', 'm'],
    ['EXPIRE', 'k', '10', 'NX'], ['PEXPIRE', 'k', '10', 'XX'], ['EXPIREAT', 'k', '10', 'GT'], ['PEXPIREAT', 'k', '10', 'LT'],
    ['EXPIRETIME', 'k'], ['PEXPIRETIME', 'k'], ['LCS', 'a', 'b'], ['SUBSTR', 'k', '0', '1'], ['GET'],
  ];
  it('commands twemproxy does not support (or with arguments it does not expect) make it close the connection', async () => {
    for (const command of refused) {
      const client = await RawClient.connect(proxy.port);
      client.write(encodeCommand(command));
      await client.waitClosed(3_000).catch((error: Error) => {
        throw new Error(`${label([command], 0)}: ${error.message}`);
      });
      expect(client.bytes.length, label([command], 0)).toBe(0);
    }
    // An inline command (no RESP array) is refused the same way.
    const inline = await RawClient.connect(proxy.port);
    inline.write('PING\r\n');
    await inline.waitClosed(3_000);
    expect(inline.bytes.length).toBe(0);
    // The proxy itself is fine afterwards.
    const client = await RawClient.connect(proxy.port);
    expect(show(await client.call('PING'))).toBe('+PONG');
    client.destroy();
  });
});

describe.skipIf(kNutcrackerSkip)(`redis_db: the proxy SELECTs the database on every shard connection${kNutcrackerNote}`, () => {
  it('with redis_db: 3 writes land in database 3 of the owning shard, and database 0 stays empty of them', async () => {
    const listenPort = await freePort();
    const servers = shards.map((shard, index) => ({ host: '127.0.0.1', port: shard.respPort as number, name: kShardNames[index] as string }));
    const db3 = await startNutcracker(poolYaml({ servers, listenPort, redisDb: 3, poolName: 'frostkv_db3' }), listenPort);
    try {
      const keys = ['db3:a', 'db3:b', 'db3:c', 'db3:d', 'db3:e', 'db3:f'];
      expect(await runOn(db3.port, keys.map((key) => ['SET', key, `in-3-${key}`]))).toEqual(keys.map(() => '+OK'));
      expect(await runOn(db3.port, [['MGET', ...keys]])).toEqual([`[${keys.map((key) => `$${Buffer.from(`in-3-${key}`).toString('hex')}`).join(',')}]`]);
      for (const key of keys) {
        const [in0, , in3] = await runOn(shardOf(key).respPort as number, [['EXISTS', key], ['SELECT', '3'], ['GET', key]]);
        expect(in0, key).toBe(':0');
        expect(in3, key).toBe(`$${Buffer.from(`in-3-${key}`).toString('hex')}`);
      }
      // Through the database-0 pool the same keys do not exist.
      expect(await runOn(proxy.port, [['EXISTS', 'db3:a']])).toEqual([':0']);
    } finally {
      await db3.stop();
    }
  });
});

async function pingCalls(port: number): Promise<number> {
  const [info] = await runOn(port, [['INFO', 'commandstats']]);
  const text = Buffer.from((info as string).slice(1), 'hex').toString('utf8');
  return Number(/cmdstat_ping:calls=(\d+)/.exec(text)?.[1] ?? 0);
}
