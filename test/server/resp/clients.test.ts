/**
 * RESP connection commands against a real frostkv server over real sockets: CLIENT LIST / INFO
 * across every connection, CLIENT KILL in all its forms, REPLY, PAUSE / UNPAUSE, NO-EVICT,
 * NO-TOUCH, HELP, RESET, SELECT / SWAPDB / FLUSHALL over numbered databases, and the COMMAND
 * subcommands generated from the command table, with Redis 7.0's replies and texts.
 */

import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { kCommandTable } from '../../../src/server/resp/commands.js';
import { startInProcess, type InProcessServer } from '../../support/server.js';
import { RawClient, show, type Reply } from './raw.js';

const hex = (text: string): string => Buffer.from(text).toString('hex');

/** Redis 7.0's CLIENT LIST fields, in order. */
const kClientFields = [
  'id', 'addr', 'laddr', 'fd', 'name', 'age', 'idle', 'flags', 'db', 'sub', 'psub', 'ssub', 'multi', 'qbuf',
  'qbuf-free', 'argv-mem', 'multi-mem', 'rbs', 'rbp', 'obl', 'oll', 'omem', 'tot-mem', 'events', 'cmd', 'user',
  'redir', 'resp',
];

function text(reply: Reply): string {
  if (reply.t === '$' && reply.v !== null) return reply.v.toString();
  if (reply.t === '=') return reply.v.text.toString();
  throw new Error(`expected text, got ${show(reply)}`);
}

/** CLIENT LIST text as one field map per line. */
function parseList(list: string): Array<Map<string, string>> {
  expect(list.endsWith('\n')).toBe(true);
  return list
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const fields = line.split(' ').map((field) => {
        const at = field.indexOf('=');
        return [field.slice(0, at), field.slice(at + 1)] as [string, string];
      });
      expect(fields.map(([name]) => name)).toEqual(kClientFields);
      return new Map(fields);
    });
}

async function listOf(raw: RawClient): Promise<Array<Map<string, string>>> {
  return parseList(text(await raw.call('CLIENT', 'LIST')));
}

async function idOf(raw: RawClient): Promise<string> {
  const reply = await raw.call('CLIENT', 'ID');
  if (reply.t !== ':') throw new Error(show(reply));
  return String(reply.v);
}

describe('RESP connection commands', () => {
  let server: InProcessServer;
  let port: number;
  const opened: RawClient[] = [];

  async function connect(): Promise<RawClient> {
    const raw = await RawClient.connect(port);
    opened.push(raw);
    return raw;
  }

  beforeAll(async () => {
    server = await startInProcess({}, { resp: true });
    port = server.respPort as number;
  });

  afterAll(async () => {
    for (const raw of opened) raw.destroy();
    await server.stop();
  });

  beforeEach(async () => {
    for (const raw of opened.splice(0)) raw.destroy();
    const cleaner = await connect();
    await cleaner.call('FLUSHALL');
  });

  describe('CLIENT LIST and INFO', () => {
    it('lists every RESP connection, with Redis 7\'s fields in order, including one that sent nothing yet', async () => {
      const a = await connect();
      const b = await connect();
      const silent = await connect();
      const idA = await idOf(a);
      const idB = await idOf(b);
      await b.call('CLIENT', 'SETNAME', 'bee');
      await b.call('SELECT', '3');
      await b.call('MULTI');
      await b.call('GET', 'x');
      await b.call('GET', 'y');
      // Wait until the silent connection is accepted (it appears once the server has it).
      let lines = await listOf(a);
      for (let tries = 0; tries < 50 && !lines.some((line) => line.get('addr') === `127.0.0.1:${silent.socket.localPort}`); tries++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        lines = await listOf(a);
      }
      const byId = new Map(lines.map((line) => [line.get('id'), line]));
      const mine = byId.get(idA) as Map<string, string>;
      expect(mine.get('addr')).toBe(`127.0.0.1:${a.socket.localPort}`);
      expect(mine.get('laddr')).toBe(`127.0.0.1:${port}`);
      expect(mine.get('cmd')).toBe('client|list');
      expect(mine.get('flags')).toBe('N');
      expect(mine.get('multi')).toBe('-1');
      expect(mine.get('user')).toBe('default');
      expect(mine.get('resp')).toBe('2');
      expect(mine.get('db')).toBe('0');
      const bee = byId.get(idB) as Map<string, string>;
      expect(bee.get('name')).toBe('bee');
      expect(bee.get('db')).toBe('3');
      expect(bee.get('flags')).toBe('x');
      expect(bee.get('multi')).toBe('2');
      const quiet = lines.find((line) => line.get('addr') === `127.0.0.1:${silent.socket.localPort}`);
      expect(quiet?.get('cmd')).toBe('NULL');
      // A closed connection leaves the list.
      b.destroy();
      for (let tries = 0; tries < 50 && (await listOf(a)).some((line) => line.get('id') === idB); tries++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect((await listOf(a)).some((line) => line.get('id') === idB)).toBe(false);
    });

    it('CLIENT LIST ID and TYPE filter; bad ids and types answer Redis texts', async () => {
      const a = await connect();
      const b = await connect();
      const idB = await idOf(b);
      const only = parseList(text(await a.call('CLIENT', 'LIST', 'ID', idB, '999999')));
      expect(only.map((line) => line.get('id'))).toEqual([idB]);
      expect(parseList(text(await a.call('CLIENT', 'LIST', 'TYPE', 'normal'))).length).toBeGreaterThanOrEqual(2);
      expect(text(await a.call('CLIENT', 'LIST', 'TYPE', 'pubsub'))).toBe('');
      expect(show(await a.call('CLIENT', 'LIST', 'TYPE', 'bogus'))).toBe("-ERR Unknown client type 'bogus'");
      expect(show(await a.call('CLIENT', 'LIST', 'ID', 'x'))).toBe('-ERR Invalid client ID');
      expect(show(await a.call('CLIENT', 'LIST', 'BOGUS'))).toBe('-ERR syntax error');
    });

    it('CLIENT INFO is this connection\'s line; it shows the watched-key flag d once a watched key changed', async () => {
      const a = await connect();
      const other = await connect();
      const id = await idOf(a);
      const [line] = parseList(text(await a.call('CLIENT', 'INFO')));
      expect(line?.get('id')).toBe(id);
      expect(line?.get('cmd')).toBe('client|info');
      await a.call('WATCH', 'k');
      await other.call('SET', 'k', 'v');
      expect(parseList(text(await a.call('CLIENT', 'INFO')))[0]?.get('flags')).toBe('d');
    });

    it('NO-EVICT and NO-TOUCH set the e and T flags; other values are a syntax error', async () => {
      const a = await connect();
      expect(show(await a.call('CLIENT', 'NO-EVICT', 'on'))).toBe('+OK');
      expect(show(await a.call('CLIENT', 'NO-TOUCH', 'ON'))).toBe('+OK');
      expect(parseList(text(await a.call('CLIENT', 'INFO')))[0]?.get('flags')).toBe('eT');
      expect(show(await a.call('CLIENT', 'NO-EVICT', 'off'))).toBe('+OK');
      expect(show(await a.call('CLIENT', 'NO-TOUCH', 'off'))).toBe('+OK');
      expect(parseList(text(await a.call('CLIENT', 'INFO')))[0]?.get('flags')).toBe('N');
      expect(show(await a.call('CLIENT', 'NO-EVICT', 'maybe'))).toBe('-ERR syntax error');
      expect(show(await a.call('CLIENT', 'NO-TOUCH'))).toBe("-ERR wrong number of arguments for 'client|no-touch' command");
    });
  });

  describe('CLIENT KILL', () => {
    it('the old form kills the connection at ip:port (OK) or answers "No such client"', async () => {
      const killer = await connect();
      const victim = await connect();
      await victim.call('PING');
      expect(show(await killer.call('CLIENT', 'KILL', `127.0.0.1:${victim.socket.localPort}`))).toBe('+OK');
      await victim.waitClosed();
      expect(show(await killer.call('CLIENT', 'KILL', '127.0.0.1:1'))).toBe('-ERR No such client');
    });

    it('ID, ADDR and LADDR filters kill the matching connections and answer how many', async () => {
      const killer = await connect();
      const byId = await connect();
      const byAddr = await connect();
      expect(show(await killer.call('CLIENT', 'KILL', 'ID', await idOf(byId)))).toBe(':1');
      await byId.waitClosed();
      expect(show(await killer.call('CLIENT', 'KILL', 'ADDR', `127.0.0.1:${byAddr.socket.localPort}`, 'SKIPME', 'yes'))).toBe(':1');
      await byAddr.waitClosed();
      const more = [await connect(), await connect()];
      for (const raw of more) await raw.call('PING');
      const killed = await killer.call('CLIENT', 'KILL', 'LADDR', `127.0.0.1:${port}`);
      // Every other connection on this listener, not the caller (SKIPME defaults to yes).
      expect(killed.t === ':' && killed.v >= 2n).toBe(true);
      for (const raw of more) await raw.waitClosed();
      expect(show(await killer.call('PING'))).toBe('+PONG');
    });

    it('USER default with SKIPME no kills the caller too, after its reply', async () => {
      const a = await connect();
      const b = await connect();
      await b.call('PING');
      const reply = await a.call('CLIENT', 'KILL', 'USER', 'default', 'SKIPME', 'no');
      expect(reply.t === ':' && reply.v >= 2n).toBe(true);
      await a.waitClosed();
      await b.waitClosed();
    });

    it('answers Redis texts for bad filters', async () => {
      const a = await connect();
      expect(show(await a.call('CLIENT', 'KILL', 'ID', '0'))).toBe('-ERR client-id should be greater than 0');
      expect(show(await a.call('CLIENT', 'KILL', 'ID', 'x'))).toBe('-ERR client-id should be greater than 0');
      expect(show(await a.call('CLIENT', 'KILL', 'USER', 'nobody'))).toBe("-ERR No such user 'nobody'");
      expect(show(await a.call('CLIENT', 'KILL', 'SKIPME', 'maybe'))).toBe('-ERR syntax error');
      expect(show(await a.call('CLIENT', 'KILL', 'TYPE', 'bogus'))).toBe("-ERR Unknown client type 'bogus'");
      expect(show(await a.call('CLIENT', 'KILL', 'ID', '1', 'ADDR'))).toBe('-ERR syntax error');
      expect(show(await a.call('CLIENT', 'KILL', 'BOGUS', 'x'))).toBe('-ERR syntax error');
      expect(show(await a.call('CLIENT', 'KILL', 'TYPE', 'master'))).toBe(':0');
      expect(show(await a.call('CLIENT', 'KILL'))).toBe("-ERR wrong number of arguments for 'client|kill' command");
    });
  });

  describe('CLIENT REPLY', () => {
    it('OFF answers nothing until ON (whose OK is sent); SKIP drops only the next reply', async () => {
      const a = await connect();
      await a.call('SET', 'k', 'v');
      a.write('*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n');
      a.write('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nw\r\n');
      a.write('*1\r\n$7\r\nNOSUCH1\r\n');
      a.write('*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$2\r\nON\r\n');
      a.write('*2\r\n$3\r\nGET\r\n$1\r\nk\r\n');
      a.write('*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$4\r\nSKIP\r\n');
      a.write('*2\r\n$3\r\nGET\r\n$1\r\nk\r\n');
      a.write('*1\r\n$4\r\nPING\r\n');
      const replies = (await a.replies(4)).map(show);
      expect(replies).toEqual(['+OK', '+OK', `$${hex('w')}`, '+PONG']);
      expect(show(await a.call('CLIENT', 'REPLY', 'maybe'))).toBe('-ERR syntax error');
    });
  });

  describe('CLIENT PAUSE', () => {
    it('WRITE holds writes (not reads) of every client until UNPAUSE; held commands then run in order', async () => {
      const admin = await connect();
      const writer = await connect();
      expect(show(await admin.call('CLIENT', 'PAUSE', '60000', 'WRITE'))).toBe('+OK');
      expect(show(await writer.call('GET', 'k'))).toBe('$nil');
      writer.write('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n');
      writer.write('*2\r\n$3\r\nGET\r\n$1\r\nk\r\n');
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await writer.replies(1)).length).toBe(1);
      expect(show(await admin.call('GET', 'k'))).toBe('$nil');
      expect(show(await admin.call('CLIENT', 'UNPAUSE'))).toBe('+OK');
      expect((await writer.replies(3)).slice(1).map(show)).toEqual(['+OK', `$${hex('v')}`]);
    });

    it('ALL holds every command until the timeout', async () => {
      const admin = await connect();
      const reader = await connect();
      const pauseMs = 400;
      const started = Date.now();
      expect(show(await admin.call('CLIENT', 'PAUSE', String(pauseMs)))).toBe('+OK');
      expect(show(await reader.call('PING'))).toBe('+PONG');
      expect(Date.now() - started).toBeGreaterThanOrEqual(pauseMs - 50);
    });

    it('a write held by a pause from a connection that closes meanwhile is never run', async () => {
      const admin = await connect();
      const leaver = await connect();
      expect(show(await admin.call('CLIENT', 'PAUSE', '60000', 'WRITE'))).toBe('+OK');
      leaver.write('*3\r\n$3\r\nSET\r\n$4\r\nlost\r\n$1\r\nv\r\n');
      await new Promise((resolve) => setTimeout(resolve, 100));
      leaver.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(show(await admin.call('CLIENT', 'UNPAUSE'))).toBe('+OK');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(show(await admin.call('EXISTS', 'lost'))).toBe(':0');
    });

    it('answers Redis texts for a bad timeout or mode', async () => {
      const a = await connect();
      expect(show(await a.call('CLIENT', 'PAUSE', 'x'))).toBe('-ERR timeout is not an integer or out of range');
      expect(show(await a.call('CLIENT', 'PAUSE', '-1'))).toBe('-ERR timeout is negative');
      expect(show(await a.call('CLIENT', 'PAUSE', '10', 'SOME'))).toBe('-ERR CLIENT PAUSE mode must be WRITE or ALL');
      expect(show(await a.call('CLIENT', 'PAUSE'))).toBe("-ERR wrong number of arguments for 'client|pause' command");
    });
  });

  it('CLIENT HELP answers the help lines; an unknown subcommand answers Redis\'s text', async () => {
    const a = await connect();
    const help = await a.call('CLIENT', 'HELP');
    if (help.t !== '*' || help.v === null) throw new Error(show(help));
    expect(show(help.v[0] as Reply)).toBe('+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    expect(help.v.map(show)).toContain('+PAUSE <timeout-ms> [WRITE|ALL]');
    expect(show(help.v[help.v.length - 2] as Reply)).toBe('+HELP');
    expect(show(await a.call('CLIENT', 'NOPE'))).toBe("-ERR unknown subcommand 'NOPE'. Try CLIENT HELP.");
    expect(show(await a.call('CONFIG', 'NOPE'))).toBe("-ERR unknown subcommand 'NOPE'. Try CONFIG HELP.");
    expect(show(await a.call('COMMAND', 'NOPE'))).toBe("-ERR unknown subcommand 'NOPE'. Try COMMAND HELP.");
  });

  it('RESET clears the name, the database, REPLY OFF and the transaction', async () => {
    const a = await connect();
    await a.call('CLIENT', 'SETNAME', 'n');
    await a.call('SELECT', '2');
    a.write('*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n');
    a.write('*1\r\n$5\r\nMULTI\r\n');
    // REPLY OFF and MULTI answered nothing; RESET answers.
    expect(show(await a.call('RESET'))).toBe('+RESET');
    const [line] = parseList(text(await a.call('CLIENT', 'INFO')));
    expect(line?.get('name')).toBe('');
    expect(line?.get('db')).toBe('0');
    expect(line?.get('multi')).toBe('-1');
  });

  describe('numbered databases', () => {
    it('SELECT N uses its own table <keyspace>:db<N>, visible through the embedded API', async () => {
      const a = await connect();
      await a.call('SET', 'k', 'zero');
      expect(show(await a.call('SELECT', '5'))).toBe('+OK');
      expect(show(await a.call('GET', 'k'))).toBe('$nil');
      await a.call('SET', 'k', 'five');
      expect(server.server.db.engine.table('default:db5').getString('k')).toBe('five');
      expect(server.server.db.engine.table('default:default').getString('k')).toBe('zero');
      expect(show(await a.call('SELECT', '0'))).toBe('+OK');
      expect(show(await a.call('GET', 'k'))).toBe(`$${hex('zero')}`);
      expect(show(await a.call('SELECT', '16'))).toBe('-ERR DB index is out of range');
    });

    it('SWAPDB exchanges two databases for every client, expiry times included; FLUSHALL empties them all', async () => {
      const a = await connect();
      const b = await connect();
      await a.call('SET', 'only-in-0', 'x');
      server.server.db.engine.table('default:default').set('expiring', 'e', { ttlMs: 600_000 });
      await b.call('SELECT', '1');
      await b.call('SET', 'only-in-1', 'y');
      expect(show(await a.call('SWAPDB', '0', '1'))).toBe('+OK');
      expect(show(await a.call('GET', 'only-in-1'))).toBe(`$${hex('y')}`);
      expect(show(await a.call('GET', 'only-in-0'))).toBe('$nil');
      expect(show(await b.call('GET', 'only-in-0'))).toBe(`$${hex('x')}`);
      const ttl = server.server.db.engine.table('default:db1').ttl('expiring');
      expect(typeof ttl === 'number' && ttl > 500_000).toBe(true);
      expect(show(await a.call('SWAPDB', 'x', '1'))).toBe('-ERR invalid first DB index');
      expect(show(await a.call('SWAPDB', '0', 'y'))).toBe('-ERR invalid second DB index');
      expect(show(await a.call('SWAPDB', '0', '16'))).toBe('-ERR DB index is out of range');
      expect(show(await a.call('FLUSHALL'))).toBe('+OK');
      expect(show(await b.call('DBSIZE'))).toBe(':0');
      expect(show(await a.call('DBSIZE'))).toBe(':0');
    });
  });

  describe('COMMAND, generated from the command table', () => {
    it('COMMAND COUNT and COMMAND LIST agree with the table; LIST filters by ACL category and pattern', async () => {
      const a = await connect();
      expect(show(await a.call('COMMAND', 'COUNT'))).toBe(`:${kCommandTable.size}`);
      const list = await a.call('COMMAND', 'LIST');
      if (list.t !== '*' || list.v === null) throw new Error(show(list));
      const names = list.v.map(text);
      expect(names.sort()).toEqual(kCommandTable.allNames().sort());
      expect(names).toContain('client|list');
      const transactions = await a.call('COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'transaction');
      expect(transactions.t === '*' && transactions.v?.map(text).sort()).toEqual(['discard', 'exec', 'multi', 'unwatch', 'watch']);
      const clients = await a.call('COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'client|*');
      expect(clients.t === '*' && clients.v?.map(text).every((name) => name.startsWith('client|'))).toBe(true);
      expect(show(await a.call('COMMAND', 'LIST', 'FILTERBY', 'MODULE', 'x'))).toBe('[]');
      expect(show(await a.call('COMMAND', 'LIST', 'FILTERBY', 'BOGUS', 'x'))).toBe('-ERR syntax error');
    });

    it('COMMAND INFO describes subcommands by their full name; COMMAND DOCS answers each entry\'s group', async () => {
      const a = await connect();
      const info = await a.call('COMMAND', 'INFO', 'client|kill');
      expect(info.t === '*' && info.v?.[0]?.t === '*' && show(info.v[0].v?.[0] as Reply)).toBe(`$${hex('client|kill')}`);
      const client = await a.call('COMMAND', 'INFO', 'client');
      const subs = client.t === '*' && client.v?.[0]?.t === '*' ? client.v[0].v?.[9] : undefined;
      expect(subs?.t === '*' && subs.v?.length).toBe(kCommandTable.get('CLIENT')?.subcommands?.size);
      const docs = await a.call('COMMAND', 'DOCS', 'get', 'nope');
      // A map (flat in RESP2) of the known names only; each entry's docs always carry its group.
      if (docs.t !== '*' || docs.v === null || docs.v.length !== 2) throw new Error(show(docs));
      expect(show(docs.v[0] as Reply)).toBe(`$${hex('get')}`);
      const fields = (docs.v[1] as Reply).t === '*' ? ((docs.v[1] as { v: Reply[] }).v ?? []) : [];
      const at = fields.findIndex((field) => show(field) === `$${hex('group')}`);
      expect(at % 2).toBe(0);
      expect(show(fields[at + 1] as Reply)).toBe(`$${hex('string')}`);
    });

    it('COMMAND GETKEYS answers the keys from the table\'s key positions, with Redis texts for errors', async () => {
      const a = await connect();
      expect(show(await a.call('COMMAND', 'GETKEYS', 'MSET', 'a', '1', 'b', '2'))).toBe(`[$${hex('a')},$${hex('b')}]`);
      expect(show(await a.call('COMMAND', 'GETKEYS', 'GET', 'k'))).toBe(`[$${hex('k')}]`);
      expect(show(await a.call('COMMAND', 'GETKEYS', 'DEL', 'x', 'y', 'z'))).toBe(`[$${hex('x')},$${hex('y')},$${hex('z')}]`);
      expect(show(await a.call('COMMAND', 'GETKEYS', 'WATCH', 'w'))).toBe(`[$${hex('w')}]`);
      expect(show(await a.call('COMMAND', 'GETKEYS', 'NOPE', 'x'))).toBe('-ERR Invalid command specified');
      expect(show(await a.call('COMMAND', 'GETKEYS', 'PING', 'x'))).toBe('-ERR The command has no key arguments');
      expect(show(await a.call('COMMAND', 'GETKEYS', 'GET', 'a', 'b'))).toBe('-ERR Invalid number of arguments specified for command');
      expect(show(await a.call('COMMAND', 'GETKEYS', 'MSET', 'a', '1', 'b'))).toBe('-ERR Invalid arguments specified for command');
    });
  });

  it('ioredis works against the numbered databases through its db option', async () => {
    const r = new Redis({ host: '127.0.0.1', port, db: 7, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    await r.connect();
    try {
      await r.set('in-seven', 'v');
      expect(server.server.db.engine.table('default:db7').getString('in-seven')).toBe('v');
    } finally {
      r.disconnect();
    }
  });
});
