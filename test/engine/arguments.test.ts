/**
 * Arguments of the wrong JavaScript type to table handles and Database methods are refused
 * with ERR_BAD_ARGUMENT naming the method and the argument (never one of Node's internal
 * TypeErrors, never coerced into a key), and nothing changes.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open, type Database } from '../../src/database.js';
import type { TableHandle } from '../../src/engine/handle.js';
import { FrostError } from '../../src/util/errors.js';
import { tempDir } from '../support/tmp.js';

// The tests call the API the way untyped JavaScript can.
type Loose = Record<string, (...args: unknown[]) => unknown>;

let db: Database;
let kv: TableHandle;
let lists: TableHandle;

beforeAll(async () => {
  db = await open({ server: { dataDir: tempDir() }, bgsave: { enabled: false }, workers: { threads: 1 } });
  db.createKeyspace('args');
  db.createTable('args:kv', 'keymap(str,str)');
  db.createTable('args:lists', 'keymap(str,list<str>)');
  kv = db.table('args:kv');
  lists = db.table('args:lists');
  kv.set('present', 'v');
  lists.listCreate('l', ['a', 'b']);
});

afterAll(async () => {
  await db.close();
});

async function refusal(call: () => unknown): Promise<FrostError> {
  try {
    await call();
  } catch (error) {
    expect(error).toBeInstanceOf(FrostError);
    return error as FrostError;
  }
  throw new Error('the call was accepted');
}

async function expectBadArgument(call: () => unknown, method: string, argument: string): Promise<void> {
  const error = await refusal(call);
  expect(error.code, error.message).toBe('ERR_BAD_ARGUMENT');
  expect(error.message).toContain(`${method}(): \`${argument}\` must be`);
}

describe('key/value methods', () => {
  const cases: Array<[string, unknown[], string]> = [
    ['set', [123, 'v'], 'key'],
    ['set', ['k', undefined], 'value'],
    ['set', ['k', 5], 'value'],
    ['set', [null, 'v'], 'key'],
    ['insert', [{}, 'v'], 'key'],
    ['insert', ['k', true], 'value'],
    ['update', ['present', 7], 'value'],
    ['get', [null], 'key'],
    ['getString', [undefined], 'key'],
    ['has', [42], 'key'],
    ['valueLength', [[1]], 'key'],
    ['delete', [1], 'key'],
    ['pop', [1n], 'key'],
    ['lookupRaw', [Symbol('k')], 'key'],
    ['someKeys', ['10'], 'limit'],
  ];
  for (const [method, args, argument] of cases) {
    it(`${method}(${args.map((a) => typeof a).join(', ')}) names \`${argument}\``, async () => {
      await expectBadArgument(() => (kv as unknown as Loose)[method]?.(...args), method, argument);
    });
  }

  it('changes nothing and coerces nothing', () => {
    expect(kv.size).toBe(1);
    expect(kv.getString('present')).toBe('v');
    expect(kv.has('123')).toBe(false);
    expect(kv.has('k')).toBe(false);
  });

  it('reports the type it got', async () => {
    expect((await refusal(() => (kv as unknown as Loose).set?.(123, 'v'))).message).toBe(
      'set(): `key` must be a string or a Uint8Array (such as a Buffer), got a number (123)',
    );
  });
});

describe('list methods', () => {
  const cases: Array<[string, unknown[], string]> = [
    ['listCreate', ['n', 'not-an-array'], 'values'],
    ['listCreate', ['n', ['a', 1]], 'values[1]'],
    ['listCreate', [9, ['a']], 'key'],
    ['listPush', ['l', 'x'], 'values'],
    ['listPush', ['l', [null]], 'values[0]'],
    ['listInsert', ['l', '0', 'v'], 'index'],
    ['listInsert', ['l', 0, 5], 'value'],
    ['listPop', ['l', '1'], 'index'],
    ['listRemove', ['l', null], 'index'],
    ['listRange', ['l', '0'], 'start'],
    ['listRange', ['l', 0, '1'], 'end'],
    ['listLimit', ['l', '1'], 'limit'],
    ['listValueAt', ['l', undefined], 'index'],
    ['list', [5], 'key'],
    ['listLength', [5], 'key'],
    ['listFirst', [5], 'key'],
    ['listLast', [5], 'key'],
    ['listClear', [5], 'key'],
  ];
  for (const [method, args, argument] of cases) {
    it(`${method}(${args.map((a) => (Array.isArray(a) ? 'array' : typeof a)).join(', ')}) names \`${argument}\``, async () => {
      await expectBadArgument(() => (lists as unknown as Loose)[method]?.(...args), method, argument);
    });
  }

  it('changes nothing', () => {
    expect(lists.size).toBe(1);
    expect(lists.list('l')?.map(String)).toEqual(['a', 'b']);
  });
});

describe('Database methods', () => {
  const loose = (): Loose => db as unknown as Loose;
  const cases: Array<[string, unknown[], string]> = [
    ['createKeyspace', [5], 'name'],
    ['dropKeyspace', [null], 'name'],
    ['dropKeyspace', ['args', 'force'], 'options'],
    ['createTable', [5], 'entity'],
    ['createTable', ['args:t', 42], 'model'],
    ['dropTable', [5], 'entity'],
    ['table', [5], 'entity'],
    ['tables', [5], 'keyspace'],
    ['snapshot', [42], 'name'],
    ['describeTable', [5], 'entity'],
  ];
  for (const [method, args, argument] of cases) {
    it(`${method}(${args.map((a) => typeof a).join(', ')}) names \`${argument}\``, async () => {
      await expectBadArgument(() => loose()[method]?.call(db, ...args), method, argument);
    });
  }


  it('changes nothing', () => {
    expect(db.keyspaces()).toEqual(['default', 'args']);
    expect(db.tables('args')).toEqual(['kv', 'lists']);
  });
});
