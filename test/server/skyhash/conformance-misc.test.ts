/**
 * docs/behaviour.md (Skyhash) over a real socket: HEYA, SYS INFO / SYS METRIC, AUTH with auth
 * off, unknown actions, case-insensitive action names, and pipelines (`*n` reply header, one
 * element per query in order, errors in place, state changes visible to later queries).
 */

import { lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SkyClient, pipeline, query, type Arg } from '../../support/skyhash.js';
import type { InProcessServer } from '../../support/server.js';
import {
  ACTION_ERROR,
  ENCODING,
  NIL,
  OK,
  UNKNOWN_ACTION,
  bin,
  code,
  err,
  float,
  freshTable,
  kBadUtf8,
  many,
  nonNull,
  one,
  startServer,
  str,
  typed,
  uint,
  expectRepliesOn,
} from './helpers.js';

let server: InProcessServer;
let client: SkyClient;

beforeAll(async () => {
  server = await startServer();
  client = await SkyClient.connect(server.port);
});

afterAll(async () => {
  client.close();
  await server.stop();
});

function expectReplies(steps: ReadonlyArray<readonly [Arg[], string]>, on: SkyClient = client): Promise<void> {
  return expectRepliesOn(on, steps);
}

describe('HEYA', () => {
  it('answers HEY! with no argument and echoes one argument as a string', async () => {
    await expectReplies([
      [['HEYA'], '*1\n+4\nHEY!\n'],
      [['HEYA', 'abcd'], '*1\n+4\nabcd\n'],
      [['HEYA', ''], one(str(''))],
      [['HEYA', 'a', 'b'], ACTION_ERROR],
    ]);
  });
});

/** Sum of the sizes of the regular files under `dir`. */
function fileBytesUnder(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += fileBytesUnder(path);
    else if (entry.isFile()) total += lstatSync(path).size;
  }
  return total;
}

describe('SYS', () => {
  it('SYS INFO answers the version, the protocol name and the protocol version', async () => {
    const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    await expectReplies([
      [['SYS', 'INFO', 'version'], one(str(version))],
      [['SYS', 'INFO', 'protocol'], '*1\n+11\nSkyhash-1.0\n'],
      [['SYS', 'INFO', 'protover'], one(float('1'))],
      [['sys', 'info', 'VERSION'], one(str(version))],
    ]);
  });

  it('SYS METRIC health answers good on a healthy server', async () => {
    await expectReplies([[['SYS', 'METRIC', 'health'], '*1\n+4\ngood\n']]);
  });

  it('SYS METRIC storage answers the bytes used by the data directory, which grow with a snapshot', async () => {
    const before = await client.run('SYS', 'METRIC', 'storage');
    expect(before).toMatch(/^\*1\n:(\d+)\n(\d+)\n$/);
    const [, digits = '', bytes = ''] = /^\*1\n:(\d+)\n(\d+)\n$/.exec(before) ?? [];
    expect(Number(digits)).toBe(bytes.length);
    await client.run('USE', 'default:default');
    await client.run('USET', 'storage-key', Buffer.alloc(100_000, 'z'));
    expect(await client.run('MKSNAP', 'storage-probe')).toBe(OK);
    const after = await client.run('SYS', 'METRIC', 'storage');
    const [, , afterBytes = ''] = /^\*1\n:(\d+)\n(\d+)\n$/.exec(after) ?? [];
    expect(Number(afterBytes)).toBeGreaterThan(Number(bytes));
    // Exactly the bytes of the files under the data directory (nothing is being written now).
    expect(after).toBe(one(uint(fileBytesUnder(server.dataDir))));
  });

  it('answers unknown-property, unknown-metric, Unknown action and 3', async () => {
    await expectReplies([
      [['SYS', 'INFO', 'colour'], one(err('unknown-property'))],
      [['SYS', 'METRIC', 'colour'], one(err('unknown-metric'))],
      [['SYS', 'STATUS', 'x'], UNKNOWN_ACTION],
      [['SYS'], ACTION_ERROR],
      [['SYS', 'INFO'], ACTION_ERROR],
      [['SYS', 'INFO', 'version', 'x'], ACTION_ERROR],
    ]);
  });
});

describe('AUTH with auth disabled', () => {
  it('answers err-auth-disabled to every subcommand', async () => {
    await expectReplies([
      [['AUTH', 'LOGIN', 'root', 'token'], one(err('err-auth-disabled'))],
      [['AUTH', 'CLAIM', 'x'.repeat(40)], one(err('err-auth-disabled'))],
      [['AUTH', 'LOGOUT'], one(err('err-auth-disabled'))],
      [['AUTH', 'ADDUSER', 'bob'], one(err('err-auth-disabled'))],
      [['AUTH', 'DELUSER', 'bob'], one(err('err-auth-disabled'))],
      [['AUTH', 'RESTORE', 'bob'], one(err('err-auth-disabled'))],
      [['AUTH', 'LISTUSER'], one(err('err-auth-disabled'))],
      [['AUTH', 'WHOAMI'], one(err('err-auth-disabled'))],
      [['auth', 'whoami'], one(err('err-auth-disabled'))],
    ]);
    // Everything else keeps working without logging in.
    await expectReplies([[['HEYA'], one(str('HEY!'))]]);
  });
});

describe('action names', () => {
  it('answers !14 Unknown action to an unknown action', async () => {
    await expectReplies([
      [['FOO'], '*1\n!14\nUnknown action\n'],
      [['GETX', 'a'], UNKNOWN_ACTION],
      [['GE'], UNKNOWN_ACTION],
      [[''], UNKNOWN_ACTION],
      [['X'.repeat(1000)], UNKNOWN_ACTION],
      [[Buffer.from([0xff, 0x00, 0x0a])], UNKNOWN_ACTION],
      [['SET\0', 'a', 'b'], UNKNOWN_ACTION],
      [[' SET', 'a', 'b'], UNKNOWN_ACTION],
    ]);
  });

  it('matches action names in any case', async () => {
    const t = await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['set', 'a', '1'], OK],
      [['Set', 'b', '2'], OK],
      [['gEt', 'a'], one(str('1'))],
      [['mget', 'a', 'b'], one(typed('+', ['1', '2']))],
      [['Exists', 'a'], one(uint(1))],
      [['update', 'a', '3'], OK],
      [['uset', 'c', '4'], one(uint(1))],
      [['keylen', 'c'], one(uint(1))],
      [['dbsize'], one(uint(3))],
      [['pop', 'c'], one(str('4'))],
      [['del', 'b'], one(uint(1))],
      [['heya'], one(str('HEY!'))],
      [['whereami'], one(nonNull('+', ['default', t]))],
      [['flushdb'], OK],
    ]);
  });
});

describe('pipelines', () => {
  async function runPipeline(...queries: Arg[][]): Promise<string> {
    client.send(pipeline(...queries));
    return (await client.response()).toString('latin1');
  }

  it('answers *n then one element per query, in order', async () => {
    await client.run('USE', 'default:default');
    await client.run('DEL', 'p1', 'p2');
    expect(await runPipeline(['SET', 'p1', '1'], ['GET', 'p1'], ['GET', 'p2'], ['HEYA'])).toBe(
      many(code(0), bin('1'), code(1), str('HEY!')),
    );
  });

  it('includes each query error in its place and keeps running the rest', async () => {
    await freshTable(client, 'keymap(str,str)');
    expect(
      await runPipeline(
        ['SET', 'a', '1'],
        ['NOSUCH'],
        ['GET'],
        ['SET', 'a', '2'],
        ['SET', 'b', kBadUtf8],
        ['LGET', 'a'],
        ['USE', 'nosuchks'],
        ['GET', 'a'],
      ),
    ).toBe(
      many(code(0), err('Unknown action'), code(3), code(2), code(9), err('wrong-model'), err('container-not-found'), str('1')),
    );
  });

  it('applies each query before the next: USE in a pipeline moves the later queries', async () => {
    const t = await freshTable(client, 'keymap(str,str)');
    await client.run('USE', 'default:default');
    expect(
      await runPipeline(['USE', `default:${t}`], ['SET', 'moved', 'yes'], ['WHEREAMI'], ['USE', 'default:default'], ['GET', 'moved']),
    ).toBe(many(code(0), code(0), nonNull('+', ['default', t]), code(0), code(1)));
    expect(await client.run('USE', `default:${t}`)).toBe(OK);
    expect(await client.run('GET', 'moved')).toBe(one(str('yes')));
  });

  it('answers a pipeline of 1,000 queries with 1,000 elements', async () => {
    await freshTable(client, 'keymap(str,str)');
    const queries = Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? ['SET', `k${i}`, `v${i}`] : ['GET', `k${i - 1}`]));
    const expected = many(...Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? code(0) : str(`v${i - 1}`))));
    expect(await runPipeline(...queries)).toBe(expected);
  });

  it('answers pipelines and simple queries sent back to back in one write, in order', async () => {
    await freshTable(client, 'keymap(str,str)');
    client.send(Buffer.concat([pipeline(['SET', 'x', '1'], ['GET', 'x']), query('GET', 'x'), pipeline(['DEL', 'x'], ['GET', 'x'])]));
    expect((await client.response()).toString('latin1')).toBe(many(code(0), str('1')));
    expect((await client.response()).toString('latin1')).toBe(one(str('1')));
    expect((await client.response()).toString('latin1')).toBe(many(uint(1), code(1)));
  });

  it('answers a pipeline containing MKSNAP in order, MKSNAP replying 0 in its place', async () => {
    await client.run('USE', 'default:default');
    await client.run('DEL', 'pm');
    client.send(
      Buffer.concat([
        pipeline(['SET', 'pm', 'before'], ['MKSNAP', 'in-pipeline'], ['GET', 'pm'], ['MKSNAP'], ['UPDATE', 'pm', 'after'], ['HEYA']),
        query('GET', 'pm'),
      ]),
    );
    expect((await client.response()).toString('latin1')).toBe(
      many(code(0), code(0), bin('before'), err('err-snapshot-disabled'), code(0), str('HEY!')),
    );
    expect((await client.response()).toString('latin1')).toBe(one(bin('after')));
  });

  it('answers NIL and encoding errors the same inside a pipeline as outside', async () => {
    await freshTable(client, 'keymap(str,str)');
    const simple = [await client.run('GET', 'none'), await client.run('GET', kBadUtf8)];
    expect(simple).toEqual([NIL, ENCODING]);
    expect(await runPipeline(['GET', 'none'], ['GET', kBadUtf8])).toBe(many(code(1), code(9)));
  });
});
