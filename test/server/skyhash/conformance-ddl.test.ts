/**
 * docs/behaviour.md (Skyhash actions), entity rows, byte for byte over a real socket: USE and WHEREAMI, CREATE
 * KEYSPACE / CREATE TABLE, DROP TABLE / DROP KEYSPACE [force], INSPECT in all forms, DBSIZE and
 * FLUSHDB with an entity, and LSKEYS in every form (including `entity all` and a count large
 * enough to be written across several event-loop turns).
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withDefaults } from '../../../src/config/types.js';
import { newFaultPlan } from '../../../src/persist/fs-seam.js';
import type { FaultInjector } from '../../../src/persist/persistence.js';
import { FrostServer } from '../../../src/server/server.js';
import { MemoryLogger } from '../../../src/util/log.js';
import { SkyClient, pipeline, query, type Arg } from '../../support/skyhash.js';
import type { InProcessServer } from '../../support/server.js';
import { tempDir } from '../../support/tmp.js';
import {
  ACTION_ERROR,
  ENCODING,
  OK,
  SERVER_ERROR,
  UNKNOWN_DATA_TYPE,
  WRONG_TYPE,
  decodeArray,
  eventually,
  err,
  freshName,
  nonNull,
  one,
  startServer,
  str,
  typed,
  uint,
  expectRepliesOn,
} from './helpers.js';

const NOT_FOUND = one(err('container-not-found'));
const UNSET = one(err('default-container-unset'));
const EXISTS_ALREADY = one(err('err-already-exists'));
const MALFORMED = one(err('malformed-expression'));
const TOO_LONG = one(err('container-name-too-long'));
const PROTECTED = one(err('err-protected-object'));
const IN_USE = one(err('still-in-use'));
const NOT_EMPTY = one(err('keyspace-not-empty'));

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

function describeModel(key: string, value: string, volatile = false): string {
  return `Keymap { data:(${key},${value}), volatile:${volatile} }`;
}

describe('a fresh server', () => {
  it('starts every connection on default:default, whose model is keymap(binstr,binstr)', async () => {
    const fresh = await SkyClient.connect(server.port);
    await expectReplies(
      [
        [['WHEREAMI'], one(nonNull('+', ['default', 'default']))],
        [['INSPECT', 'KEYSPACES'], one(nonNull('+', ['default']))],
        [['INSPECT', 'KEYSPACE'], one(nonNull('+', ['default']))],
        [['INSPECT', 'TABLE'], one(str(describeModel('binstr', 'binstr')))],
        [['INSPECT', 'TABLE', 'default:default'], one('+47\nKeymap { data:(binstr,binstr), volatile:false }\n')],
      ],
      fresh,
    );
    fresh.close();
  });
});

describe('USE and WHEREAMI', () => {
  it('USE ks selects a keyspace and no table; KV actions then answer default-container-unset', async () => {
    const ks = freshName('ks');
    const c = await SkyClient.connect(server.port);
    await expectReplies(
      [
        [['CREATE', 'KEYSPACE', ks], OK],
        [['USE', ks], OK],
        [['WHEREAMI'], one(nonNull('+', [ks]))],
        [['GET', 'x'], UNSET],
        [['SET', 'x', 'y'], UNSET],
        [['DBSIZE'], UNSET],
        [['LSKEYS'], UNSET],
        [['INSPECT', 'TABLE'], UNSET],
        [['INSPECT', 'KEYSPACE'], one(nonNull('+', []))],
      ],
      c,
    );
    c.close();
  });

  it('USE ks:tbl and USE :tbl select a table', async () => {
    const ks = freshName('ks');
    const c = await SkyClient.connect(server.port);
    await expectReplies(
      [
        [['CREATE', 'KEYSPACE', ks], OK],
        [['CREATE', 'TABLE', `${ks}:t1`, 'keymap(str,str)'], OK],
        [['CREATE', 'TABLE', `${ks}:t2`, 'keymap(str,str)'], OK],
        [['USE', `${ks}:t1`], OK],
        [['WHEREAMI'], one(nonNull('+', [ks, 't1']))],
        [['SET', 'k', 'in-t1'], OK],
        [['USE', ':t2'], OK],
        [['WHEREAMI'], one(nonNull('+', [ks, 't2']))],
        [['GET', 'k'], one(code1())],
        [['USE', ks], OK],
        [['USE', ':t1'], OK],
        [['GET', 'k'], one(str('in-t1'))],
        [['use', 'default:default'], OK],
        [['WHEREAMI'], one(nonNull('+', ['default', 'default']))],
      ],
      c,
    );
    c.close();
  });

  it('USE answers container-not-found, malformed-expression, bad-container-name, 3 and 9', async () => {
    const c = await SkyClient.connect(server.port);
    await expectReplies(
      [
        [['USE', 'nosuchks'], NOT_FOUND],
        [['USE', 'default:nosuchtbl'], NOT_FOUND],
        [['USE', 'nosuchks:t'], NOT_FOUND],
        [['USE', 'a:b:c'], MALFORMED],
        [['USE', 'default:'], MALFORMED],
        [['USE', '1abc'], one(err('bad-container-name'))],
        [['USE', 'a-b'], one(err('bad-container-name'))],
        [['USE'], ACTION_ERROR],
        [['USE', 'a', 'b'], ACTION_ERROR],
        [['USE', Buffer.from([0xff, 0xfe])], ENCODING],
        // A failed USE leaves the current entity as it was.
        [['WHEREAMI'], one(nonNull('+', ['default', 'default']))],
        [['WHEREAMI', 'x'], ACTION_ERROR],
      ],
      c,
    );
    c.close();
  });
});

function code1(): string {
  return '!1\n1\n';
}

describe('CREATE KEYSPACE', () => {
  it('answers 0, then err-already-exists for the same name', async () => {
    const ks = freshName('ks');
    await expectReplies([
      [['CREATE', 'KEYSPACE', ks], OK],
      [['CREATE', 'KEYSPACE', ks], EXISTS_ALREADY],
      [['create', 'keyspace', freshName('lower')], OK],
    ]);
  });

  it('accepts a 64-byte name and answers container-name-too-long at 65 bytes', async () => {
    const base = freshName('k');
    const name64 = base + 'x'.repeat(64 - base.length);
    const name65 = base + 'y'.repeat(65 - base.length);
    await expectReplies([
      [['CREATE', 'KEYSPACE', name64], OK],
      [['CREATE', 'KEYSPACE', name65], TOO_LONG],
      [['INSPECT', 'KEYSPACE', name64], one(nonNull('+', []))],
    ]);
  });

  it('answers malformed-expression for a name that is not [a-zA-Z_][a-zA-Z0-9_]* or is reserved', async () => {
    await expectReplies([
      [['CREATE', 'KEYSPACE', '1abc'], MALFORMED],
      [['CREATE', 'KEYSPACE', 'a-b'], MALFORMED],
      [['CREATE', 'KEYSPACE', 'a:b'], MALFORMED],
      [['CREATE', 'KEYSPACE', ''], MALFORMED],
      [['CREATE', 'KEYSPACE', 'PRELOAD'], MALFORMED],
      [['CREATE', 'KEYSPACE', 'partmap'], MALFORMED],
    ]);
  });

  it('answers 9 for a non-UTF-8 name, 3 for a wrong argument count, unknown-ddl-query for another object', async () => {
    await expectReplies([
      [['CREATE', 'KEYSPACE', Buffer.from([0x61, 0xff])], ENCODING],
      [['CREATE', 'KEYSPACE'], ACTION_ERROR],
      [['CREATE', 'KEYSPACE', 'a', 'b'], ACTION_ERROR],
      [['CREATE'], ACTION_ERROR],
      [['CREATE', 'INDEX', 'x'], one(err('unknown-ddl-query'))],
    ]);
  });
});

describe('CREATE TABLE', () => {
  it('creates each of the eight keymap models and INSPECT TABLE describes it', async () => {
    const ks = freshName('ks');
    await expectReplies([[['CREATE', 'KEYSPACE', ks], OK]]);
    const models: Array<[string, string]> = [
      ['binstr', 'binstr'],
      ['binstr', 'str'],
      ['str', 'str'],
      ['str', 'binstr'],
      ['binstr', 'list<binstr>'],
      ['binstr', 'list<str>'],
      ['str', 'list<binstr>'],
      ['str', 'list<str>'],
    ];
    for (const [i, [key, value]] of models.entries()) {
      await expectReplies([
        [['CREATE', 'TABLE', `${ks}:m${i}`, `keymap(${key},${value})`], OK],
        [['INSPECT', 'TABLE', `${ks}:m${i}`], one(str(describeModel(key, value)))],
      ]);
    }
  });

  it('creates a volatile table', async () => {
    const ks = freshName('ks');
    await expectReplies([
      [['CREATE', 'KEYSPACE', ks], OK],
      [['CREATE', 'TABLE', `${ks}:v`, 'keymap(str,binstr)', 'volatile'], OK],
      [['INSPECT', 'TABLE', `${ks}:v`], one(str(describeModel('str', 'binstr', true)))],
    ]);
  });

  it('creates a bare or :name table in the current keyspace', async () => {
    const ks = freshName('ks');
    const c = await SkyClient.connect(server.port);
    await expectReplies(
      [
        [['CREATE', 'KEYSPACE', ks], OK],
        [['USE', ks], OK],
        [['CREATE', 'TABLE', 'bare', 'keymap(str,str)'], OK],
        [['CREATE', 'TABLE', ':colon', 'keymap(binstr,str)'], OK],
        [['INSPECT', 'KEYSPACE'], one(nonNull('+', ['bare', 'colon']))],
        [['INSPECT', 'TABLE', `${ks}:colon`], one(str(describeModel('binstr', 'str')))],
      ],
      c,
    );
    c.close();
  });

  it('answers err-already-exists, container-not-found and container-name-too-long', async () => {
    const ks = freshName('ks');
    const base = 't';
    await expectReplies([
      [['CREATE', 'KEYSPACE', ks], OK],
      [['CREATE', 'TABLE', `${ks}:t`, 'keymap(str,str)'], OK],
      [['CREATE', 'TABLE', `${ks}:t`, 'keymap(str,str)'], EXISTS_ALREADY],
      [['CREATE', 'TABLE', `${ks}:t`, 'keymap(binstr,binstr)'], EXISTS_ALREADY],
      [['CREATE', 'TABLE', 'nosuchks:t', 'keymap(str,str)'], NOT_FOUND],
      [['CREATE', 'TABLE', `${ks}:${base}${'x'.repeat(63)}`, 'keymap(str,str)'], OK],
      [['CREATE', 'TABLE', `${ks}:${base}${'x'.repeat(64)}`, 'keymap(str,str)'], TOO_LONG],
    ]);
  });

  it('answers bad-type-for-key, unknown-model, unknown-property, 8 and malformed-expression', async () => {
    const ks = freshName('ks');
    await expectReplies([
      [['CREATE', 'KEYSPACE', ks], OK],
      [['CREATE', 'TABLE', `${ks}:a`, 'keymap(list<str>,str)'], one(err('bad-type-for-key'))],
      [['CREATE', 'TABLE', `${ks}:a`, 'keymap(list<binstr>,binstr)'], one(err('bad-type-for-key'))],
      [['CREATE', 'TABLE', `${ks}:a`, 'hashmap(str,str)'], one(err('unknown-model'))],
      [['CREATE', 'TABLE', `${ks}:a`, 'keymap(str,str)', 'persistent'], one(err('unknown-property'))],
      [['CREATE', 'TABLE', `${ks}:a`, 'keymap(str,str)', 'VOLATILE'], one(err('unknown-property'))],
      [['CREATE', 'TABLE', `${ks}:a`, 'keymap(str,int)'], UNKNOWN_DATA_TYPE],
      [['CREATE', 'TABLE', `${ks}:a`, 'keymap(float,str)'], UNKNOWN_DATA_TYPE],
      [['CREATE', 'TABLE', `${ks}:a`, 'keymap(str,)'], MALFORMED],
      [['CREATE', 'TABLE', `${ks}:a`, 'keymap(,str)'], MALFORMED],
      [['CREATE', 'TABLE', `${ks}:a`, 'keymap()'], MALFORMED],
      [['CREATE', 'TABLE', `${ks}:a`, 'keymap(str,str'], MALFORMED],
      [['CREATE', 'TABLE', `${ks}:a`, 'keymap'], MALFORMED],
      [['CREATE', 'TABLE', `${ks}:a:b`, 'keymap(str,str)'], MALFORMED],
      [['CREATE', 'TABLE', `${ks}:PRELOAD`, 'keymap(str,str)'], one(err('bad-container-name'))],
      [['CREATE', 'TABLE', `${ks}:1t`, 'keymap(str,str)'], one(err('bad-container-name'))],
      [['CREATE', 'TABLE', `${ks}:a`], ACTION_ERROR],
      [['CREATE', 'TABLE', `${ks}:a`, 'keymap(str,str)', 'volatile', 'x'], ACTION_ERROR],
      // Nothing was created by any of the refusals.
      [['INSPECT', 'KEYSPACE', ks], one(nonNull('+', []))],
    ]);
  });
});

describe('DROP TABLE', () => {
  it('drops a table, after which it is not found', async () => {
    const ks = freshName('ks');
    await expectReplies([
      [['CREATE', 'KEYSPACE', ks], OK],
      [['CREATE', 'TABLE', `${ks}:t`, 'keymap(str,str)'], OK],
      [['DROP', 'TABLE', `${ks}:t`], OK],
      [['USE', `${ks}:t`], NOT_FOUND],
      [['DROP', 'TABLE', `${ks}:t`], NOT_FOUND],
      [['INSPECT', 'KEYSPACE', ks], one(nonNull('+', []))],
    ]);
  });

  it('refuses default:default with err-protected-object', async () => {
    const c = await SkyClient.connect(server.port);
    await c.run('USE', 'default');
    await expectReplies([[['DROP', 'TABLE', 'default:default'], PROTECTED]], c);
    c.close();
  });

  it('answers still-in-use while another connection USEs the table, and 0 once it moves away', async () => {
    const ks = freshName('ks');
    const other = await SkyClient.connect(server.port);
    await expectReplies([
      [['CREATE', 'KEYSPACE', ks], OK],
      [['CREATE', 'TABLE', `${ks}:t`, 'keymap(str,str)'], OK],
    ]);
    await expectReplies([[['USE', `${ks}:t`], OK]], other);
    await expectReplies([[['DROP', 'TABLE', `${ks}:t`], IN_USE]]);
    await expectReplies([[['USE', 'default:default'], OK]], other);
    await expectReplies([[['DROP', 'TABLE', `${ks}:t`], OK]]);
    other.close();
  });

  it('frees the table when the connection that USEd it closes', async () => {
    const ks = freshName('ks');
    const other = await SkyClient.connect(server.port);
    await expectReplies([
      [['CREATE', 'KEYSPACE', ks], OK],
      [['CREATE', 'TABLE', `${ks}:t`, 'keymap(str,str)'], OK],
    ]);
    await expectReplies([[['USE', `${ks}:t`], OK]], other);
    await expectReplies([[['DROP', 'TABLE', `${ks}:t`], IN_USE]]);
    other.close();
    await eventually(async () => (await client.run('DROP', 'TABLE', `${ks}:t`)) === OK);
  });

  it('answers 3 without a name and unknown-ddl-query for another object', async () => {
    await expectReplies([
      [['DROP', 'TABLE'], ACTION_ERROR],
      [['DROP', 'TABLE', 'a', 'b'], ACTION_ERROR],
      [['DROP'], ACTION_ERROR],
      [['DROP', 'INDEX', 'x'], one(err('unknown-ddl-query'))],
    ]);
  });
});

describe('DROP KEYSPACE', () => {
  it('drops an empty keyspace', async () => {
    const ks = freshName('ks');
    await expectReplies([
      [['CREATE', 'KEYSPACE', ks], OK],
      [['DROP', 'KEYSPACE', ks], OK],
      [['USE', ks], NOT_FOUND],
      [['DROP', 'KEYSPACE', ks], NOT_FOUND],
    ]);
  });

  it('answers keyspace-not-empty for a keyspace with tables, and force drops it', async () => {
    const ks = freshName('ks');
    await expectReplies([
      [['CREATE', 'KEYSPACE', ks], OK],
      [['CREATE', 'TABLE', `${ks}:t`, 'keymap(str,str)'], OK],
      [['DROP', 'KEYSPACE', ks], NOT_EMPTY],
      [['INSPECT', 'KEYSPACE', ks], one(nonNull('+', ['t']))],
      [['DROP', 'KEYSPACE', ks, 'force'], OK],
      [['USE', `${ks}:t`], NOT_FOUND],
      [['INSPECT', 'KEYSPACE', ks], NOT_FOUND],
    ]);
    const names = decodeArray(await client.run('INSPECT', 'KEYSPACES')).items;
    expect(names).not.toContain(ks);
  });

  it('refuses default and system with err-protected-object', async () => {
    await expectReplies([
      [['DROP', 'KEYSPACE', 'default'], PROTECTED],
      [['DROP', 'KEYSPACE', 'default', 'force'], PROTECTED],
      [['DROP', 'KEYSPACE', 'system'], PROTECTED],
    ]);
  });

  it('answers still-in-use while another connection is in the keyspace or one of its tables', async () => {
    const ks = freshName('ks');
    const other = await SkyClient.connect(server.port);
    await expectReplies([
      [['CREATE', 'KEYSPACE', ks], OK],
      [['CREATE', 'TABLE', `${ks}:t`, 'keymap(str,str)'], OK],
    ]);
    await expectReplies([[['USE', ks], OK]], other);
    await expectReplies([[['DROP', 'KEYSPACE', ks, 'force'], IN_USE]]);
    await expectReplies([[['USE', `${ks}:t`], OK]], other);
    await expectReplies([[['DROP', 'KEYSPACE', ks, 'force'], IN_USE]]);
    await expectReplies([[['USE', 'default:default'], OK]], other);
    await expectReplies([[['DROP', 'KEYSPACE', ks, 'force'], OK]]);
    other.close();
  });

  it('answers 3 for a wrong argument count and Unknown action for a bad force word', async () => {
    const ks = freshName('ks');
    await expectReplies([
      [['CREATE', 'KEYSPACE', ks], OK],
      [['DROP', 'KEYSPACE'], ACTION_ERROR],
      [['DROP', 'KEYSPACE', ks, 'force', 'x'], ACTION_ERROR],
      [['DROP', 'KEYSPACE', ks, 'please'], one(err('Unknown action'))],
      [['DROP', 'KEYSPACE', ks], OK],
    ]);
  });
});

describe('INSPECT', () => {
  it('INSPECT KEYSPACES lists every keyspace, INSPECT KEYSPACE ks its tables', async () => {
    const ks = freshName('ks');
    await expectReplies([
      [['CREATE', 'KEYSPACE', ks], OK],
      [['CREATE', 'TABLE', `${ks}:alpha`, 'keymap(str,str)'], OK],
      [['CREATE', 'TABLE', `${ks}:beta`, 'keymap(str,list<str>)'], OK],
      [['INSPECT', 'KEYSPACE', ks], one(nonNull('+', ['alpha', 'beta']))],
      [['INSPECT', 'TABLE', `${ks}:beta`], one(str(describeModel('str', 'list<str>')))],
    ]);
    const listed = decodeArray(await client.run('INSPECT', 'KEYSPACES'));
    expect(listed.kind + listed.type).toBe('^+');
    expect(listed.items).toContain('default');
    expect(listed.items).toContain(ks);
  });

  it('answers container-not-found, bad-container-name, 3 and unknown-inspect-query', async () => {
    await expectReplies([
      [['INSPECT', 'KEYSPACE', 'nosuchks'], NOT_FOUND],
      [['INSPECT', 'TABLE', 'default:nosuchtbl'], NOT_FOUND],
      [['INSPECT', 'KEYSPACE', '1bad'], one(err('bad-container-name'))],
      [['INSPECT'], ACTION_ERROR],
      [['INSPECT', 'KEYSPACES', 'x'], ACTION_ERROR],
      [['INSPECT', 'TABLE', 'a', 'b'], ACTION_ERROR],
      [['INSPECT', 'INDEXES'], one(err('unknown-inspect-query'))],
      [['inspect', 'table', 'default:default'], one(str(describeModel('binstr', 'binstr')))],
    ]);
  });
});

describe('DBSIZE and FLUSHDB with an entity', () => {
  it('DBSIZE counts the current table or the named one', async () => {
    const ks = freshName('ks');
    const c = await SkyClient.connect(server.port);
    await expectReplies(
      [
        [['CREATE', 'KEYSPACE', ks], OK],
        [['CREATE', 'TABLE', `${ks}:a`, 'keymap(str,str)'], OK],
        [['CREATE', 'TABLE', `${ks}:l`, 'keymap(str,list<str>)'], OK],
        [['USE', `${ks}:a`], OK],
        [['USET', 'x', '1', 'y', '2', 'z', '3'], one(uint(3))],
        [['DBSIZE'], one(uint(3))],
        [['DBSIZE', `${ks}:a`], one(uint(3))],
        [['DBSIZE', `${ks}:l`], one(uint(0))],
        [['DBSIZE', 'l'], one(uint(0))],
        [['DBSIZE', ':a'], one(uint(3))],
        [['USE', `${ks}:l`], OK],
        [['LSET', 'q', 'x'], OK],
        [['DBSIZE'], one(uint(1))],
        [['DBSIZE', `${ks}:nosuch`], NOT_FOUND],
        [['DBSIZE', 'a', 'b'], ACTION_ERROR],
      ],
      c,
    );
    c.close();
  });

  it('FLUSHDB empties the current table or only the named one', async () => {
    const ks = freshName('ks');
    const c = await SkyClient.connect(server.port);
    await expectReplies(
      [
        [['CREATE', 'KEYSPACE', ks], OK],
        [['CREATE', 'TABLE', `${ks}:a`, 'keymap(str,str)'], OK],
        [['CREATE', 'TABLE', `${ks}:b`, 'keymap(str,str)'], OK],
        [['USE', `${ks}:a`], OK],
        [['USET', 'x', '1', 'y', '2'], one(uint(2))],
        [['USE', `${ks}:b`], OK],
        [['USET', 'x', '1', 'y', '2'], one(uint(2))],
        [['FLUSHDB', `${ks}:a`], OK],
        [['DBSIZE', `${ks}:a`], one(uint(0))],
        [['DBSIZE'], one(uint(2))],
        [['FLUSHDB'], OK],
        [['DBSIZE'], one(uint(0))],
        [['SET', 'x', 'again'], OK],
        [['GET', 'x'], one(str('again'))],
        [['FLUSHDB', `${ks}:nosuch`], NOT_FOUND],
        [['FLUSHDB', 'a', 'b'], ACTION_ERROR],
      ],
      c,
    );
    c.close();
  });
});

describe('LSKEYS', () => {
  let ks: string;
  const keys = Array.from({ length: 25 }, (_, i) => `key${i}`);

  beforeAll(async () => {
    ks = freshName('lsk');
    await expectReplies([
      [['CREATE', 'KEYSPACE', ks], OK],
      [['CREATE', 'TABLE', `${ks}:s`, 'keymap(str,binstr)'], OK],
      [['CREATE', 'TABLE', `${ks}:b`, 'keymap(binstr,str)'], OK],
      [['CREATE', 'TABLE', `${ks}:one`, 'keymap(str,str)'], OK],
      [['CREATE', 'TABLE', `${ks}:l`, 'keymap(str,list<str>)'], OK],
      [['CREATE', 'TABLE', `${ks}:big`, 'keymap(str,str)'], OK],
      [['USE', `${ks}:s`], OK],
      [['USET', ...keys.flatMap((k) => [k, 'v'])], one(uint(keys.length))],
      [['USE', `${ks}:b`], OK],
      [['USET', 'bk', 'v'], one(uint(1))],
      [['USE', `${ks}:one`], OK],
      [['SET', 'only', 'v'], OK],
      [['USE', `${ks}:l`], OK],
      [['LSET', 'list1', 'x'], OK],
      [['USE', `${ks}:s`], OK],
    ]);
  });

  function expectKeys(reply: string, type: '+' | '?', count: number, from: readonly string[]): void {
    const array = decodeArray(reply);
    expect(array.kind + array.type).toBe(`@${type}`);
    expect(array.items).toHaveLength(count);
    expect(new Set(array.items).size).toBe(count);
    const known = new Set(from);
    const strangers = array.items.filter((item) => item === null || !known.has(item));
    expect(strangers).toEqual([]);
  }

  it('answers exact bytes for a one-key table, typed by the key type', async () => {
    await expectReplies([
      [['LSKEYS', `${ks}:one`], one(typed('+', ['only']))],
      [['LSKEYS', `${ks}:b`], one(typed('?', ['bk']))],
      [['LSKEYS', `${ks}:l`], one(typed('+', ['list1']))],
    ]);
  });

  it('answers up to 10 keys of the current table with no argument', async () => {
    expectKeys(await client.run('LSKEYS'), '+', 10, keys);
  });

  it('takes a count as its only argument', async () => {
    expectKeys(await client.run('LSKEYS', '3'), '+', 3, keys);
    expectKeys(await client.run('LSKEYS', '0'), '+', 0, keys);
    expectKeys(await client.run('LSKEYS', '100'), '+', 25, keys);
  });

  it('takes an entity, an entity and a count, or an entity and all', async () => {
    expectKeys(await client.run('LSKEYS', `${ks}:s`), '+', 10, keys);
    expectKeys(await client.run('LSKEYS', `${ks}:s`, '7'), '+', 7, keys);
    expectKeys(await client.run('LSKEYS', `${ks}:s`, 'all'), '+', 25, keys);
    expectKeys(await client.run('LSKEYS', 's', '12'), '+', 12, keys);
  });

  it('lists every key of a large table with a large count or all', async () => {
    const n = 10_000;
    const bigKeys = Array.from({ length: n }, (_, i) => `big${i}`);
    const c = await SkyClient.connect(server.port);
    await expectReplies(
      [
        [['USE', `${ks}:big`], OK],
        [['USET', ...bigKeys.flatMap((k) => [k, 'v'])], one(uint(n))],
      ],
      c,
    );
    expectKeys(await c.run('LSKEYS', `${ks}:big`, 'all'), '+', n, bigKeys);
    expectKeys(await c.run('LSKEYS', `${ks}:big`, '1000000'), '+', n, bigKeys);
    expectKeys(await c.run('LSKEYS', '6000'), '+', 6000, bigKeys);
    expectKeys(await c.run('LSKEYS', `${ks}:big`, '4097'), '+', 4097, bigKeys);
    // A listing written across event-loop turns keeps its place in a pipeline.
    c.send(pipeline(['HEYA', 'before'], ['LSKEYS', `${ks}:big`, 'all'], ['HEYA', 'after']));
    const reply = (await c.response()).toString('latin1');
    expect(reply.startsWith(`*3\n+6\nbefore\n@+${n}\n`)).toBe(true);
    expect(reply.endsWith('\n+5\nafter\n')).toBe(true);
    c.close();
  });

  it('lists a stable view: a FLUSHDB or DROP during a large listing neither tears nor blocks it', async () => {
    const a = await SkyClient.connect(server.port);
    const b = await SkyClient.connect(server.port);
    for (const change of ['FLUSHDB', 'DROP'] as const) {
      const entity = `${ks}:${freshName('stable')}`;
      await expectReplies([[['CREATE', 'TABLE', entity, 'keymap(str,str)'], OK]], a);
      const stableKeys: string[] = [];
      for (let batch = 0; batch < 3; batch++) {
        const args = Array.from({ length: 5000 }, (_, i) => `s${batch}_${i}`);
        stableKeys.push(...args);
        a.send(pipeline(['USE', entity], ['USET', ...args.flatMap((k) => [k, 'v'])], ['USE', 'default:default']));
        expect((await a.response()).toString('latin1')).toBe(`*3\n!1\n0\n${uint(5000)}!1\n0\n`);
      }
      a.send(query('LSKEYS', entity, 'all'));
      expect(await b.run(...(change === 'FLUSHDB' ? ['FLUSHDB', entity] : ['DROP', 'TABLE', entity]))).toBe(OK);
      expectKeys((await a.response()).toString('latin1'), '+', stableKeys.length, stableKeys);
    }
    a.close();
    b.close();
  });

  it('answers 3 for three arguments, 7 for a bad count, container-not-found for a missing table', async () => {
    await expectReplies([
      [['LSKEYS', `${ks}:s`, '5', 'x'], ACTION_ERROR],
      [['LSKEYS', `${ks}:s`, 'x'], WRONG_TYPE],
      [['LSKEYS', `${ks}:s`, '-1'], WRONG_TYPE],
      [['LSKEYS', '1x'], WRONG_TYPE],
      [['LSKEYS', `${ks}:nosuch`], NOT_FOUND],
    ]);
  });
});

describe('where our docs are silent: as Skytable 0.7 (the research note)', () => {
  it('accepts spaces around the types of a keymap', async () => {
    const ks = freshName('ks');
    await expectReplies([
      [['CREATE', 'KEYSPACE', ks], OK],
      [['CREATE', 'TABLE', `${ks}:spaced`, 'keymap( str , binstr )'], OK],
      [['INSPECT', 'TABLE', `${ks}:spaced`], one(str(describeModel('str', 'binstr')))],
    ]);
  });

  it('answers still-in-use when the dropping connection itself is on the table', async () => {
    const ks = freshName('ks');
    const c = await SkyClient.connect(server.port);
    await expectReplies(
      [
        [['CREATE', 'KEYSPACE', ks], OK],
        [['CREATE', 'TABLE', `${ks}:t`, 'keymap(str,str)'], OK],
        [['USE', `${ks}:t`], OK],
        [['DROP', 'TABLE', `${ks}:t`], IN_USE],
        [['USE', 'default:default'], OK],
        [['DROP', 'TABLE', `${ks}:t`], OK],
      ],
      c,
    );
    c.close();
  });

  // As Skytable 0.7 (research note section 3.4): the model name is case-sensitive.
  it('answers unknown-model for a model name not spelled exactly keymap', async () => {
    const ks = freshName('ks');
    await expectReplies([
      [['CREATE', 'KEYSPACE', ks], OK],
      [['CREATE', 'TABLE', `${ks}:upper`, 'KEYMAP(str,str)'], one(err('unknown-model'))],
      [['CREATE', 'TABLE', `${ks}:mixed`, 'Keymap(str,str)'], one(err('unknown-model'))],
    ]);
  });

  // As Skytable 0.7 (research note section 3.4): a type list of other than two entries, all
  // non-empty, is `too-many-args` (an empty entry is `malformed-expression`).
  it('answers too-many-args for a keymap with other than two non-empty types', async () => {
    const ks = freshName('ks');
    await expectReplies([
      [['CREATE', 'KEYSPACE', ks], OK],
      [['CREATE', 'TABLE', `${ks}:a`, 'keymap(str,str,str)'], one(err('too-many-args'))],
      [['CREATE', 'TABLE', `${ks}:a`, 'keymap(str)'], one(err('too-many-args'))],
    ]);
  });

  // As Skytable 0.7 (research note sections 2 and 3.4): an entity part longer than 64 bytes is
  // `bad-container-name` outside CREATE (which answers container-name-too-long).
  it('answers bad-container-name to USE and INSPECT with a 65-byte name', async () => {
    const name65 = 'n'.repeat(65);
    await expectReplies([
      [['USE', name65], one(err('bad-container-name'))],
      [['USE', `default:${name65}`], one(err('bad-container-name'))],
      [['INSPECT', 'KEYSPACE', name65], one(err('bad-container-name'))],
      [['INSPECT', 'TABLE', `default:${name65}`], one(err('bad-container-name'))],
    ]);
  });
});

// Where two errors apply at once, the one Skytable 0.7.7 checks first answers (its
// server/src/queryengine/ddl.rs, inspect.rs, parser.rs, corestore/memstore.rs and
// actions/flushdb.rs, read for the order of their checks).
describe('DDL error order: the first check Skytable 0.7 makes answers', () => {
  const name65 = (fill: string): string => fill.repeat(65);
  const notUtf8At65 = Buffer.concat([Buffer.from('k'.repeat(63)), Buffer.from([0xff, 0xfe])]);

  it('DROP KEYSPACE answers keyspace-not-empty before still-in-use, and force then answers still-in-use', async () => {
    const ks = freshName('ks');
    const other = await SkyClient.connect(server.port);
    const self = await SkyClient.connect(server.port);
    await expectReplies([
      [['CREATE', 'KEYSPACE', ks], OK],
      [['CREATE', 'TABLE', `${ks}:t`, 'keymap(str,str)'], OK],
    ]);
    // The dropping connection itself is in the keyspace (Skytable counts its own reference).
    await expectReplies([[['USE', ks], OK], [['DROP', 'KEYSPACE', ks], NOT_EMPTY], [['DROP', 'KEYSPACE', ks, 'force'], IN_USE]], self);
    await expectReplies([[['USE', 'default:default'], OK]], self);
    // Another connection is on one of its tables.
    await expectReplies([[['USE', `${ks}:t`], OK]], other);
    await expectReplies([
      [['DROP', 'KEYSPACE', ks], NOT_EMPTY],
      [['DROP', 'KEYSPACE', ks, 'force'], IN_USE],
    ]);
    await expectReplies([[['USE', 'default:default'], OK]], other);
    await expectReplies([
      [['DROP', 'KEYSPACE', ks], NOT_EMPTY],
      [['DROP', 'KEYSPACE', ks, 'force'], OK],
    ]);
    other.close();
    self.close();
  });

  it('DROP KEYSPACE answers still-in-use for an empty keyspace a connection is in', async () => {
    const ks = freshName('ks');
    const other = await SkyClient.connect(server.port);
    await expectReplies([[['CREATE', 'KEYSPACE', ks], OK]]);
    await expectReplies([[['USE', ks], OK]], other);
    await expectReplies([[['DROP', 'KEYSPACE', ks], IN_USE]]);
    other.close();
    await eventually(async () => (await client.run('DROP', 'KEYSPACE', ks)) === OK);
  });

  it('DROP KEYSPACE answers container-name-too-long before Unknown action and before 9', async () => {
    await expectReplies([
      [['DROP', 'KEYSPACE', name65('k'), 'please'], TOO_LONG],
      [['DROP', 'KEYSPACE', notUtf8At65], TOO_LONG],
    ]);
  });

  it('CREATE KEYSPACE answers malformed-expression before container-name-too-long', async () => {
    await expectReplies([
      [['CREATE', 'KEYSPACE', `a-${name65('b')}`], MALFORMED],
      [['CREATE', 'KEYSPACE', `1${name65('b')}`], MALFORMED],
      [['CREATE', 'KEYSPACE', notUtf8At65], ENCODING],
    ]);
  });

  it('CREATE TABLE answers 9 for a non-UTF-8 model before the entity is parsed', async () => {
    await expectReplies([
      [['CREATE', 'TABLE', 'a:b:c', Buffer.from([0x6b, 0xff])], ENCODING],
      [['CREATE', 'TABLE', 'default:1t', Buffer.from([0x6b, 0xff])], ENCODING],
      // The entity is still checked before the model's syntax.
      [['CREATE', 'TABLE', 'a:b:c', 'hashmap(x)'], MALFORMED],
      [['CREATE', 'TABLE', 'default:1t', 'keymap(str,int)'], one(err('bad-container-name'))],
    ]);
  });

  it('CREATE TABLE answers the model errors before unknown-property', async () => {
    const ks = freshName('ks');
    await expectReplies([
      [['CREATE', 'KEYSPACE', ks], OK],
      [['CREATE', 'TABLE', `${ks}:a`, 'keymap(str,int)', 'persistent'], UNKNOWN_DATA_TYPE],
      [['CREATE', 'TABLE', `${ks}:a`, 'hashmap(str,str)', 'persistent'], one(err('unknown-model'))],
      [['CREATE', 'TABLE', `${ks}:a`, 'keymap(list<str>,str)', 'VOLATILE'], one(err('bad-type-for-key'))],
      [['CREATE', 'TABLE', `${ks}:a`, 'keymap(str,)', 'x'], MALFORMED],
      // A good model with a bad property, and a good table that exists with a bad property.
      [['CREATE', 'TABLE', `${ks}:a`, 'keymap(str,str)', 'persistent'], one(err('unknown-property'))],
      [['CREATE', 'TABLE', 'default:default', 'keymap(str,str)', 'persistent'], one(err('unknown-property'))],
      [['INSPECT', 'KEYSPACE', ks], one(nonNull('+', []))],
    ]);
  });

  it('INSPECT KEYSPACE answers bad-container-name for a name past 64 bytes before 9', async () => {
    await expectReplies([[['INSPECT', 'KEYSPACE', notUtf8At65], one(err('bad-container-name'))]]);
  });

  describe('in the read-only state (after a failed save)', () => {
    let ro: FrostServer;
    let c: SkyClient;
    const faults: FaultInjector = { plan: null };

    beforeAll(async () => {
      const config = withDefaults({ server: { dataDir: tempDir(), port: 0 }, bgsave: { enabled: false, every: 120 }, workers: { threads: 1 } });
      ro = await FrostServer.start(config, { logger: new MemoryLogger(), saveOnShutdown: false, faults });
      c = await SkyClient.connect(ro.addresses.skyhash.port);
      await expectReplies([[['CREATE', 'KEYSPACE', 'full'], OK], [['CREATE', 'TABLE', 'full:t', 'keymap(str,str)'], OK]], c);
      faults.plan = newFaultPlan('write', 1, true, 'EIO');
      const failed = await ro.db.save();
      faults.plan = null;
      expect(failed.ok).toBe(false);
      expect(ro.db.engine.readOnly).toBe(true);
    });

    afterAll(async () => {
      c.close();
      await ro.shutdown();
    });

    it('FLUSHDB answers 5 before resolving its entity', async () => {
      await expectReplies(
        [
          [['FLUSHDB', 'nosuchks:t'], SERVER_ERROR],
          [['FLUSHDB', 'a:b:c'], SERVER_ERROR],
          [['FLUSHDB', 'full:nosuch'], SERVER_ERROR],
          [['FLUSHDB'], SERVER_ERROR],
          [['FLUSHDB', 'a', 'b'], ACTION_ERROR],
        ],
        c,
      );
    });

    it('DROP KEYSPACE checks the name length, then the state, then everything else', async () => {
      await expectReplies(
        [
          [['DROP', 'KEYSPACE', name65('k')], TOO_LONG],
          [['DROP', 'KEYSPACE', 'default'], SERVER_ERROR],
          [['DROP', 'KEYSPACE', 'nosuchks'], SERVER_ERROR],
          [['DROP', 'KEYSPACE', 'full'], SERVER_ERROR],
          [['DROP', 'KEYSPACE', 'a:b'], SERVER_ERROR],
          [['DROP', 'KEYSPACE', Buffer.from([0x6b, 0xff])], SERVER_ERROR],
        ],
        c,
      );
    });

    it('CREATE KEYSPACE and CREATE TABLE check their arguments, then the state, then existence', async () => {
      await expectReplies(
        [
          [['CREATE', 'KEYSPACE', name65('k')], TOO_LONG],
          [['CREATE', 'KEYSPACE', 'a-b'], MALFORMED],
          [['CREATE', 'KEYSPACE', 'full'], SERVER_ERROR],
          [['CREATE', 'TABLE', 'full:x', 'hashmap(str,str)'], one(err('unknown-model'))],
          [['CREATE', 'TABLE', 'full:x', 'keymap(str,str)', 'persistent'], one(err('unknown-property'))],
          [['CREATE', 'TABLE', 'a:b:c', 'keymap(str,str)'], MALFORMED],
          [['CREATE', 'TABLE', 'nosuchks:x', 'keymap(str,str)'], SERVER_ERROR],
          [['CREATE', 'TABLE', 'full:t', 'keymap(str,str)'], SERVER_ERROR],
        ],
        c,
      );
    });

    it('DROP TABLE checks the entity, then the state; USE and INSPECT have no state check', async () => {
      await expectReplies(
        [
          [['DROP', 'TABLE', 'a:b:c'], MALFORMED],
          [['DROP', 'TABLE', 'full:1t'], one(err('bad-container-name'))],
          [['DROP', 'TABLE', 'default:default'], SERVER_ERROR],
          [['DROP', 'TABLE', 'nosuchks:t'], SERVER_ERROR],
          [['DROP', 'TABLE', 'full:t'], SERVER_ERROR],
          [['USE', 'nosuchks'], NOT_FOUND],
          [['INSPECT', 'KEYSPACE', 'nosuchks'], NOT_FOUND],
          [['INSPECT', 'TABLE', 'full:nosuch'], NOT_FOUND],
          [['INSPECT', 'KEYSPACE', 'full'], one(nonNull('+', ['t']))],
        ],
        c,
      );
    });
  });
});
