/**
 * docs/behaviour.md (Skyhash actions), key/value rows, byte for byte over a real socket: GET SET UPDATE USET DEL
 * EXISTS MGET MSET MUPDATE SSET SUPDATE SDEL POP MPOP KEYLEN, with the common rules (argument
 * counts give 3, `str` encoding failures give 9, KV actions on list tables give wrong-model) and
 * the reply type symbol chosen by the table's value type.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SkyClient, type Arg } from '../../support/skyhash.js';
import type { InProcessServer } from '../../support/server.js';
import {
  ACTION_ERROR,
  ENCODING,
  NIL,
  OK,
  OVERWRITE,
  WRONG_MODEL,
  bin,
  freshTable,
  kBadUtf8,
  err,
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

function expectReplies(steps: ReadonlyArray<readonly [Arg[], string]>): Promise<void> {
  return expectRepliesOn(client, steps);
}

describe('GET', () => {
  it('returns a binstr value with ? on the default table and code 1 when missing', async () => {
    await client.run('USE', 'default:default');
    await client.run('DEL', 'g1');
    await expectReplies([
      [['GET', 'g1'], NIL],
      [['SET', 'g1', '100'], OK],
      [['GET', 'g1'], one(bin('100'))],
    ]);
  });

  it('returns a str value with + on a keymap(str,str) table', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['SET', 'k', 'héllo'], OK],
      [['GET', 'k'], one(str(Buffer.from('héllo', 'utf8').toString('latin1')))],
    ]);
  });

  it('returns values with the value type symbol, not the key type', async () => {
    await freshTable(client, 'keymap(str,binstr)');
    await expectReplies([
      [['SET', 'k', 'v'], OK],
      [['GET', 'k'], one(bin('v'))],
    ]);
    await freshTable(client, 'keymap(binstr,str)');
    await expectReplies([
      [['SET', 'k', 'v'], OK],
      [['GET', 'k'], one(str('v'))],
    ]);
  });

  it('returns binary values byte for byte, including LF and NUL bytes', async () => {
    await freshTable(client, 'keymap(binstr,binstr)');
    const value = Buffer.from([0, 10, 13, 255, 10, 42]);
    await expectReplies([
      [['SET', Buffer.from([10, 0]), value], OK],
      [['GET', Buffer.from([10, 0])], one(`?6\n${value.toString('latin1')}\n`)],
    ]);
  });

  it('answers 3 for zero or two arguments', async () => {
    await expectReplies([
      [['GET'], ACTION_ERROR],
      [['GET', 'a', 'b'], ACTION_ERROR],
    ]);
  });

  it('answers 9 for a key that is not UTF-8 on a str-key table', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([[['GET', kBadUtf8], ENCODING]]);
  });

  it('answers wrong-model on a list table', async () => {
    await freshTable(client, 'keymap(str,list<str>)');
    await expectReplies([[['GET', 'x'], WRONG_MODEL]]);
  });
});

describe('SET', () => {
  it('answers 0 for a new key and 2 for an existing one, never overwriting', async () => {
    await freshTable(client, 'keymap(binstr,binstr)');
    await expectReplies([
      [['SET', 'x', '100'], OK],
      [['SET', 'x', '200'], OVERWRITE],
      [['GET', 'x'], one(bin('100'))],
    ]);
  });

  it('answers 3 for one or three arguments', async () => {
    await expectReplies([
      [['SET'], ACTION_ERROR],
      [['SET', 'x'], ACTION_ERROR],
      [['SET', 'x', 'y', 'z'], ACTION_ERROR],
    ]);
  });

  it('answers 9 for a non-UTF-8 key or value on a str table and stores nothing', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['SET', kBadUtf8, 'v'], ENCODING],
      [['SET', 'k', kBadUtf8], ENCODING],
      [['DBSIZE'], one(uint(0))],
    ]);
  });

  it('checks only the str side: binary values are fine on keymap(str,binstr)', async () => {
    await freshTable(client, 'keymap(str,binstr)');
    await expectReplies([
      [['SET', 'k', kBadUtf8], OK],
      [['SET', kBadUtf8, 'v'], ENCODING],
    ]);
    await freshTable(client, 'keymap(binstr,str)');
    await expectReplies([
      [['SET', kBadUtf8, 'v'], OK],
      [['SET', 'k', kBadUtf8], ENCODING],
    ]);
  });

  it('answers wrong-model on a list table', async () => {
    await freshTable(client, 'keymap(str,list<str>)');
    await expectReplies([[['SET', 'x', 'y'], WRONG_MODEL]]);
  });
});

describe('UPDATE', () => {
  it('answers 0 when the key exists and 1 when it is missing (creating nothing)', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['UPDATE', 'x', '1'], NIL],
      [['EXISTS', 'x'], one(uint(0))],
      [['SET', 'x', '1'], OK],
      [['UPDATE', 'x', '2'], OK],
      [['GET', 'x'], one(str('2'))],
    ]);
  });

  it('answers 3, 9 and wrong-model like SET', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['UPDATE', 'x'], ACTION_ERROR],
      [['UPDATE', 'x', 'y', 'z'], ACTION_ERROR],
      [['SET', 'x', 'y'], OK],
      [['UPDATE', 'x', kBadUtf8], ENCODING],
      [['GET', 'x'], one(str('y'))],
    ]);
    await freshTable(client, 'keymap(str,list<str>)');
    await expectReplies([[['UPDATE', 'x', 'y'], WRONG_MODEL]]);
  });
});

describe('USET', () => {
  it('upserts every pair and answers the number of pairs', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['SET', 'a', 'old'], OK],
      [['USET', 'a', '1', 'b', '2'], one(uint(2))],
      [['MGET', 'a', 'b'], one(typed('+', ['1', '2']))],
    ]);
  });

  it('answers 3 for no pairs or an odd argument count', async () => {
    await expectReplies([
      [['USET'], ACTION_ERROR],
      [['USET', 'a'], ACTION_ERROR],
      [['USET', 'a', '1', 'b'], ACTION_ERROR],
    ]);
  });

  it('answers 9 and writes nothing when any pair fails the str check', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['USET', 'a', '1', 'b', kBadUtf8], ENCODING],
      [['DBSIZE'], one(uint(0))],
    ]);
  });

  it('answers wrong-model on a list table', async () => {
    await freshTable(client, 'keymap(str,list<str>)');
    await expectReplies([[['USET', 'a', '1'], WRONG_MODEL]]);
  });
});

describe('DEL', () => {
  it('answers the number of keys deleted', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['USET', 'a', '1', 'b', '2'], one(uint(2))],
      [['DEL', 'a', 'b', 'c'], one(uint(2))],
      [['DEL', 'a'], one(uint(0))],
      [['DBSIZE'], one(uint(0))],
    ]);
  });

  it('answers 3 with no key', async () => {
    await expectReplies([[['DEL'], ACTION_ERROR]]);
  });

  it('answers 9 and deletes nothing when any key is not UTF-8 on a str-key table', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['SET', 'a', '1'], OK],
      [['DEL', 'a', kBadUtf8], ENCODING],
      [['EXISTS', 'a'], one(uint(1))],
    ]);
  });

  it('deletes lists too (as Skytable 0.7: DEL works on any keymap)', async () => {
    await freshTable(client, 'keymap(str,list<str>)');
    await expectReplies([
      [['LSET', 'l', 'x'], OK],
      [['DEL', 'l'], one(uint(1))],
    ]);
  });
});

describe('EXISTS', () => {
  it('answers how many of the keys are present, counting repeats', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['USET', 'a', '1', 'b', '2'], one(uint(2))],
      [['EXISTS', 'a', 'b', 'c'], one(uint(2))],
      [['EXISTS', 'a', 'a'], one(uint(2))],
      [['EXISTS', 'zz'], one(uint(0))],
    ]);
  });

  it('answers 3 with no key and 9 for a non-UTF-8 key on a str-key table', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['EXISTS'], ACTION_ERROR],
      [['EXISTS', 'a', kBadUtf8], ENCODING],
    ]);
  });
});

describe('MGET', () => {
  it('answers a typed array with \\0\\n for missing keys, typed + on str values', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['USET', 'a', '1', 'c', '333'], one(uint(2))],
      [['MGET', 'a', 'b', 'c'], one(typed('+', ['1', null, '333']))],
      [['MGET', 'nope'], one(typed('+', [null]))],
    ]);
  });

  it('types the array ? on binstr values', async () => {
    await client.run('USE', 'default:default');
    await client.run('USET', 'mg_a', 'x');
    await client.run('DEL', 'mg_b');
    await expectReplies([[['MGET', 'mg_a', 'mg_b'], one(typed('?', ['x', null]))]]);
  });

  it('answers 3 with no key, 9 for a non-UTF-8 key, wrong-model on a list table', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['MGET'], ACTION_ERROR],
      [['MGET', 'a', kBadUtf8], ENCODING],
    ]);
    await freshTable(client, 'keymap(str,list<str>)');
    await expectReplies([[['MGET', 'a'], WRONG_MODEL]]);
  });
});

describe('MSET', () => {
  it('answers the number newly set and leaves existing keys untouched', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['SET', 'a', 'old'], OK],
      [['MSET', 'a', 'new', 'b', '2', 'c', '3'], one(uint(2))],
      [['MGET', 'a', 'b', 'c'], one(typed('+', ['old', '2', '3']))],
    ]);
  });

  it('answers 3 for no pairs or an odd count, 9 writing nothing, wrong-model on lists', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['MSET'], ACTION_ERROR],
      [['MSET', 'a', '1', 'b'], ACTION_ERROR],
      [['MSET', 'a', '1', kBadUtf8, '2'], ENCODING],
      [['DBSIZE'], one(uint(0))],
    ]);
    await freshTable(client, 'keymap(str,list<str>)');
    await expectReplies([[['MSET', 'a', '1'], WRONG_MODEL]]);
  });
});

describe('MUPDATE', () => {
  it('answers the number updated and creates no missing key', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['USET', 'a', '1', 'b', '2'], one(uint(2))],
      [['MUPDATE', 'a', '10', 'zz', '9', 'b', '20'], one(uint(2))],
      [['MGET', 'a', 'b', 'zz'], one(typed('+', ['10', '20', null]))],
    ]);
  });

  it('answers 3 for no pairs or an odd count, 9 changing nothing, wrong-model on lists', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['SET', 'a', '1'], OK],
      [['MUPDATE'], ACTION_ERROR],
      [['MUPDATE', 'a'], ACTION_ERROR],
      [['MUPDATE', 'a', '2', 'b', kBadUtf8], ENCODING],
      [['GET', 'a'], one(str('1'))],
    ]);
    await freshTable(client, 'keymap(str,list<str>)');
    await expectReplies([[['MUPDATE', 'a', '1'], WRONG_MODEL]]);
  });
});

describe('SSET (all or nothing)', () => {
  it('answers 0 and sets every pair when none of the keys exists', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['SSET', 'a', '1', 'b', '2'], OK],
      [['MGET', 'a', 'b'], one(typed('+', ['1', '2']))],
    ]);
  });

  it('answers 2 and sets nothing when any key exists', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['SET', 'b', 'old'], OK],
      [['SSET', 'a', '1', 'b', '2', 'c', '3'], OVERWRITE],
      [['MGET', 'a', 'b', 'c'], one(typed('+', [null, 'old', null]))],
      [['DBSIZE'], one(uint(1))],
    ]);
  });

  it('answers 3 for no pairs or an odd count, 9 setting nothing, wrong-model on lists', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['SSET'], ACTION_ERROR],
      [['SSET', 'a', '1', 'b'], ACTION_ERROR],
      [['SSET', 'a', '1', 'b', kBadUtf8], ENCODING],
      [['DBSIZE'], one(uint(0))],
    ]);
    await freshTable(client, 'keymap(str,list<str>)');
    await expectReplies([[['SSET', 'a', '1'], WRONG_MODEL]]);
  });
});

describe('SUPDATE (all or nothing)', () => {
  it('answers 0 and updates every pair when all keys exist', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['USET', 'a', '1', 'b', '2'], one(uint(2))],
      [['SUPDATE', 'a', '10', 'b', '20'], OK],
      [['MGET', 'a', 'b'], one(typed('+', ['10', '20']))],
    ]);
  });

  it('answers 1 and changes nothing when any key is missing', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['USET', 'a', '1', 'b', '2'], one(uint(2))],
      [['SUPDATE', 'a', '10', 'zz', '0', 'b', '20'], NIL],
      [['MGET', 'a', 'b', 'zz'], one(typed('+', ['1', '2', null]))],
    ]);
  });

  it('answers 3 for no pairs or an odd count, 9 changing nothing, wrong-model on lists', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['SET', 'a', '1'], OK],
      [['SUPDATE'], ACTION_ERROR],
      [['SUPDATE', 'a'], ACTION_ERROR],
      [['SUPDATE', 'a', kBadUtf8], ENCODING],
      [['GET', 'a'], one(str('1'))],
    ]);
    await freshTable(client, 'keymap(str,list<str>)');
    await expectReplies([[['SUPDATE', 'a', '1'], WRONG_MODEL]]);
  });
});

describe('SDEL (all or nothing)', () => {
  it('answers 0 and deletes every key when all exist', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['USET', 'a', '1', 'b', '2', 'c', '3'], one(uint(3))],
      [['SDEL', 'a', 'b'], OK],
      [['MGET', 'a', 'b', 'c'], one(typed('+', [null, null, '3']))],
    ]);
  });

  it('answers 1 and deletes nothing when any key is missing', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['USET', 'a', '1', 'b', '2'], one(uint(2))],
      [['SDEL', 'a', 'zz', 'b'], NIL],
      [['MGET', 'a', 'b'], one(typed('+', ['1', '2']))],
    ]);
  });

  it('answers 3 with no key and 9 deleting nothing', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['SET', 'a', '1'], OK],
      [['SDEL'], ACTION_ERROR],
      [['SDEL', 'a', kBadUtf8], ENCODING],
      [['EXISTS', 'a'], one(uint(1))],
    ]);
  });
});

describe('POP', () => {
  it('returns the value with the value type symbol and deletes the key', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['SET', 'a', 'v1'], OK],
      [['POP', 'a'], one(str('v1'))],
      [['EXISTS', 'a'], one(uint(0))],
      [['POP', 'a'], NIL],
    ]);
    await freshTable(client, 'keymap(str,binstr)');
    await expectReplies([
      [['SET', 'a', 'v1'], OK],
      [['POP', 'a'], one(bin('v1'))],
    ]);
  });

  it('answers 3 for zero or two arguments, 9 for a non-UTF-8 key, wrong-model on lists', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['POP'], ACTION_ERROR],
      [['POP', 'a', 'b'], ACTION_ERROR],
      [['POP', kBadUtf8], ENCODING],
    ]);
    await freshTable(client, 'keymap(str,list<str>)');
    await expectReplies([
      [['LSET', 'l', 'x'], OK],
      [['POP', 'l'], WRONG_MODEL],
    ]);
  });
});

describe('MPOP', () => {
  it('returns a typed array with \\0\\n for missing keys and deletes the found ones', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['USET', 'a', '1', 'c', '3'], one(uint(2))],
      [['MPOP', 'a', 'b', 'c'], one(typed('+', ['1', null, '3']))],
      [['DBSIZE'], one(uint(0))],
      [['MPOP', 'a'], one(typed('+', [null]))],
    ]);
    await freshTable(client, 'keymap(binstr,binstr)');
    await expectReplies([
      [['SET', 'a', '1'], OK],
      [['MPOP', 'a', 'b'], one(typed('?', ['1', null]))],
    ]);
  });

  it('answers 3 with no key, 9 popping nothing, wrong-model on lists', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['SET', 'a', '1'], OK],
      [['MPOP'], ACTION_ERROR],
      [['MPOP', 'a', kBadUtf8], ENCODING],
      [['EXISTS', 'a'], one(uint(1))],
    ]);
    await freshTable(client, 'keymap(str,list<str>)');
    await expectReplies([[['MPOP', 'a'], WRONG_MODEL]]);
  });
});

describe('KEYLEN', () => {
  it('answers the byte length of the value, not of the key', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([
      [['SET', 'k', 'héllo wörld'], OK],
      [['KEYLEN', 'k'], one(uint(Buffer.byteLength('héllo wörld')))],
      [['SET', 'empty', ''], OK],
      [['KEYLEN', 'empty'], one(uint(0))],
    ]);
  });

  it('answers 1 for a missing key', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([[['KEYLEN', 'missing'], NIL]]);
  });

  // docs/behaviour.md (Skyhash actions), common rules: "a key or value failing its str check gives 9" (Skytable
  // 0.7's KEYLEN answered 1 here).
  it('answers 9 for a non-UTF-8 key on a str-key table', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([[['KEYLEN', kBadUtf8], ENCODING]]);
  });

  it('answers 3 for zero or two arguments and wrong-model on lists', async () => {
    await expectReplies([
      [['KEYLEN'], ACTION_ERROR],
      [['KEYLEN', 'a', 'b'], ACTION_ERROR],
    ]);
    await freshTable(client, 'keymap(str,list<str>)');
    await expectReplies([[['KEYLEN', 'a'], WRONG_MODEL]]);
  });
});

describe('large keys and values', () => {
  it('stores and returns a 65,536-byte key and a 1 MiB value', async () => {
    await freshTable(client, 'keymap(binstr,binstr)');
    const key = Buffer.alloc(65_536, 'k');
    const value = Buffer.alloc(1024 * 1024, 'v');
    await expectReplies([
      [['SET', key, value], OK],
      [['KEYLEN', key], one(uint(value.length))],
    ]);
    const got = await client.run('GET', key);
    expect(got.length).toBe(`*1\n?${value.length}\n`.length + value.length + 1);
    expect(got === one(bin(value.toString('latin1')))).toBe(true);
  });

  it('stores a 64 MiB value and refuses one byte more with err-value-too-large', async () => {
    await freshTable(client, 'keymap(binstr,binstr)');
    const limit = 64 * 1024 * 1024;
    const value = Buffer.alloc(limit + 1, 'w');
    await expectReplies([
      [['SET', 'huge', value.subarray(0, limit)], OK],
      [['KEYLEN', 'huge'], one(uint(limit))],
      [['SET', 'huger', value], one(err('err-value-too-large'))],
      [['EXISTS', 'huger'], one(uint(0))],
      [['DEL', 'huge'], one(uint(1))],
    ]);
  });
});
