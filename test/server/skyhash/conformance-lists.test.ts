/**
 * docs/behaviour.md (Skyhash actions), list rows, byte for byte over a real socket: LSET, every LGET sub-form
 * (whole list, LEN, LIMIT, VALUEAT, FIRST, LAST, RANGE) and every LMOD sub-form (PUSH, INSERT,
 * POP, REMOVE, CLEAR), with `bad-list-index`, `list-is-empty`, code 1 for a missing list,
 * code 7 for indexes that are not unsigned numbers, and wrong-model on KV tables.
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
  UNKNOWN_ACTION,
  WRONG_MODEL,
  WRONG_TYPE,
  bin,
  err,
  freshTable,
  kBadUtf8,
  nonNull,
  one,
  startServer,
  str,
  uint,
  expectRepliesOn,
} from './helpers.js';

const BAD_INDEX = one(err('bad-list-index'));
const EMPTY = one(err('list-is-empty'));

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

/** A fresh `keymap(str,list<str>)` table holding list `l` = [a, b, c] and empty list `e`. */
async function abc(): Promise<void> {
  await freshTable(client, 'keymap(str,list<str>)');
  await expectReplies([
    [['LSET', 'l', 'a', 'b', 'c'], OK],
    [['LSET', 'e'], OK],
  ]);
}

describe('LSET', () => {
  it('creates a list (empty or with values) and answers 2 when it exists', async () => {
    await freshTable(client, 'keymap(str,list<str>)');
    await expectReplies([
      [['LSET', 'e'], OK],
      [['LGET', 'e'], one(nonNull('+', []))],
      [['LSET', 'l', 'x', 'y'], OK],
      [['LSET', 'l', 'z'], OVERWRITE],
      [['LGET', 'l'], one(nonNull('+', ['x', 'y']))],
    ]);
  });

  it('answers 3 with no list name', async () => {
    await freshTable(client, 'keymap(str,list<str>)');
    await expectReplies([[['LSET'], ACTION_ERROR]]);
  });

  it('answers 9 for a non-UTF-8 name or element on a str list table, creating nothing', async () => {
    await freshTable(client, 'keymap(str,list<str>)');
    await expectReplies([
      [['LSET', kBadUtf8, 'x'], ENCODING],
      [['LSET', 'l', 'x', kBadUtf8], ENCODING],
      [['DBSIZE'], one(uint(0))],
    ]);
  });

  it('answers wrong-model on a KV table', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([[['LSET', 'l', 'x'], WRONG_MODEL]]);
  });
});

describe('LGET', () => {
  it('returns the whole list as a non-null typed array, + for list<str> and ? for list<binstr>', async () => {
    await abc();
    await expectReplies([[['LGET', 'l'], one(nonNull('+', ['a', 'b', 'c']))]]);
    await freshTable(client, 'keymap(binstr,list<binstr>)');
    await expectReplies([
      [['LSET', 'l', Buffer.from([0, 10]), 'b'], OK],
      [['LGET', 'l'], one(nonNull('?', ['\0\n', 'b']))],
      [['LGET', 'l', 'FIRST'], one(bin('\0\n'))],
    ]);
  });

  it('answers 1 for a missing list in every form', async () => {
    await abc();
    await expectReplies([
      [['LGET', 'nope'], NIL],
      [['LGET', 'nope', 'LEN'], NIL],
      [['LGET', 'nope', 'LIMIT', '1'], NIL],
      [['LGET', 'nope', 'VALUEAT', '0'], NIL],
      [['LGET', 'nope', 'FIRST'], NIL],
      [['LGET', 'nope', 'LAST'], NIL],
      [['LGET', 'nope', 'RANGE', '0'], NIL],
    ]);
  });

  it('LEN answers the length', async () => {
    await abc();
    await expectReplies([
      [['LGET', 'l', 'LEN'], one(uint(3))],
      [['LGET', 'e', 'LEN'], one(uint(0))],
      [['LGET', 'l', 'LEN', 'x'], ACTION_ERROR],
    ]);
  });

  it('LIMIT n answers the first n elements', async () => {
    await abc();
    await expectReplies([
      [['LGET', 'l', 'LIMIT', '2'], one(nonNull('+', ['a', 'b']))],
      [['LGET', 'l', 'LIMIT', '0'], one(nonNull('+', []))],
      [['LGET', 'l', 'LIMIT', '10'], one(nonNull('+', ['a', 'b', 'c']))],
      [['LGET', 'l', 'LIMIT'], ACTION_ERROR],
      [['LGET', 'l', 'LIMIT', '1', '2'], ACTION_ERROR],
      [['LGET', 'l', 'LIMIT', 'x'], WRONG_TYPE],
      [['LGET', 'l', 'LIMIT', '-1'], WRONG_TYPE],
    ]);
  });

  it('VALUEAT i answers one value, bad-list-index past the end, 7 for a non-number', async () => {
    await abc();
    await expectReplies([
      [['LGET', 'l', 'VALUEAT', '0'], one(str('a'))],
      [['LGET', 'l', 'VALUEAT', '2'], one(str('c'))],
      [['LGET', 'l', 'VALUEAT', '3'], BAD_INDEX],
      [['LGET', 'e', 'VALUEAT', '0'], BAD_INDEX],
      [['LGET', 'l', 'VALUEAT', 'one'], WRONG_TYPE],
      [['LGET', 'l', 'VALUEAT', '1.0'], WRONG_TYPE],
      [['LGET', 'l', 'VALUEAT'], ACTION_ERROR],
    ]);
  });

  it('FIRST and LAST answer one value, list-is-empty on an empty list', async () => {
    await abc();
    await expectReplies([
      [['LGET', 'l', 'FIRST'], one(str('a'))],
      [['LGET', 'l', 'LAST'], one(str('c'))],
      [['LGET', 'e', 'FIRST'], EMPTY],
      [['LGET', 'e', 'LAST'], EMPTY],
      [['LGET', 'l', 'FIRST', 'x'], ACTION_ERROR],
      [['LGET', 'l', 'LAST', 'x'], ACTION_ERROR],
    ]);
  });

  it('RANGE a [b] answers [a, b) or [a, end), bad-list-index when out of range', async () => {
    await abc();
    await expectReplies([
      [['LGET', 'l', 'RANGE', '0', '2'], one(nonNull('+', ['a', 'b']))],
      [['LGET', 'l', 'RANGE', '1'], one(nonNull('+', ['b', 'c']))],
      [['LGET', 'l', 'RANGE', '1', '1'], one(nonNull('+', []))],
      [['LGET', 'l', 'RANGE', '3'], one(nonNull('+', []))],
      [['LGET', 'l', 'RANGE', '2', '1'], BAD_INDEX],
      [['LGET', 'l', 'RANGE', '0', '4'], BAD_INDEX],
      [['LGET', 'l', 'RANGE', '4'], BAD_INDEX],
      [['LGET', 'l', 'RANGE'], ACTION_ERROR],
      [['LGET', 'l', 'RANGE', 'x'], WRONG_TYPE],
      [['LGET', 'l', 'RANGE', '0', 'y'], WRONG_TYPE],
    ]);
  });

  it('takes sub-actions in any case and answers Unknown action for an unknown one', async () => {
    await abc();
    await expectReplies([
      [['lget', 'l', 'len'], one(uint(3))],
      [['LGet', 'l', 'ValueAt', '1'], one(str('b'))],
      [['LGET', 'l', 'range', '0', '1'], one(nonNull('+', ['a']))],
      [['LGET', 'l', 'MIDDLE'], UNKNOWN_ACTION],
    ]);
  });

  it('answers 3 with no list name, 9 for a non-UTF-8 name, wrong-model on a KV table', async () => {
    await abc();
    await expectReplies([
      [['LGET'], ACTION_ERROR],
      [['LGET', kBadUtf8], ENCODING],
    ]);
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([[['LGET', 'l'], WRONG_MODEL]]);
  });
});

describe('LMOD', () => {
  it('PUSH appends one or more values; 1 for a missing list; 9 for a non-UTF-8 value', async () => {
    await abc();
    await expectReplies([
      [['LMOD', 'l', 'PUSH', 'd'], OK],
      [['LMOD', 'l', 'PUSH', 'e', 'f'], OK],
      [['LGET', 'l'], one(nonNull('+', ['a', 'b', 'c', 'd', 'e', 'f']))],
      [['LMOD', 'e', 'PUSH', 'x'], OK],
      [['LGET', 'e'], one(nonNull('+', ['x']))],
      [['LMOD', 'nope', 'PUSH', 'x'], NIL],
      [['LMOD', 'l', 'PUSH', kBadUtf8], ENCODING],
      [['LMOD', 'l', 'PUSH'], ACTION_ERROR],
      [['LGET', 'l', 'LEN'], one(uint(6))],
    ]);
  });

  it('INSERT i v inserts before index i; bad-list-index at or past the end; 7 for a non-number', async () => {
    await abc();
    await expectReplies([
      [['LMOD', 'l', 'INSERT', '0', 'z'], OK],
      [['LMOD', 'l', 'INSERT', '2', 'y'], OK],
      [['LGET', 'l'], one(nonNull('+', ['z', 'a', 'y', 'b', 'c']))],
      [['LMOD', 'l', 'INSERT', '5', 'w'], BAD_INDEX],
      [['LMOD', 'e', 'INSERT', '0', 'w'], BAD_INDEX],
      [['LMOD', 'l', 'INSERT', 'x', 'w'], WRONG_TYPE],
      [['LMOD', 'nope', 'INSERT', '0', 'w'], NIL],
      [['LMOD', 'l', 'INSERT', '0'], ACTION_ERROR],
      [['LMOD', 'l', 'INSERT', '0', 'v', 'w'], ACTION_ERROR],
      [['LMOD', 'l', 'INSERT', '0', kBadUtf8], ENCODING],
      [['LGET', 'l', 'LEN'], one(uint(5))],
    ]);
  });

  it('POP [i] removes and returns the last or the i-th element', async () => {
    await abc();
    await expectReplies([
      [['LMOD', 'l', 'POP'], one(str('c'))],
      [['LMOD', 'l', 'POP', '0'], one(str('a'))],
      [['LGET', 'l'], one(nonNull('+', ['b']))],
      [['LMOD', 'l', 'POP', '1'], BAD_INDEX],
      [['LMOD', 'l', 'POP', 'x'], WRONG_TYPE],
      [['LMOD', 'l', 'POP', '0', '1'], ACTION_ERROR],
      [['LMOD', 'nope', 'POP'], NIL],
      [['LMOD', 'e', 'POP'], EMPTY],
    ]);
    await freshTable(client, 'keymap(binstr,list<binstr>)');
    await expectReplies([
      [['LSET', 'l', 'bin'], OK],
      [['LMOD', 'l', 'POP'], one(bin('bin'))],
    ]);
  });

  it('REMOVE i removes the i-th element; bad-list-index past the end; 7 for a non-number', async () => {
    await abc();
    await expectReplies([
      [['LMOD', 'l', 'REMOVE', '1'], OK],
      [['LGET', 'l'], one(nonNull('+', ['a', 'c']))],
      [['LMOD', 'l', 'REMOVE', '2'], BAD_INDEX],
      [['LMOD', 'e', 'REMOVE', '0'], BAD_INDEX],
      [['LMOD', 'l', 'REMOVE', 'x'], WRONG_TYPE],
      [['LMOD', 'l', 'REMOVE'], ACTION_ERROR],
      [['LMOD', 'l', 'REMOVE', '0', '1'], ACTION_ERROR],
      [['LMOD', 'nope', 'REMOVE', '0'], NIL],
    ]);
  });

  it('CLEAR empties the list, which keeps existing', async () => {
    await abc();
    await expectReplies([
      [['LMOD', 'l', 'CLEAR'], OK],
      [['LGET', 'l'], one(nonNull('+', []))],
      [['EXISTS', 'l'], one(uint(1))],
      [['LMOD', 'nope', 'CLEAR'], NIL],
      [['LMOD', 'l', 'CLEAR', 'x'], ACTION_ERROR],
    ]);
  });

  it('takes sub-actions in any case; Unknown action for an unknown one; 3 with no sub-action', async () => {
    await abc();
    await expectReplies([
      [['lmod', 'l', 'push', 'd'], OK],
      [['LMOD', 'l', 'Pop'], one(str('d'))],
      [['LMOD', 'l', 'SHUFFLE'], UNKNOWN_ACTION],
      [['LMOD', 'l'], ACTION_ERROR],
      [['LMOD'], ACTION_ERROR],
    ]);
  });

  it('answers wrong-model on a KV table', async () => {
    await freshTable(client, 'keymap(str,str)');
    await expectReplies([[['LMOD', 'l', 'PUSH', 'x'], WRONG_MODEL]]);
  });

  it('answers 9 for a non-UTF-8 list name on a str-key table in every sub-form', async () => {
    await abc();
    await expectReplies([
      [['LMOD', kBadUtf8, 'PUSH', 'x'], ENCODING],
      [['LMOD', kBadUtf8, 'INSERT', '0', 'x'], ENCODING],
      [['LMOD', kBadUtf8, 'POP'], ENCODING],
      [['LMOD', kBadUtf8, 'REMOVE', '0'], ENCODING],
      [['LMOD', kBadUtf8, 'CLEAR'], ENCODING],
      [['LGET', kBadUtf8, 'LEN'], ENCODING],
      [['LGET', kBadUtf8, 'FIRST'], ENCODING],
    ]);
  });
});
