/**
 * ioredis against a real frostkv RESP2 listener: every supported command (docs/behaviour.md (RESP2) and
 * everything in `kCommands`) with Redis 7's reply shapes and error texts, binary safety, large
 * values, pipelines, SCAN under table growth, saves and the read-only (failsafe) state.
 *
 * Expected texts were checked against a real Redis 7.0 server. Where frostkv differs from
 * Redis 7 on purpose the test says so; where it differs
 * by mistake the test is in the block marked "REDIS-7 DISAGREEMENT" and asserts Redis's reply.
 */

import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { withDefaults } from '../../../src/config/types.js';
import { newFaultPlan } from '../../../src/persist/fs-seam.js';
import type { FaultInjector } from '../../../src/persist/persistence.js';
import { kCommands, RespText } from '../../../src/server/resp/commands.js';
import { FrostServer } from '../../../src/server/server.js';
import { MemoryLogger } from '../../../src/util/log.js';
import { startInProcess, type InProcessServer } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';
import { RawClient, show } from './raw.js';
import { errorOf } from './client-helpers.js';

const kInt64Max = '9223372036854775807';

/** Redis 7's order of flags in COMMAND INFO. */
const kFlagOrder = ['write', 'readonly', 'denyoom', 'admin', 'pubsub', 'noscript', 'blocking', 'loading', 'stale', 'skip_monitor', 'skip_slowlog', 'asking', 'fast', 'no_auth', 'no_mandatory_keys', 'no_async_loading', 'no_multi', 'movablekeys', 'allow_busy'];
const kFlagRank = (flag: string): number => kFlagOrder.indexOf(flag);
const kInt64Min = '-9223372036854775808';

function client(port: number, options: { autoPipeline?: boolean } = {}): Redis {
  return new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableAutoPipelining: options.autoPipeline === true,
  });
}

/** The error text a command was answered with (fails when it succeeded). */

type Info = Map<string, Map<string, string>>;

/** INFO text as section (lower case) -> field -> value; checks every line's shape. */
function parseInfo(text: string): Info {
  const sections: Info = new Map();
  let current: Map<string, string> | null = null;
  for (const line of text.split('\r\n')) {
    if (line === '') continue;
    if (line.startsWith('# ')) {
      current = new Map();
      sections.set(line.slice(2).toLowerCase(), current);
      continue;
    }
    const colon = line.indexOf(':');
    if (current === null || colon <= 0) throw new Error(`bad INFO line ${JSON.stringify(line)}`);
    current.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return sections;
}

async function info(r: Redis, section: string): Promise<Map<string, string>> {
  const parsed = parseInfo(await r.info(section));
  const fields = parsed.get(section);
  if (fields === undefined) throw new Error(`INFO ${section} has no "# ${section}" section`);
  return fields;
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A full SCAN iteration: every key returned, in order, duplicates kept. */
async function scanAll(r: Redis, ...options: Array<string | number>): Promise<{ keys: string[]; calls: number }> {
  let cursor = '0';
  const keys: string[] = [];
  let calls = 0;
  do {
    const [next, batch] = (await r.call('SCAN', cursor, ...options)) as [string, string[]];
    calls++;
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return { keys, calls };
}

/** The commands this file exercises; kept equal to kCommands so a new command needs a test. */
const kCovered = [
  'GET', 'SET', 'SETNX', 'GETSET', 'GETDEL', 'STRLEN', 'MGET', 'MSET', 'INCR', 'DECR', 'INCRBY', 'DECRBY',
  'DEL', 'UNLINK', 'EXISTS', 'TYPE', 'TTL', 'PTTL', 'EXPIRE', 'PEXPIRE', 'DBSIZE', 'FLUSHDB', 'FLUSHALL',
  'KEYS', 'SCAN', 'BGSAVE', 'SAVE', 'LASTSAVE', 'INFO', 'CONFIG', 'PING', 'ECHO', 'QUIT', 'SELECT', 'AUTH',
  'HELLO', 'CLIENT', 'COMMAND', 'RESET', 'SWAPDB', 'MULTI', 'EXEC', 'DISCARD', 'WATCH', 'UNWATCH',
  // Strings and bits (test/server/resp/strings.test.ts, strings-bits.test.ts).
  'SETEX', 'PSETEX', 'GETEX', 'MSETNX', 'APPEND', 'GETRANGE', 'SUBSTR', 'SETRANGE', 'INCRBYFLOAT', 'LCS',
  'SETBIT', 'GETBIT', 'BITCOUNT', 'BITPOS', 'BITOP', 'BITFIELD', 'BITFIELD_RO',
  // MEMORY USAGE (test/server/resp/server.test.ts).
  'MEMORY',
  // Keyspace and expiry (keyspace.test.ts, expiry.test.ts).
  'TOUCH', 'RENAME', 'RENAMENX', 'COPY', 'MOVE', 'RANDOMKEY', 'OBJECT', 'EXPIREAT', 'PEXPIREAT', 'EXPIRETIME',
  'PEXPIRETIME', 'PERSIST', 'TIME',
  // Hashes (hashes.test.ts).
  'HSET', 'HSETNX', 'HMSET', 'HGET', 'HMGET', 'HGETALL', 'HKEYS', 'HVALS', 'HDEL', 'HEXISTS', 'HLEN', 'HSTRLEN',
  'HINCRBY', 'HINCRBYFLOAT', 'HSCAN', 'HRANDFIELD',
  // Snapshots (test/cli/cluster-resp.test.ts).
  'MKSNAP', 'LSSNAP',
  // SHUTDOWN (shutdown.test.ts).
  'SHUTDOWN',
];

describe('RESP via ioredis: commands', () => {
  let server: InProcessServer;
  let r: Redis;
  let port: number;

  beforeAll(async () => {
    server = await startInProcess({}, { resp: true });
    port = server.respPort as number;
    r = client(port);
    await r.connect();
  });

  afterAll(async () => {
    r.disconnect();
    await server.stop();
  });

  beforeEach(async () => {
    await r.flushdb();
  });

  it('covers every command frostkv registers', () => {
    expect([...kCommands.keys()].sort()).toEqual([...kCovered].sort());
  });

  describe('connection commands', () => {
    it('PING answers PONG, or echoes its message as a bulk', async () => {
      expect(await r.ping()).toBe('PONG');
      expect(await r.ping('hello there')).toBe('hello there');
      expect(await r.call('PING', '')).toBe('');
      expect(await errorOf(r.call('PING', 'a', 'b'))).toBe("ERR wrong number of arguments for 'ping' command");
    });

    it('ECHO returns its argument, binary-safe', async () => {
      expect(await r.echo('message')).toBe('message');
      const bytes = Buffer.from([0, 13, 10, 255, 36]);
      expect(await r.callBuffer('ECHO', bytes)).toEqual(bytes);
      expect(await errorOf(r.call('ECHO'))).toBe("ERR wrong number of arguments for 'echo' command");
    });

    it('QUIT answers OK and closes the connection; commands after it are not run', async () => {
      const quitter = client(port);
      await quitter.connect();
      const ended = new Promise<void>((resolve) => quitter.once('end', () => resolve()));
      expect(await quitter.quit()).toBe('OK');
      await ended;

      const raw = await RawClient.connect(port);
      raw.write('*1\r\n$4\r\nQUIT\r\n*3\r\n$3\r\nSET\r\n$11\r\nafter-quit!\r\n$1\r\nv\r\n');
      await raw.waitClosed();
      expect(raw.bytes.toString('latin1')).toBe('+OK\r\n');
      expect(await r.exists('after-quit!')).toBe(0);
    });

    it('SELECT 0..15 is accepted (database N > 0 is its own table); 16 and negative indexes are refused', async () => {
      expect(await r.select(0)).toBe('OK');
      expect(await errorOf(r.call('SELECT', '16'))).toBe('ERR DB index is out of range');
      expect(await errorOf(r.call('SELECT', '-1'))).toBe('ERR DB index is out of range');
      expect(await errorOf(r.call('SELECT'))).toBe("ERR wrong number of arguments for 'select' command");
    });

    it('AUTH <password> answers Redis 7 text for a server without a password', async () => {
      expect(await errorOf(r.call('AUTH', 'secret'))).toBe(RespText.noAuth);
      expect(RespText.noAuth).toBe(
        'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
      );
      expect(await errorOf(r.call('AUTH'))).toBe("ERR wrong number of arguments for 'auth' command");
    });

    it('HELLO 2 (and HELLO) answer the RESP2 handshake map', async () => {
      for (const args of [['2'], []]) {
        const reply = (await r.call('HELLO', ...args)) as unknown[];
        expect(reply.length).toBe(14);
        const fields = new Map<string, unknown>();
        for (let i = 0; i < reply.length; i += 2) fields.set(reply[i] as string, reply[i + 1]);
        expect(fields.get('server')).toBe('redis');
        expect(fields.get('proto')).toBe(2);
        expect(fields.get('mode')).toBe('standalone');
        expect(fields.get('role')).toBe('master');
        expect(fields.get('modules')).toEqual([]);
        expect(typeof fields.get('id')).toBe('number');
        expect(String(fields.get('version'))).toMatch(/^7\.\d+\.\d+$/);
      }
    });

    it('HELLO with a version other than 2 or 3 answers -NOPROTO, and the connection stays RESP2', async () => {
      expect(await errorOf(r.call('HELLO', '4'))).toMatch(/^NOPROTO /);
      expect(await r.set('after-hello', 'x')).toBe('OK');
      expect(await r.get('after-hello')).toBe('x');
      expect(await errorOf(r.call('HELLO', 'x'))).toBe('ERR Protocol version is not an integer or out of range');
    });

    it('HELLO 2 SETNAME names the connection', async () => {
      const named = client(port);
      await named.connect();
      await named.call('HELLO', '2', 'SETNAME', 'via-hello');
      expect(await named.call('CLIENT', 'GETNAME')).toBe('via-hello');
      named.disconnect();
    });

    it('CLIENT SETNAME/GETNAME/ID/SETINFO', async () => {
      const a = client(port);
      const b = client(port);
      await a.connect();
      await b.connect();
      expect(await a.call('CLIENT', 'GETNAME')).toBeNull();
      expect(await a.call('CLIENT', 'SETNAME', 'worker-1')).toBe('OK');
      expect(await a.call('CLIENT', 'GETNAME')).toBe('worker-1');
      expect(await b.call('CLIENT', 'GETNAME')).toBeNull();
      const idA = (await a.call('CLIENT', 'ID')) as number;
      const idB = (await b.call('CLIENT', 'ID')) as number;
      expect(Number.isInteger(idA) && idA > 0).toBe(true);
      expect(idB).not.toBe(idA);
      expect(await a.call('CLIENT', 'ID')).toBe(idA);
      expect(await a.call('CLIENT', 'SETINFO', 'LIB-NAME', 'frostkv-test')).toBe('OK');
      expect(await a.call('CLIENT', 'SETINFO', 'lib-ver', '1.2.3')).toBe('OK');
      expect(await errorOf(a.call('CLIENT', 'SETNAME'))).toBe("ERR wrong number of arguments for 'client|setname' command");
      expect(await errorOf(a.call('CLIENT', 'NOPE'))).toBe("ERR unknown subcommand 'NOPE'. Try CLIENT HELP.");
      expect(await errorOf(a.call('CLIENT'))).toBe("ERR wrong number of arguments for 'client' command");
      a.disconnect();
      b.disconnect();
    });

    it('answers unknown commands and wrong arity with Redis 7 texts', async () => {
      expect(await errorOf(r.call('FOOBAR', 'a', 'b'))).toBe("ERR unknown command 'FOOBAR', with args beginning with: 'a' 'b' ");
      expect(await errorOf(r.call('foobar'))).toBe("ERR unknown command 'foobar', with args beginning with: ");
      expect(await errorOf(r.call('GET'))).toBe("ERR wrong number of arguments for 'get' command");
      expect(await errorOf(r.call('gEt', 'a', 'b'))).toBe("ERR wrong number of arguments for 'get' command");
      expect(await errorOf(r.call('SET', 'k'))).toBe("ERR wrong number of arguments for 'set' command");
      expect(await errorOf(r.call('MGET'))).toBe("ERR wrong number of arguments for 'mget' command");
      expect(await errorOf(r.call('DBSIZE', 'x'))).toBe("ERR wrong number of arguments for 'dbsize' command");
      expect(await errorOf(r.call('LASTSAVE', 'x'))).toBe("ERR wrong number of arguments for 'lastsave' command");
      expect(await errorOf(r.call('SAVE', 'x'))).toBe("ERR wrong number of arguments for 'save' command");
      expect(await errorOf(r.call('TYPE', 'a', 'b'))).toBe("ERR wrong number of arguments for 'type' command");
      expect(await errorOf(r.call('EXPIRE', 'a'))).toBe("ERR wrong number of arguments for 'expire' command");
      // An error does not break the connection.
      expect(await r.ping()).toBe('PONG');
    });

    it('answers a wrong arity for every registered command with the arity error', async () => {
      for (const [name, spec] of kCommands) {
        // One argument short of the minimum (or exact count), or one more than an exact count.
        const counts = spec.arity > 0 ? [spec.arity - 1, spec.arity + 1] : [-spec.arity - 1];
        for (const count of counts) {
          if (count < 1) continue;
          const args = Array.from({ length: count - 1 }, (_, i) => `arg${i}`);
          const text = await errorOf(r.call(name, ...args));
          expect(text, `${name} with ${count - 1} arguments`).toBe(`ERR wrong number of arguments for '${name.toLowerCase()}' command`);
        }
      }
    });
  });

  describe('strings', () => {
    it('GET returns the value or nil; SET overwrites (Redis semantics, unlike Skyhash SET)', async () => {
      expect(await r.get('k')).toBeNull();
      expect(await r.set('k', 'v1')).toBe('OK');
      expect(await r.get('k')).toBe('v1');
      expect(await r.set('k', 'v2')).toBe('OK');
      expect(await r.get('k')).toBe('v2');
    });

    it('SET NX writes only a missing key, XX only an existing one (nil when not written)', async () => {
      expect(await r.set('k', 'a', 'NX')).toBe('OK');
      expect(await r.set('k', 'b', 'NX')).toBeNull();
      expect(await r.get('k')).toBe('a');
      expect(await r.set('k', 'c', 'XX')).toBe('OK');
      expect(await r.get('k')).toBe('c');
      expect(await r.set('missing', 'd', 'XX')).toBeNull();
      expect(await r.exists('missing')).toBe(0);
      expect(await r.call('SET', 'k', 'e', 'nx')).toBeNull();
      expect(await errorOf(r.call('SET', 'k', 'v', 'NX', 'XX'))).toBe('ERR syntax error');
      expect(await errorOf(r.call('SET', 'k', 'v', 'XX', 'NX'))).toBe('ERR syntax error');
      expect(await errorOf(r.call('SET', 'k', 'v', 'BOGUS'))).toBe('ERR syntax error');
    });

    it('SET GET returns the old value (nil when there was none), also with NX/XX', async () => {
      expect(await r.call('SET', 'k', 'first', 'GET')).toBeNull();
      expect(await r.call('SET', 'k', 'second', 'GET')).toBe('first');
      expect(await r.get('k')).toBe('second');
      expect(await r.call('SET', 'k', 'third', 'NX', 'GET')).toBe('second');
      expect(await r.get('k')).toBe('second');
      expect(await r.call('SET', 'k', 'fourth', 'XX', 'GET')).toBe('second');
      expect(await r.get('k')).toBe('fourth');
      expect(await r.call('SET', 'new', 'x', 'NX', 'GET')).toBeNull();
      expect(await r.get('new')).toBe('x');
      expect(await r.call('SET', 'nope', 'x', 'XX', 'GET')).toBeNull();
      expect(await r.exists('nope')).toBe(0);
    });

    it('SET KEEPTTL is accepted (keys never expire, so there is no TTL to keep)', async () => {
      expect(await r.call('SET', 'k', 'v', 'KEEPTTL')).toBe('OK');
      expect(await r.get('k')).toBe('v');
    });

    it('SET EX/PX/EXAT/PXAT give the key an expiry (every option: test/server/resp/strings.test.ts)', async () => {
      for (const option of [['EX', '100'], ['PX', '100000'], ['EXAT', '4102444800'], ['PXAT', '4102444800000'], ['ex', '100']]) {
        expect(await r.call('SET', 'k', 'v', ...option)).toBe('OK');
        expect(await r.ttl('k')).toBeGreaterThan(90);
      }
    });

    it('SETNX answers 1 when it wrote and 0 when the key existed', async () => {
      expect(await r.setnx('k', 'a')).toBe(1);
      expect(await r.setnx('k', 'b')).toBe(0);
      expect(await r.get('k')).toBe('a');
    });

    it('GETSET returns the old value (or nil) and sets the new one', async () => {
      expect(await r.getset('k', 'a')).toBeNull();
      expect(await r.getset('k', 'b')).toBe('a');
      expect(await r.get('k')).toBe('b');
    });

    it('GETDEL returns the value and deletes the key; nil when missing', async () => {
      await r.set('k', 'v');
      expect(await r.getdel('k')).toBe('v');
      expect(await r.exists('k')).toBe(0);
      expect(await r.getdel('k')).toBeNull();
    });

    it('STRLEN counts bytes, 0 for a missing key', async () => {
      await r.set('k', Buffer.from('héllo', 'utf8'));
      expect(await r.strlen('k')).toBe(6);
      expect(await r.strlen('missing')).toBe(0);
      await r.set('empty', '');
      expect(await r.strlen('empty')).toBe(0);
    });

    it('MGET answers values in order with nil for missing keys; MSET sets every pair', async () => {
      expect(await r.mset('a', '1', 'b', '2', 'c', '3')).toBe('OK');
      expect(await r.mget('a', 'missing', 'c', 'a')).toEqual(['1', null, '3', '1']);
      expect(await r.mset('a', 'x', 'd', '4')).toBe('OK');
      expect(await r.mget('a', 'b', 'd')).toEqual(['x', '2', '4']);
      expect(await errorOf(r.call('MSET', 'a', '1', 'b'))).toBe("ERR wrong number of arguments for 'mset' command");
      expect(await errorOf(r.call('MSET', 'a'))).toBe("ERR wrong number of arguments for 'mset' command");
      expect(await r.get('b')).toBe('2');
    });

    it('INCR/INCRBY/DECR/DECRBY count from 0 and store decimal text', async () => {
      expect(await r.incr('n')).toBe(1);
      expect(await r.incrby('n', 10)).toBe(11);
      expect(await r.decr('n')).toBe(10);
      expect(await r.decrby('n', 15)).toBe(-5);
      expect(await r.get('n')).toBe('-5');
      expect(await r.decr('fresh')).toBe(-1);
      expect(await r.incrby('fresh2', -7)).toBe(-7);
      await r.set('m', kInt64Max);
      expect(await r.decrby('m', kInt64Max)).toBe(0);
      await r.set('m', '9223372036854775806');
      await r.call('INCRBY', 'm', '1');
      expect(await r.get('m')).toBe(kInt64Max);
    });

    it('INCR on a value that is not a canonical int64 answers Redis text and leaves it unchanged', async () => {
      for (const value of ['abc', ' 1', '1 ', '01', '+1', '-0', '1.5', '', '99999999999999999999']) {
        await r.set('s', value);
        expect(await errorOf(r.incr('s')), JSON.stringify(value)).toBe('ERR value is not an integer or out of range');
        expect(await r.get('s')).toBe(value);
      }
      for (const delta of ['x', '+5', ' 5', '5.0', '-0', '007', '9223372036854775808']) {
        expect(await errorOf(r.call('INCRBY', 'n', delta)), delta).toBe('ERR value is not an integer or out of range');
        expect(await errorOf(r.call('DECRBY', 'n', delta)), delta).toBe('ERR value is not an integer or out of range');
      }
      expect(await r.exists('n')).toBe(0);
    });

    it('INCR/DECR past the int64 range answer the overflow error and leave the value unchanged', async () => {
      await r.set('big', kInt64Max);
      expect(await errorOf(r.incr('big'))).toBe('ERR increment or decrement would overflow');
      expect(await errorOf(r.call('INCRBY', 'big', '1'))).toBe('ERR increment or decrement would overflow');
      expect(await r.get('big')).toBe(kInt64Max);
      await r.set('small', kInt64Min);
      expect(await errorOf(r.decr('small'))).toBe('ERR increment or decrement would overflow');
      expect(await errorOf(r.call('DECRBY', 'small', '1'))).toBe('ERR increment or decrement would overflow');
      expect(await errorOf(r.call('INCRBY', 'small', '-1'))).toBe('ERR increment or decrement would overflow');
      expect(await r.get('small')).toBe(kInt64Min);
    });
  });

  describe('keys', () => {
    it('DEL and UNLINK count the keys removed', async () => {
      await r.mset('a', '1', 'b', '2', 'c', '3');
      expect(await r.del('a', 'b', 'missing')).toBe(2);
      expect(await r.unlink('c', 'c')).toBe(1);
      expect(await r.dbsize()).toBe(0);
    });

    it('EXISTS counts every argument, duplicates included (as Redis)', async () => {
      await r.set('e', '1');
      expect(await r.exists('e', 'e', 'missing', 'e')).toBe(3);
      expect(await r.exists('missing')).toBe(0);
    });

    it('TYPE answers string or none; TTL/PTTL answer -1 (no expiry) or -2 (missing)', async () => {
      await r.set('k', 'v');
      expect(await r.type('k')).toBe('string');
      expect(await r.type('missing')).toBe('none');
      expect(await r.ttl('k')).toBe(-1);
      expect(await r.pttl('k')).toBe(-1);
      expect(await r.ttl('missing')).toBe(-2);
      expect(await r.pttl('missing')).toBe(-2);
    });

    it('DBSIZE counts keys; FLUSHDB and FLUSHALL (with ASYNC/SYNC) empty the table', async () => {
      await r.mset('a', '1', 'b', '2', 'c', '3');
      expect(await r.dbsize()).toBe(3);
      expect(await r.flushdb()).toBe('OK');
      expect(await r.dbsize()).toBe(0);
      await r.mset('a', '1', 'b', '2');
      expect(await r.call('FLUSHALL', 'ASYNC')).toBe('OK');
      expect(await r.dbsize()).toBe(0);
      await r.set('a', '1');
      expect(await r.call('FLUSHDB', 'SYNC')).toBe('OK');
      expect(await r.dbsize()).toBe(0);
      expect(await errorOf(r.call('FLUSHDB', 'LATER'))).toBe('ERR syntax error');
    });

    const globKeys = ['abc', 'abd', 'a?c', 'xbc', 'bbc', 'cbc', 'dbc', 'a*c', 'a[c', 'ab', 'a\\c', 'hello', 'hallo', 'hxllo', 'heeeello'];
    // Expected sets as a Redis 7.0 server answers them for the keys above.
    const globCases: Array<[string, string[]]> = [
      ['*', globKeys],
      ['h?llo', ['hello', 'hallo', 'hxllo']],
      ['h*llo', ['hello', 'hallo', 'hxllo', 'heeeello']],
      ['h[ae]llo', ['hello', 'hallo']],
      ['h[^e]llo', ['hallo', 'hxllo']],
      ['h[a-b]llo', ['hallo']],
      ['[a-c]bc', ['abc', 'bbc', 'cbc']],
      ['[c-a]bc', ['abc', 'bbc', 'cbc']],
      ['[^x]bc', ['abc', 'bbc', 'cbc', 'dbc']],
      ['[!x]bc', ['xbc']],
      ['a?c', ['abc', 'a?c', 'a*c', 'a[c', 'a\\c']],
      ['a\\?c', ['a?c']],
      ['a\\*c', ['a*c']],
      ['a\\[c', ['a[c']],
      ['a\\\\c', ['a\\c']],
      ['ab?', ['abc', 'abd']],
      ['a[b-d]?', ['abc', 'abd']],
      ['[abc', []],
      ['nothing*', []],
      ['ab', ['ab']],
    ];

    it.each(globCases)('KEYS %s matches Redis glob semantics', async (pattern, expected) => {
      await r.mset(...globKeys.flatMap((key) => [key, '1']));
      expect((await r.keys(pattern)).sort()).toEqual([...expected].sort());
    });

    it('KEYS over a large table (batched across event-loop turns) returns every matching key once', async () => {
      const count = 12_000;
      const pipeline = r.pipeline();
      for (let i = 0; i < count; i += 500) {
        const pairs: string[] = [];
        for (let j = i; j < i + 500; j++) pairs.push(`big:${j}`, String(j));
        pipeline.mset(...pairs);
      }
      await pipeline.exec();
      const all = await r.keys('*');
      expect(all.length).toBe(count);
      expect(new Set(all).size).toBe(count);
      const some = await r.keys('big:1?');
      expect(some.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `big:1${i}`).sort());
    });

    it('SCAN: a full iteration returns every key exactly once and ends with cursor "0"', async () => {
      const count = 5_000;
      const pairs: string[] = [];
      for (let i = 0; i < count; i++) pairs.push(`user:${i}`, 'v');
      await r.mset(...pairs);
      const { keys, calls } = await scanAll(r, 'COUNT', 100);
      expect(calls).toBeGreaterThan(1);
      expect(keys.length).toBe(count);
      expect(new Set(keys).size).toBe(count);

      const matched = await scanAll(r, 'MATCH', 'user:1?', 'COUNT', 1000);
      expect(matched.keys.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `user:1${i}`).sort());

      const defaults = await scanAll(r);
      expect(defaults.keys.length).toBe(count);
    });

    it('SCAN on an empty table answers cursor "0" and no keys', async () => {
      expect(await r.call('SCAN', '0')).toEqual(['0', []]);
    });

    it('SCAN refuses invalid cursors and options with Redis texts', async () => {
      expect(await errorOf(r.call('SCAN', 'x'))).toBe('ERR invalid cursor');
      expect(await errorOf(r.call('SCAN', '1.5'))).toBe('ERR invalid cursor');
      expect(await errorOf(r.call('SCAN', '18446744073709551616'))).toBe('ERR invalid cursor');
      expect(await errorOf(r.call('SCAN', '0', 'COUNT', '0'))).toBe('ERR syntax error');
      expect(await errorOf(r.call('SCAN', '0', 'COUNT', 'x'))).toBe('ERR value is not an integer or out of range');
      expect(await errorOf(r.call('SCAN', '0', 'MATCH'))).toBe('ERR syntax error');
      expect(await errorOf(r.call('SCAN', '0', 'BOGUS', 'x'))).toBe('ERR syntax error');
      expect(await errorOf(r.call('SCAN'))).toBe("ERR wrong number of arguments for 'scan' command");
    });

    it('SCAN TYPE string returns keys; another type returns none', async () => {
      await r.mset('a', '1', 'b', '2');
      expect((await scanAll(r, 'TYPE', 'string')).keys.sort()).toEqual(['a', 'b']);
      expect((await scanAll(r, 'TYPE', 'list')).keys).toEqual([]);
    });

    it('SCAN under concurrent inserts that grow the table returns every key present throughout at least once', async () => {
      const base = 10_000;
      const pairs: string[] = [];
      for (let i = 0; i < base; i++) pairs.push(`base:${i}`, 'v');
      await r.mset(...pairs);
      const writer = client(port);
      await writer.connect();
      let grown = 0;
      const seen = new Set<string>();
      let cursor = '0';
      let calls = 0;
      do {
        const [next, batch] = (await r.call('SCAN', cursor, 'COUNT', 1)) as [string, string[]];
        for (const key of batch) seen.add(key);
        cursor = next;
        calls++;
        // Between SCAN calls another client grows the table (segments split under the cursor).
        if (grown < 100_000) {
          const more: string[] = [];
          for (let j = 0; j < 3_000; j++) more.push(`grow:${grown + j}`, 'w');
          grown += 3_000;
          await writer.mset(...more);
        }
      } while (cursor !== '0');
      writer.disconnect();
      expect(calls).toBeGreaterThan(4);
      expect(grown).toBeGreaterThanOrEqual(base);
      const missing: string[] = [];
      for (let i = 0; i < base; i++) if (!seen.has(`base:${i}`)) missing.push(`base:${i}`);
      expect(missing).toEqual([]);
      for (const key of seen) expect(key).toMatch(/^(base|grow):\d+$/);
    });
  });

  describe('introspection', () => {
    it('INFO without arguments has the server, persistence, keyspace, memory and stats sections', async () => {
      await r.set('k', 'v');
      const sections = parseInfo(await r.info());
      for (const name of ['server', 'persistence', 'keyspace', 'memory', 'stats']) expect(sections.has(name), name).toBe(true);
      for (const name of ['all', 'everything', 'default']) {
        const all = parseInfo((await r.call('INFO', name)) as string);
        for (const section of ['server', 'persistence', 'keyspace', 'memory', 'stats']) expect(all.has(section), `${name}/${section}`).toBe(true);
      }
    });

    it('INFO <section> answers only that section, case-insensitively', async () => {
      for (const name of ['server', 'persistence', 'keyspace', 'memory', 'stats']) {
        const sections = parseInfo((await r.call('INFO', name.toUpperCase())) as string);
        expect([...sections.keys()]).toEqual([name]);
      }
      const two = parseInfo((await r.call('INFO', 'server', 'stats')) as string);
      expect([...two.keys()].sort()).toEqual(['server', 'stats']);
    });

    it('INFO server, memory and stats carry the fields Redis tools read', async () => {
      const serverInfo = await info(r, 'server');
      expect(serverInfo.get('redis_version')).toMatch(/^7\.\d+\.\d+$/);
      expect(serverInfo.get('redis_mode')).toBe('standalone');
      expect(serverInfo.get('tcp_port')).toBe(String(port));
      expect(serverInfo.get('process_id')).toBe(String(process.pid));
      expect(Number(serverInfo.get('uptime_in_seconds'))).toBeGreaterThanOrEqual(0);
      const memory = await info(r, 'memory');
      expect(Number(memory.get('used_memory'))).toBeGreaterThan(0);
      expect(memory.get('used_memory_human')).toMatch(/^[\d.]+[BKMGT]$/);
      const stats = await info(r, 'stats');
      const before = Number(stats.get('total_commands_processed'));
      await r.get('missing-key');
      const after = await info(r, 'stats');
      expect(Number(after.get('total_commands_processed'))).toBeGreaterThan(before);
      expect(Number(after.get('keyspace_misses'))).toBeGreaterThan(Number(stats.get('keyspace_misses')));
      expect(Number(after.get('total_connections_received'))).toBeGreaterThanOrEqual(1);
    });

    it('INFO keyspace shows db0 with the key count, and no line when the table is empty', async () => {
      expect([...(await info(r, 'keyspace')).entries()]).toEqual([]);
      await r.mset('a', '1', 'b', '2', 'c', '3');
      expect((await info(r, 'keyspace')).get('db0')).toBe('keys=3,expires=0,avg_ttl=0');
    });

    it('INFO persistence carries the save status fields of docs/persistence.md (Status)', async () => {
      const fields = await info(r, 'persistence');
      for (const name of [
        'rdb_changes_since_last_save',
        'rdb_bgsave_in_progress',
        'rdb_last_save_time',
        'rdb_last_bgsave_time_sec',
        'current_cow_size',
        'frostkv_snapshot_count',
      ]) {
        expect(fields.get(name), name).toMatch(/^-?\d+$/);
      }
      expect(fields.get('rdb_last_bgsave_status')).toMatch(/^(ok|err)$/);
      expect(fields.get('frostkv_read_only')).toBe('0');
      expect(fields.get('frostkv_last_cut_pause_ms')).toMatch(/^-?\d+(\.\d+)?$/);
    });

    it('CONFIG GET answers known parameters, nothing for unknown ones, and matches globs', async () => {
      expect(await r.config('GET', 'port')).toEqual(['port', String(port)]);
      expect(await r.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
      expect(await r.config('GET', 'databases')).toEqual(['databases', '16']);
      expect(await r.config('GET', 'no-such-parameter')).toEqual([]);
      const maxes = (await r.config('GET', 'max*')) as string[];
      const names = maxes.filter((_, i) => i % 2 === 0);
      expect(names).toEqual(expect.arrayContaining(['maxclients', 'maxmemory', 'maxmemory-policy']));
      for (const name of names) expect(name.startsWith('max')).toBe(true);
      const save = (await r.config('GET', 'save')) as string[];
      expect(save[0]).toBe('save');
      const two = (await r.call('CONFIG', 'GET', 'port', 'databases')) as string[];
      expect(two.filter((_, i) => i % 2 === 0).sort()).toEqual(['databases', 'port']);
      expect(await errorOf(r.call('CONFIG', 'GET'))).toBe("ERR wrong number of arguments for 'config|get' command");
      expect(await errorOf(r.call('CONFIG', 'NOPE'))).toBe("ERR unknown subcommand 'NOPE'. Try CONFIG HELP.");
      expect(await errorOf(r.call('CONFIG'))).toBe("ERR wrong number of arguments for 'config' command");
    });

    it('COMMAND lists every command with its Redis arity; COMMAND COUNT agrees', async () => {
      const all = (await r.call('COMMAND')) as unknown[][];
      expect(all.length).toBe(kCommands.size);
      expect(await r.call('COMMAND', 'COUNT')).toBe(kCommands.size);
      const byName = new Map(all.map((entry) => [entry[0] as string, entry]));
      for (const [name, spec] of kCommands) {
        const entry = byName.get(name.toLowerCase());
        expect(entry, name).toBeDefined();
        expect(entry?.[1], name).toBe(spec.arity);
        expect(entry?.[2], name).toEqual([...spec.definition.flags].sort((a, b) => kFlagRank(a) - kFlagRank(b)));
        if (spec.write) expect(entry?.[2], name).toContain('write');
      }
      const get = byName.get('get');
      expect(get?.slice(3, 6)).toEqual([1, 1, 1]);
      expect(byName.get('mset')?.slice(3, 6)).toEqual([1, -1, 2]);
      expect(byName.get('ping')?.slice(3, 6)).toEqual([0, 0, 0]);
    });

    it('COMMAND INFO answers entries for known names and nil for unknown ones; COMMAND DOCS answers an array', async () => {
      const entries = (await r.call('COMMAND', 'INFO', 'get', 'SET', 'no-such-command')) as unknown[];
      expect(entries.length).toBe(3);
      expect((entries[0] as unknown[])[0]).toBe('get');
      expect((entries[1] as unknown[])[0]).toBe('set');
      expect((entries[1] as unknown[])[1]).toBe(-3);
      expect(entries[2]).toBeNull();
      expect(Array.isArray(await r.call('COMMAND', 'DOCS'))).toBe(true);
      expect(Array.isArray(await r.call('COMMAND', 'DOCS', 'get'))).toBe(true);
      expect(await errorOf(r.call('COMMAND', 'NOPE'))).toBe("ERR unknown subcommand 'NOPE'. Try COMMAND HELP.");
    });
  });

  describe('binary safety and sizes', () => {
    const all256 = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

    it('stores keys and values holding every byte value', async () => {
      const value = Buffer.concat([all256, Buffer.from('\r\n$-1\r\n*1\r\n'), all256.reverse()]);
      await r.set(all256, value);
      expect(await r.getBuffer(all256)).toEqual(value);
      expect(await r.strlen(all256)).toBe(value.length);
      expect(await r.exists(all256)).toBe(1);
      const keys = await r.keysBuffer('*');
      expect(keys).toEqual([all256]);
    });

    it('stores 256 one-byte keys, one per byte value, each with its own value', async () => {
      const pipeline = r.pipeline();
      for (let b = 0; b < 256; b++) pipeline.set(Buffer.from([b]), Buffer.from([b, 255 - b, b]));
      await pipeline.exec();
      expect(await r.dbsize()).toBe(256);
      const keys = Array.from({ length: 256 }, (_, b) => Buffer.from([b]));
      const values = await r.mgetBuffer(...keys);
      values.forEach((value, b) => expect(value).toEqual(Buffer.from([b, 255 - b, b])));
      const listed = (await r.keysBuffer('*')).map((key) => key.toString('hex')).sort();
      expect(listed).toEqual(keys.map((key) => key.toString('hex')).sort());
      expect(await r.del(...keys)).toBe(256);
    });

    it('an empty key and an empty value are ordinary', async () => {
      await r.set('', '');
      expect(await r.get('')).toBe('');
      expect(await r.exists('')).toBe(1);
    });

    it('round-trips values of a few MiB and a 64 KiB key', async () => {
      const large = randomBytes(4 * 1024 * 1024 + 13);
      await r.set('large', large);
      expect((await r.getBuffer('large'))?.equals(large)).toBe(true);
      expect(await r.strlen('large')).toBe(large.length);
      const key = randomBytes(64 * 1024);
      const value = randomBytes(3 * 1024 * 1024);
      await r.set(key, value);
      expect((await r.getBuffer(key))?.equals(value)).toBe(true);
      expect(await r.call('SET', 'large', 'small', 'GET')).not.toBeNull();
      expect(await r.get('large')).toBe('small');
    });
  });

  describe('pipelines', () => {
    it('runs a pipeline of 1000 commands in order, one reply each, errors in place', async () => {
      const pipeline = r.pipeline();
      for (let i = 0; i < 250; i++) {
        pipeline.set(`p:${i}`, `v${i}`);
        pipeline.get(`p:${i}`);
        pipeline.incr(`ctr`);
        if (i % 50 === 0) pipeline.incr(`p:${i}`);
        else pipeline.exists(`p:${i}`, `p:${i}`);
      }
      const results = (await pipeline.exec()) as Array<[Error | null, unknown]>;
      expect(results.length).toBe(1000);
      for (let i = 0; i < 250; i++) {
        const [set, get, ctr, last] = results.slice(i * 4, i * 4 + 4) as Array<[Error | null, unknown]>;
        expect(set).toEqual([null, 'OK']);
        expect(get).toEqual([null, `v${i}`]);
        expect(ctr).toEqual([null, i + 1]);
        if (i % 50 === 0) expect(last?.[0]?.message).toBe('ERR value is not an integer or out of range');
        else expect(last).toEqual([null, 2]);
      }
    });

    it('auto-pipelined concurrent commands from one client all get their own replies', async () => {
      const auto = client(port, { autoPipeline: true });
      await auto.connect();
      const writes = Array.from({ length: 1000 }, (_, i) => auto.set(`auto:${i}`, String(i * 3)));
      expect(new Set(await Promise.all(writes))).toEqual(new Set(['OK']));
      const reads = await Promise.all(Array.from({ length: 1000 }, (_, i) => auto.get(`auto:${i}`)));
      reads.forEach((value, i) => expect(value).toBe(String(i * 3)));
      auto.disconnect();
    });
  });

  describe('REDIS-7 DISAGREEMENT: frostkv answers differently from Redis 7 (lead: fix src/, then drop this note)', () => {
    it('DECRBY with -9223372036854775808 answers "ERR decrement would overflow" and leaves the value unchanged', async () => {
      await r.set('neg', '-10');
      // frostkv negates the delta first and then adds it, so -10 - (-2^63) silently "succeeds".
      expect(await errorOf(r.call('DECRBY', 'neg', kInt64Min))).toBe('ERR decrement would overflow');
      expect(await r.get('neg')).toBe('-10');
      await r.set('pos', '5');
      expect(await errorOf(r.call('DECRBY', 'pos', kInt64Min))).toBe('ERR decrement would overflow');
      expect(await r.get('pos')).toBe('5');
    });

    it('KEYS "[a-]bc" treats "a-]" as a range like Redis stringmatchlen (the class never closes, so nothing matches)', async () => {
      await r.mset('abc', '1', '-bc', '2', ']bc', '3');
      expect(await r.keys('[a-]bc')).toEqual([]);
    });

    it('an unknown command lists its arguments until 128 characters, not only the first three', async () => {
      expect(await errorOf(r.call('FOO', 'a', 'b', 'c', 'd', 'e'))).toBe("ERR unknown command 'FOO', with args beginning with: 'a' 'b' 'c' 'd' 'e' ");
      const long = 'x'.repeat(150);
      expect(await errorOf(r.call('FOO', long, 'b'))).toBe(`ERR unknown command 'FOO', with args beginning with: '${'x'.repeat(128)}' `);
    });

    it('SELECT with a non-integer index answers "ERR value is not an integer or out of range"', async () => {
      expect(await errorOf(r.call('SELECT', 'x'))).toBe('ERR value is not an integer or out of range');
      expect(await errorOf(r.call('SELECT', '00'))).toBe('ERR value is not an integer or out of range');
    });

    it('AUTH default <any> is OK (Redis 7 default user is nopass); AUTH <other user> <pw> answers WRONGPASS', async () => {
      expect(await r.call('AUTH', 'default', 'whatever')).toBe('OK');
      expect(await errorOf(r.call('AUTH', 'someone', 'pw'))).toBe('WRONGPASS invalid username-password pair or user is disabled.');
      expect(await errorOf(r.call('HELLO', '2', 'AUTH', 'someone', 'pw'))).toBe('WRONGPASS invalid username-password pair or user is disabled.');
    });

    it('HELLO answers Redis 7 NOPROTO text for integer versions other than 2 and 3', async () => {
      expect(await errorOf(r.call('HELLO', '0'))).toBe('NOPROTO unsupported protocol version');
      expect(await errorOf(r.call('HELLO', '4'))).toBe('NOPROTO unsupported protocol version');
      expect(await errorOf(r.call('HELLO', '1'))).toBe('NOPROTO unsupported protocol version');
    });

    it('HELLO refuses an unknown option or SETNAME without a name', async () => {
      expect(await errorOf(r.call('HELLO', '2', 'FOO'))).toBe("ERR Syntax error in HELLO option 'FOO'");
      expect(await errorOf(r.call('HELLO', '2', 'SETNAME'))).toBe("ERR Syntax error in HELLO option 'SETNAME'");
    });

    it('CLIENT SETNAME refuses spaces and newlines, and an empty name clears the name', async () => {
      const c = client(port);
      await c.connect();
      const text = 'ERR Client names cannot contain spaces, newlines or special characters.';
      expect(await errorOf(c.call('CLIENT', 'SETNAME', 'a b'))).toBe(text);
      expect(await errorOf(c.call('CLIENT', 'SETNAME', 'a\nb'))).toBe(text);
      await c.call('CLIENT', 'SETNAME', 'named');
      expect(await c.call('CLIENT', 'SETNAME', '')).toBe('OK');
      expect(await c.call('CLIENT', 'GETNAME')).toBeNull();
      c.disconnect();
    });

    it('CLIENT/COMMAND subcommands check their arity; CLIENT SETINFO checks its attribute (Redis 7.2)', async () => {
      expect(await errorOf(r.call('CLIENT', 'GETNAME', 'x'))).toBe("ERR wrong number of arguments for 'client|getname' command");
      expect(await errorOf(r.call('CLIENT', 'ID', 'x'))).toBe("ERR wrong number of arguments for 'client|id' command");
      expect(await errorOf(r.call('COMMAND', 'COUNT', 'x'))).toBe("ERR wrong number of arguments for 'command|count' command");
      expect(await errorOf(r.call('CLIENT', 'SETINFO'))).toBe("ERR wrong number of arguments for 'client|setinfo' command");
      expect(await errorOf(r.call('CLIENT', 'SETINFO', 'lib-name'))).toBe("ERR wrong number of arguments for 'client|setinfo' command");
      expect(await errorOf(r.call('CLIENT', 'SETINFO', 'foo', '1'))).toBe("ERR Unrecognized option 'foo'");
    });

    it('SET accepts a repeated NX (or XX) like Redis 7', async () => {
      await r.set('k', 'v');
      expect(await r.call('SET', 'k', 'w', 'NX', 'NX')).toBeNull();
      expect(await r.call('SET', 'k', 'w', 'XX', 'XX')).toBe('OK');
    });

    it('CONFIG GET of an exact (non-glob) name answers the name as the client spelled it', async () => {
      expect(await r.call('CONFIG', 'GET', 'DATABASES')).toEqual(['DATABASES', '16']);
    });

    it('COMMAND INFO without names describes every command, as COMMAND does', async () => {
      const all = (await r.call('COMMAND', 'INFO')) as unknown[];
      expect(all.length).toBe(kCommands.size);
    });
  });
});

describe('RESP via raw socket: reply encodings ioredis cannot tell apart', () => {
  let server: InProcessServer;
  let raw: RawClient;

  beforeAll(async () => {
    server = await startInProcess({}, { resp: true });
    raw = await RawClient.connect(server.respPort as number);
  });

  afterAll(async () => {
    raw.destroy();
    await server.stop();
  });

  it('answers nil as a null bulk ($-1) for GET, MGET items, SET NX and CLIENT GETNAME', async () => {
    expect(show(await raw.call('GET', 'missing'))).toBe('$nil');
    expect(show(await raw.call('MGET', 'missing'))).toBe('[$nil]');
    await raw.call('SET', 'k', 'v');
    expect(show(await raw.call('SET', 'k', 'v', 'NX'))).toBe('$nil');
    expect(show(await raw.call('CLIENT', 'GETNAME'))).toBe('$nil');
    expect(show(await raw.call('PING'))).toBe('+PONG');
    expect(show(await raw.call('TYPE', 'k'))).toBe('+string');
    expect(show(await raw.call('BGSAVE'))).toBe('+Background saving started');
  });

  it('REDIS-7 DISAGREEMENT: COMMAND INFO answers an unknown name with a null bulk ($-1), not a null array', async () => {
    expect(show(await raw.call('COMMAND', 'INFO', 'no-such-command'))).toBe('[$nil]');
  });

  it('REDIS-7 DISAGREEMENT: INFO of an unknown section answers an empty bulk', async () => {
    expect(show(await raw.call('INFO', 'no-such-section'))).toBe('$');
  });
});

describe('RESP via ioredis: saves', () => {
  let server: InProcessServer;
  let r: Redis;

  beforeAll(async () => {
    server = await startInProcess({}, { resp: true });
    r = client(server.respPort as number);
    await r.connect();
  });

  afterAll(async () => {
    r.disconnect();
    await server.stop();
  });

  it('SAVE answers OK only once the live save is durable (ks/MANIFEST exists); LASTSAVE and INFO follow', async () => {
    // Before any save LASTSAVE is the server's start time, as in Redis.
    const before = await r.lastsave();
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    await r.set('durable', 'yes');
    const startedSeconds = Math.floor(Date.now() / 1000);
    expect(await r.save()).toBe('OK');
    expect(existsSync(join(server.dataDir, 'ks', 'MANIFEST'))).toBe(true);
    const last = await r.lastsave();
    expect(last).toBeGreaterThanOrEqual(startedSeconds);
    expect(last).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    const fields = await info(r, 'persistence');
    expect(fields.get('rdb_last_save_time')).toBe(String(last));
    expect(fields.get('rdb_changes_since_last_save')).toBe('0');
    expect(fields.get('rdb_last_bgsave_status')).toBe('ok');
    expect(Number(fields.get('rdb_last_bgsave_time_sec'))).toBeGreaterThanOrEqual(0);
    expect(fields.get('rdb_bgsave_in_progress')).toBe('0');
    expect(Number(fields.get('frostkv_last_cut_pause_ms'))).toBeGreaterThanOrEqual(0);
    expect(Number(fields.get('current_cow_size'))).toBeGreaterThanOrEqual(0);
    expect(fields.get('frostkv_snapshot_count')).toBe('0');
    expect(fields.get('frostkv_read_only')).toBe('0');
  });

  it('counts changes since the last save as Redis does (per key written, nothing for no-ops)', async () => {
    await r.save();
    expect((await info(r, 'persistence')).get('rdb_changes_since_last_save')).toBe('0');
    await r.set('a', '1');
    await r.mset('b', '1', 'c', '2');
    await r.del('no-such-key');
    await r.set('a', '2', 'NX');
    expect((await info(r, 'persistence')).get('rdb_changes_since_last_save')).toBe('3');
  });

  it('BGSAVE answers "Background saving started" and LASTSAVE moves once the save is done', async () => {
    await r.set('x', '1');
    await r.save();
    const before = await r.lastsave();
    // LASTSAVE has one-second resolution: let the clock pass the previous save's second.
    await waitFor(async () => Math.floor(Date.now() / 1000) > before, 'the next second');
    await r.set('x', '2');
    expect(await r.bgsave()).toBe('Background saving started');
    await waitFor(async () => (await r.lastsave()) > before, 'LASTSAVE to move');
    const fields = await info(r, 'persistence');
    expect(fields.get('rdb_bgsave_in_progress')).toBe('0');
    expect(fields.get('rdb_last_bgsave_status')).toBe('ok');
    expect(fields.get('rdb_last_save_time')).toBe(String(await r.lastsave()));
    expect(fields.get('rdb_changes_since_last_save')).toBe('0');
  });

  it('a second BGSAVE while one runs answers "Background save already in progress"; SCHEDULE queues it', async () => {
    await r.set('y', '1');
    const pipeline = r.pipeline();
    pipeline.bgsave();
    pipeline.bgsave();
    pipeline.call('BGSAVE', 'SCHEDULE');
    const [first, second, third] = (await pipeline.exec()) as Array<[Error | null, unknown]>;
    expect(first).toEqual([null, 'Background saving started']);
    expect(second?.[0]?.message).toBe(RespText.bgsaveRunning);
    expect(RespText.bgsaveRunning).toBe('ERR Background save already in progress');
    expect(third).toEqual([null, 'Background saving scheduled']);
    await waitFor(async () => (await info(r, 'persistence')).get('rdb_bgsave_in_progress') === '0', 'the saves to finish');
    expect(await errorOf(r.call('BGSAVE', 'NOW'))).toBe('ERR syntax error');
  });
});

describe('RESP: the read-only state after a failed save (docs/persistence.md, Failsafe)', () => {
  let server: FrostServer;
  let r: Redis;
  let dataDir: string;
  const faults: FaultInjector = { plan: null };

  beforeAll(async () => {
    dataDir = tempDir();
    const config = withDefaults({
      server: { dataDir, port: 0 },
      bgsave: { enabled: false, every: 120 },
      resp: { enabled: true, port: 0 },
    });
    server = await FrostServer.start(config, { logger: new MemoryLogger(), saveOnShutdown: false, faults });
    r = client(server.addresses.resp?.port as number);
    await r.connect();
  });

  afterEach(() => {
    faults.plan = null;
  });

  afterAll(async () => {
    r.disconnect();
    await server.shutdown();
  });

  /** A well-formed call of each write command (arity right, so only MISCONF can refuse it). */
  const kWriteCalls: Record<string, string[]> = {
    SET: ['k', 'new'],
    SETNX: ['fresh', 'v'],
    GETSET: ['k', 'new'],
    GETDEL: ['k'],
    MSET: ['k', 'new', 'k2', 'v'],
    INCR: ['n'],
    DECR: ['n'],
    INCRBY: ['n', '5'],
    DECRBY: ['n', '5'],
    DEL: ['k'],
    UNLINK: ['k'],
    EXPIRE: ['k', '10'],
    PEXPIRE: ['k', '10'],
    FLUSHDB: [],
    FLUSHALL: [],
    SWAPDB: ['0', '1'],
    SETEX: ['k', '10', 'v'],
    PSETEX: ['k', '1000', 'v'],
    GETEX: ['k', 'PERSIST'],
    MSETNX: ['fresh', 'v'],
    APPEND: ['k', 'x'],
    SETRANGE: ['k', '0', 'x'],
    INCRBYFLOAT: ['n', '1.5'],
    SETBIT: ['k', '0', '1'],
    BITOP: ['AND', 'dest', 'k'],
    BITFIELD: ['k', 'SET', 'u8', '0', '1'],
    RENAME: ['k', 'k3'],
    RENAMENX: ['k', 'k3'],
    COPY: ['k', 'k3'],
    MOVE: ['k', '1'],
    EXPIREAT: ['k', '4102444800'],
    PEXPIREAT: ['k', '4102444800000'],
    PERSIST: ['k'],
    HSET: ['h', 'f', 'v'],
    HSETNX: ['h', 'f', 'v'],
    HMSET: ['h', 'f', 'v'],
    HDEL: ['h', 'f'],
    HINCRBY: ['h', 'f', '1'],
    HINCRBYFLOAT: ['h', 'f', '1.5'],
  };

  it('refuses every write with -MISCONF after a failed BGSAVE, keeps reads working, and recovers after a successful SAVE', async () => {
    await r.mset('k', 'old', 'n', '10');
    expect(await r.save()).toBe('OK');
    const lastGood = await r.lastsave();
    await r.set('k', 'before-failure');

    faults.plan = newFaultPlan('fsync', 1, true);
    expect(await r.bgsave()).toBe('Background saving started');
    await waitFor(async () => (await info(r, 'persistence')).get('frostkv_read_only') === '1', 'the read-only state');
    const fields = await info(r, 'persistence');
    expect(fields.get('rdb_last_bgsave_status')).toBe('err');
    expect(fields.get('rdb_bgsave_in_progress')).toBe('0');
    expect(Number(fields.get('rdb_changes_since_last_save'))).toBeGreaterThan(0);
    expect(await r.lastsave()).toBe(lastGood);

    // Every write command frostkv registers is refused, and nothing changes.
    const writes = [...kCommands].filter(([, spec]) => spec.write).map(([name]) => name);
    expect(writes.sort()).toEqual(Object.keys(kWriteCalls).sort());
    for (const name of writes) {
      const text = await errorOf(r.call(name, ...(kWriteCalls[name] as string[])));
      expect(text, name).toMatch(/^MISCONF /);
    }
    // Arity is still checked first, as in Redis.
    expect(await errorOf(r.call('SET', 'k'))).toBe("ERR wrong number of arguments for 'set' command");

    // Reads keep working and see the data as it was.
    expect(await r.get('k')).toBe('before-failure');
    expect(await r.mget('k', 'n', 'missing')).toEqual(['before-failure', '10', null]);
    expect(await r.exists('k', 'n')).toBe(2);
    expect(await r.strlen('k')).toBe('before-failure'.length);
    expect(await r.dbsize()).toBe(2);
    expect((await r.keys('*')).sort()).toEqual(['k', 'n']);
    expect((await scanAll(r)).keys.sort()).toEqual(['k', 'n']);
    expect(await r.type('k')).toBe('string');
    expect(await r.ttl('k')).toBe(-1);
    expect(await r.ping()).toBe('PONG');
    expect(await r.exists('fresh')).toBe(0);

    // A SAVE that still fails answers an error and stays read-only.
    expect(await errorOf(r.save())).toMatch(/^ERR /);
    expect((await info(r, 'persistence')).get('frostkv_read_only')).toBe('1');

    // Clear the fault: a successful SAVE leaves the read-only state.
    faults.plan = null;
    expect(await r.save()).toBe('OK');
    expect(existsSync(join(dataDir, 'ks', 'MANIFEST'))).toBe(true);
    const after = await info(r, 'persistence');
    expect(after.get('frostkv_read_only')).toBe('0');
    expect(after.get('rdb_last_bgsave_status')).toBe('ok');
    expect(await r.lastsave()).toBeGreaterThanOrEqual(lastGood);
    expect(await r.set('k', 'after-recovery')).toBe('OK');
    expect(await r.get('k')).toBe('after-recovery');
    expect(await r.incr('n')).toBe(11);
  });
});

