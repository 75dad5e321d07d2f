/**
 * RESP3 against a real frostkv server: HELLO 2|3 (with AUTH and SETNAME), the protocol kept per
 * connection, every reply kind in both protocols with Redis 7's RESP2 fallbacks (read byte by
 * byte through the raw client), and node-redis connecting with its defaults (HELLO 3) and with
 * `RESP: 2`.
 */

import { createClient } from 'redis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startInProcess, type InProcessServer } from '../../support/server.js';
import { RawClient, show, type Reply } from './raw.js';

const hex = (text: string): string => Buffer.from(text).toString('hex');

/** A RESP3 map reply as name -> reply. */
function mapOf(reply: Reply): Map<string, Reply> {
  if (reply.t !== '%') throw new Error(`expected a map, got ${show(reply)}`);
  return new Map(reply.v.map(([k, v]) => [k.t === '$' && k.v !== null ? k.v.toString() : show(k), v]));
}

describe('RESP3', () => {
  let server: InProcessServer;
  let port: number;
  let raw: RawClient;

  beforeAll(async () => {
    server = await startInProcess({}, { resp: true });
    port = server.respPort as number;
  });

  afterAll(async () => {
    await server.stop();
  });

  beforeEach(async () => {
    raw?.destroy();
    raw = await RawClient.connect(port);
    await raw.call('FLUSHALL');
  });

  it('HELLO 3 answers Redis 7\'s handshake as a map and switches the connection to RESP3', async () => {
    const fields = mapOf(await raw.call('HELLO', '3'));
    expect([...fields.keys()]).toEqual(['server', 'version', 'proto', 'id', 'mode', 'role', 'modules']);
    expect(show(fields.get('server') as Reply)).toBe(`$${hex('redis')}`);
    expect(show(fields.get('proto') as Reply)).toBe(':3');
    expect(show(fields.get('mode') as Reply)).toBe(`$${hex('standalone')}`);
    expect(show(fields.get('role') as Reply)).toBe(`$${hex('master')}`);
    expect(show(fields.get('modules') as Reply)).toBe('[]');
    expect(show(await raw.call('CLIENT', 'ID'))).toBe(show(fields.get('id') as Reply));
    // HELLO without a version answers in the current protocol.
    expect(show(mapOf(await raw.call('HELLO')).get('proto') as Reply)).toBe(':3');
  });

  it('answers nulls as _ in RESP3 where RESP2 had $-1 (GET, MGET items, CLIENT GETNAME, COMMAND INFO)', async () => {
    await raw.call('HELLO', '3');
    await raw.call('SET', 'k', 'v');
    expect(show(await raw.call('GET', 'missing'))).toBe('_');
    expect(show(await raw.call('GET', 'k'))).toBe(`$${hex('v')}`);
    expect(show(await raw.call('MGET', 'k', 'missing'))).toBe(`[$${hex('v')},_]`);
    expect(show(await raw.call('CLIENT', 'GETNAME'))).toBe('_');
    expect(show(await raw.call('SET', 'k', 'w', 'NX'))).toBe('_');
    expect(show(await raw.call('COMMAND', 'INFO', 'no-such-command'))).toBe('[_]');
  });

  it('answers CONFIG GET as a map, INFO and CLIENT INFO/LIST as verbatim text in RESP3; flat array and bulks in RESP2', async () => {
    await raw.call('HELLO', '3');
    const config = await raw.call('CONFIG', 'GET', 'port');
    expect(show(config)).toBe(`%{$${hex('port')}:$${hex(String(port))}}`);
    const info = await raw.call('INFO', 'server');
    if (info.t !== '=') throw new Error(`INFO answered ${show(info)}`);
    expect(info.v.format).toBe('txt');
    expect(info.v.text.toString()).toMatch(/^# Server\r\n/);
    const clientInfo = await raw.call('CLIENT', 'INFO');
    expect(clientInfo.t).toBe('=');
    expect(clientInfo.t === '=' && clientInfo.v.text.toString()).toMatch(/ resp=3\n$/);
    expect((await raw.call('CLIENT', 'LIST')).t).toBe('=');

    await raw.call('HELLO', '2');
    expect(show(await raw.call('CONFIG', 'GET', 'port'))).toBe(`[$${hex('port')},$${hex(String(port))}]`);
    const info2 = await raw.call('INFO', 'server');
    expect(info2.t).toBe('$');
    expect(info2.t === '$' && info2.v?.toString()).toMatch(/^# Server\r\n/);
    const clientInfo2 = await raw.call('CLIENT', 'INFO');
    expect(clientInfo2.t === '$' && clientInfo2.v?.toString()).toMatch(/ resp=2\n$/);
  });

  it('answers COMMAND INFO with sets for flags, categories and tips, and maps for key specs, in RESP3', async () => {
    await raw.call('HELLO', '3');
    const reply = await raw.call('COMMAND', 'INFO', 'get');
    expect(show(reply)).toBe(
      show({
        t: '*',
        v: [
          {
            t: '*',
            v: [
              { t: '$', v: Buffer.from('get') },
              { t: ':', v: 2n },
              { t: '~', v: [{ t: '+', v: 'readonly' }, { t: '+', v: 'fast' }] },
              { t: ':', v: 1n },
              { t: ':', v: 1n },
              { t: ':', v: 1n },
              { t: '~', v: [{ t: '+', v: '@read' }, { t: '+', v: '@string' }, { t: '+', v: '@fast' }] },
              { t: '~', v: [] },
              {
                t: '~',
                v: [
                  {
                    t: '%',
                    v: [
                      [{ t: '$', v: Buffer.from('flags') }, { t: '~', v: [{ t: '+', v: 'RO' }, { t: '+', v: 'access' }] }],
                      [
                        { t: '$', v: Buffer.from('begin_search') },
                        { t: '%', v: [[{ t: '$', v: Buffer.from('type') }, { t: '$', v: Buffer.from('index') }], [{ t: '$', v: Buffer.from('spec') }, { t: '%', v: [[{ t: '$', v: Buffer.from('index') }, { t: ':', v: 1n }]] }]] },
                      ],
                      [
                        { t: '$', v: Buffer.from('find_keys') },
                        {
                          t: '%',
                          v: [
                            [{ t: '$', v: Buffer.from('type') }, { t: '$', v: Buffer.from('range') }],
                            [
                              { t: '$', v: Buffer.from('spec') },
                              { t: '%', v: [[{ t: '$', v: Buffer.from('lastkey') }, { t: ':', v: 0n }], [{ t: '$', v: Buffer.from('keystep') }, { t: ':', v: 1n }], [{ t: '$', v: Buffer.from('limit') }, { t: ':', v: 0n }]] },
                            ],
                          ],
                        },
                      ],
                    ],
                  },
                ],
              },
              { t: '*', v: [] },
            ],
          },
        ],
      }),
    );
  });

  it('a dirty EXEC answers _ in RESP3 (a null array, *-1, in RESP2)', async () => {
    await raw.call('HELLO', '3');
    await raw.call('WATCH', 'w');
    const other = await RawClient.connect(port);
    try {
      await other.call('SET', 'w', 'x');
    } finally {
      other.destroy();
    }
    await raw.call('MULTI');
    await raw.call('GET', 'w');
    expect(show(await raw.call('EXEC'))).toBe('_');
  });

  it('PING, errors, integers and arrays are the same bytes in both protocols', async () => {
    const commands: string[][] = [['PING'], ['PING', 'hi'], ['ECHO', 'x'], ['INCR', 'n'], ['NOSUCH'], ['KEYS', 'n']];
    const answers = async (): Promise<string[]> => {
      const out: string[] = [];
      for (const command of commands) out.push(show(await raw.call(...command)));
      return out;
    };
    const resp2 = await answers();
    await raw.call('DEL', 'n');
    await raw.call('HELLO', '3');
    expect(await answers()).toEqual(resp2);
    expect(resp2.slice(0, 3)).toEqual(['+PONG', `$${hex('hi')}`, `$${hex('x')}`]);
  });

  it('the protocol is per connection: one client in RESP3 does not change another', async () => {
    const other = await RawClient.connect(port);
    try {
      await raw.call('HELLO', '3');
      expect(show(await raw.call('GET', 'missing'))).toBe('_');
      expect(show(await other.call('GET', 'missing'))).toBe('$nil');
    } finally {
      other.destroy();
    }
  });

  it('HELLO 3 SETNAME names the connection and HELLO 3 AUTH default <any> is accepted without auth configured', async () => {
    const fields = mapOf(await raw.call('HELLO', '3', 'AUTH', 'default', 'anything', 'SETNAME', 'via-hello3'));
    expect(show(fields.get('proto') as Reply)).toBe(':3');
    expect(show(await raw.call('CLIENT', 'GETNAME'))).toBe(`$${hex('via-hello3')}`);
  });

  it('a failed HELLO changes neither the protocol nor the name', async () => {
    expect(show(await raw.call('HELLO', '3', 'AUTH', 'someone', 'pw'))).toBe('-WRONGPASS invalid username-password pair or user is disabled.');
    expect(show(await raw.call('HELLO', '3', 'SETNAME', 'bad name'))).toBe('-ERR Client names cannot contain spaces, newlines or special characters.');
    expect(show(await raw.call('HELLO', '3', 'BOGUS'))).toBe("-ERR Syntax error in HELLO option 'BOGUS'");
    expect(show(await raw.call('HELLO', '4'))).toBe('-NOPROTO unsupported protocol version');
    expect(show(await raw.call('GET', 'missing'))).toBe('$nil');
    expect(show(await raw.call('CLIENT', 'GETNAME'))).toBe('$nil');
  });

  it('RESET answers +RESET and puts the connection back in RESP2', async () => {
    await raw.call('HELLO', '3');
    expect(show(await raw.call('RESET'))).toBe('+RESET');
    expect(show(await raw.call('GET', 'missing'))).toBe('$nil');
  });

  describe.each([undefined, 2] as const)('node-redis with RESP %s', (resp) => {
    it('connects (default options send HELLO 3), runs SET/GET, a pipeline and reads RESP3/RESP2 replies', async () => {
      const c = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: false }, ...(resp === undefined ? {} : { RESP: resp }) });
      c.on('error', () => undefined);
      await c.connect();
      try {
        expect(await c.set('nr', 'value')).toBe('OK');
        expect(await c.get('nr')).toBe('value');
        expect(await c.get('nr-missing')).toBeNull();
        const hello = (await c.hello()) as { proto: number };
        expect(hello.proto).toBe(resp ?? 3);
        const replies = await c.multi().set('p1', '1').incr('p1').get('p1').mGet(['p1', 'missing']).execAsPipeline();
        expect(replies).toEqual(['OK', 2, '2', ['2', null]]);
        expect(await c.configGet('port')).toEqual({ port: String(port) });
        expect(await c.info('server')).toMatch(/^# Server\r\n/);
        const id = await c.clientId();
        const mine = (await c.clientList()).find((entry) => entry.id === id);
        expect(mine?.resp).toBe(resp ?? 3);
      } finally {
        c.destroy();
      }
    });
  });
});
