import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/engine.js';
import { describeModel, parseModel } from '../../src/engine/model.js';
import { parseEntity } from '../../src/engine/names.js';

const code = (c: string) => expect.objectContaining({ code: c });

describe('keyspaces and tables', () => {
  it('start with default:default of model keymap(binstr,binstr)', () => {
    const engine = new Engine();
    expect(engine.keyspaceNames()).toEqual(['default']);
    expect(engine.tableNames('default')).toEqual(['default']);
    expect(describeModel(engine.describe({ keyspace: 'default', table: 'default' }))).toBe(
      'Keymap { data:(binstr,binstr), volatile:false }',
    );
  });

  it('create, list, inspect and drop keyspaces and tables', () => {
    const engine = new Engine();
    engine.createKeyspace('app');
    engine.createTable('app:users', parseModel('keymap(str,list<binstr>)', ['volatile']));
    expect(engine.tableNames('app')).toEqual(['users']);
    expect(describeModel(engine.describe({ keyspace: 'app', table: 'users' }))).toBe(
      'Keymap { data:(str,list<binstr>), volatile:true }',
    );
    engine.dropTable('app:users');
    expect(engine.tableNames('app')).toEqual([]);
    engine.dropKeyspace('app');
    expect(engine.hasKeyspace('app')).toBe(false);
  });

  it('refuse bad names with stable codes, at the 64-byte limit and one past it', () => {
    const engine = new Engine();
    engine.createKeyspace('a'.repeat(64));
    expect(() => engine.createKeyspace('a'.repeat(65))).toThrow(code('ERR_CONTAINER_NAME_TOO_LONG'));
    expect(() => engine.createKeyspace('1abc')).toThrow(code('ERR_BAD_CONTAINER_NAME'));
    expect(() => engine.createKeyspace('a-b')).toThrow(code('ERR_BAD_CONTAINER_NAME'));
    expect(() => engine.createKeyspace('')).toThrow(code('ERR_BAD_CONTAINER_NAME'));
    expect(() => engine.createKeyspace('PRELOAD')).toThrow(code('ERR_BAD_CONTAINER_NAME'));
    expect(() => engine.createKeyspace('partmap')).toThrow(code('ERR_BAD_CONTAINER_NAME'));
    expect(() => engine.createKeyspace('system')).toThrow(code('ERR_PROTECTED_OBJECT'));
    engine.createKeyspace('_under_score9');
  });

  it('refuse duplicates, missing containers and protected objects', () => {
    const engine = new Engine();
    expect(() => engine.createKeyspace('default')).toThrow(code('ERR_ALREADY_EXISTS'));
    expect(() => engine.createTable('default:default', parseModel('keymap(str,str)'))).toThrow(code('ERR_ALREADY_EXISTS'));
    expect(() => engine.createTable('nope:t', parseModel('keymap(str,str)'))).toThrow(code('ERR_KEYSPACE_NOT_FOUND'));
    expect(() => engine.dropTable('default:missing')).toThrow(code('ERR_TABLE_NOT_FOUND'));
    expect(() => engine.dropKeyspace('missing')).toThrow(code('ERR_KEYSPACE_NOT_FOUND'));
    expect(() => engine.dropTable('default:default')).toThrow(code('ERR_PROTECTED_OBJECT'));
    expect(() => engine.dropKeyspace('default')).toThrow(code('ERR_PROTECTED_OBJECT'));
    expect(() => engine.dropKeyspace('system')).toThrow(code('ERR_PROTECTED_OBJECT'));
    expect(() => engine.createTable('system:t', parseModel('keymap(str,str)'))).toThrow(code('ERR_PROTECTED_OBJECT'));
  });

  it('need force to drop a non-empty keyspace, and force works', () => {
    const engine = new Engine();
    engine.createKeyspace('app');
    engine.createTable('app:t', parseModel('keymap(str,str)'));
    const handle = engine.table('app:t');
    handle.set('k', 'v');
    expect(() => engine.dropKeyspace('app')).toThrow(code('ERR_KEYSPACE_NOT_EMPTY'));
    engine.dropKeyspace('app', { force: true });
    expect(engine.hasKeyspace('app')).toBe(false);
    expect(() => handle.get('k')).toThrow(code('ERR_TABLE_NOT_FOUND'));
  });

  it('refuse to drop a table or keyspace a connection is using', () => {
    const engine = new Engine();
    engine.createKeyspace('app');
    engine.createTable('app:t', parseModel('keymap(str,str)'));
    const entry = engine.entry({ keyspace: 'app', table: 't' });
    entry.uses++;
    expect(() => engine.dropTable('app:t')).toThrow(code('ERR_STILL_IN_USE'));
    expect(() => engine.dropKeyspace('app', { force: true })).toThrow(code('ERR_STILL_IN_USE'));
    entry.uses--;
    engine.dropTable('app:t');
  });

  it('parse model expressions the way Skytable 0.7 does, with a code for each mistake', () => {
    expect(parseModel('keymap(str, binstr)')).toEqual({ key: 'str', value: 'binstr', volatile: false });
    expect(parseModel('keymap(binstr,list<str>)', ['volatile'])).toEqual({ key: 'binstr', value: 'list<str>', volatile: true });
    expect(() => parseModel('Keymap(str,str)')).toThrow(code('ERR_UNKNOWN_MODEL'));
    expect(() => parseModel('keymap(list<str>,str)')).toThrow(code('ERR_BAD_TYPE_FOR_KEY'));
    expect(() => parseModel('hashmap(str,str)')).toThrow(code('ERR_UNKNOWN_MODEL'));
    expect(() => parseModel('keymap(str)')).toThrow(code('ERR_TOO_MANY_ARGS'));
    expect(() => parseModel('keymap(str,)')).toThrow(code('ERR_MALFORMED_EXPRESSION'));
    expect(() => parseModel('keymap str')).toThrow(code('ERR_MALFORMED_EXPRESSION'));
    expect(() => parseModel('keymap(str,int)')).toThrow(code('ERR_UNKNOWN_DATA_TYPE'));
    expect(() => parseModel('keymap(str,str)', ['durable'])).toThrow(code('ERR_UNKNOWN_PROPERTY'));
  });

  it('resolve entities against the current keyspace', () => {
    expect(parseEntity('ks:t', null)).toEqual({ keyspace: 'ks', table: 't' });
    expect(parseEntity('t', 'app')).toEqual({ keyspace: 'app', table: 't' });
    expect(parseEntity(':t', 'app')).toEqual({ keyspace: 'app', table: 't' });
    expect(() => parseEntity('a:b:c', 'app')).toThrow(code('ERR_BAD_CONTAINER_NAME'));
    expect(() => parseEntity('t', null)).toThrow(code('ERR_KEYSPACE_NOT_FOUND'));
  });
});

describe('table handles', () => {
  it('follow Skytable semantics: insert never overwrites, update needs the key', () => {
    const engine = new Engine();
    const t = engine.table();
    expect(t.insert('k', 'v1')).toBe(true);
    expect(t.insert('k', 'v2')).toBe(false);
    expect(t.getString('k')).toBe('v1');
    expect(t.update('k', 'v3')).toBe(true);
    expect(t.update('missing', 'v')).toBe(false);
    expect(t.pop('k')?.toString()).toBe('v3');
    expect(t.has('k')).toBe(false);
  });

  it('check str keys and values as UTF-8 and refuse the wrong model', () => {
    const engine = new Engine();
    engine.createTable('default:texts', parseModel('keymap(str,str)'));
    engine.createTable('default:lists', parseModel('keymap(str,list<str>)'));
    const texts = engine.table('default:texts');
    expect(() => texts.set(Buffer.from([0xff, 0xfe]), 'v')).toThrow(code('ERR_ENCODING'));
    expect(() => texts.set('k', Buffer.from([0xc3]))).toThrow(code('ERR_ENCODING'));
    expect(() => texts.set('k', '\ud800')).toThrow(code('ERR_ENCODING'));
    expect(texts.size).toBe(0);
    const lists = engine.table('default:lists');
    expect(() => lists.set('k', 'v')).toThrow(code('ERR_WRONG_MODEL'));
    expect(() => texts.listCreate('k', [])).toThrow(code('ERR_WRONG_MODEL'));
  });

  it('keep lists: create, push, insert, pop, remove, clear, ranges and errors', () => {
    const engine = new Engine();
    engine.createTable('default:lists', parseModel('keymap(str,list<str>)'));
    const l = engine.table('default:lists');
    expect(l.listCreate('l', ['a', 'b'])).toBe(true);
    expect(l.listCreate('l', [])).toBe(false);
    expect(l.listPush('l', ['c', 'd'])).toBe(true);
    expect(l.listPush('missing', ['x'])).toBe(false);
    expect(l.list('l')?.map(String)).toEqual(['a', 'b', 'c', 'd']);
    expect(l.listLength('l')).toBe(4);
    expect(l.listInsert('l', 0, 'z')).toBe(true);
    expect(l.listValueAt('l', 0)?.toString()).toBe('z');
    expect(() => l.listValueAt('l', 5)).toThrow(code('ERR_BAD_LIST_INDEX'));
    expect(() => l.listInsert('l', 5, 'q')).toThrow(code('ERR_BAD_LIST_INDEX'));
    expect(l.listRange('l', 1, 3)?.map(String)).toEqual(['a', 'b']);
    expect(l.listRange('l', 2)?.map(String)).toEqual(['b', 'c', 'd']);
    expect(() => l.listRange('l', 3, 2)).toThrow(code('ERR_BAD_LIST_INDEX'));
    expect(l.listLimit('l', 2)?.map(String)).toEqual(['z', 'a']);
    expect(l.listPop('l')?.toString()).toBe('d');
    expect(l.listPop('l', 0)?.toString()).toBe('z');
    expect(l.listRemove('l', 0)).toBe(true);
    expect(l.list('l')?.map(String)).toEqual(['b', 'c']);
    expect(l.listFirst('l')?.toString()).toBe('b');
    expect(l.listLast('l')?.toString()).toBe('c');
    expect(l.listClear('l')).toBe(true);
    expect(l.listLength('l')).toBe(0);
    expect(() => l.listPop('l')).toThrow(code('ERR_LIST_IS_EMPTY'));
    expect(() => l.listFirst('l')).toThrow(code('ERR_LIST_IS_EMPTY'));
    expect(l.list('missing')).toBeUndefined();
  });

  it('refuse every write while read-only and serve reads', () => {
    const engine = new Engine();
    const t = engine.table();
    t.set('k', 'v');
    engine.setReadOnly('bgsave failed at fsync');
    expect(() => t.set('k', 'w')).toThrow(code('ERR_READ_ONLY'));
    expect(() => t.delete('k')).toThrow(code('ERR_READ_ONLY'));
    expect(() => t.clear()).toThrow(code('ERR_READ_ONLY'));
    expect(() => engine.createKeyspace('x')).toThrow(code('ERR_READ_ONLY'));
    expect(t.getString('k')).toBe('v');
    engine.clearReadOnly();
    t.set('k', 'w');
    expect(t.getString('k')).toBe('w');
  });

  it('freeze every table of every keyspace at one cut', () => {
    const engine = new Engine();
    engine.createKeyspace('a');
    engine.createTable('a:t', parseModel('keymap(str,str)'));
    engine.createTable('a:v', parseModel('keymap(str,str)', ['volatile']));
    engine.table('a:t').set('x', '1');
    engine.table().set('y', '2');
    const cut = engine.freeze();
    engine.table('a:t').set('x', 'changed');
    expect(cut.tables.map((t) => `${t.keyspace}:${t.name}`).sort()).toEqual(['a:t', 'a:v', 'default:default']);
    expect(cut.tables.find((t) => t.name === 'v')?.frozen).toBeNull();
    const at = cut.tables.find((t) => t.name === 't');
    expect(at?.frozen?.entryCount()).toBe(1);
    cut.release();
    expect(engine.stats().cowBytesNow).toBe(0);
  });
});
