/**
 * The Skyhash action table (src/server/skyhash/spec.ts, dispatch.ts) against Skytable 0.7's
 * actions as written out in action-expectations.ts, and the table against the running driver:
 * every action and subaction the table holds is answered over a socket, nothing outside it is,
 * and an anonymous connection reaches exactly the `beforeAuth` nodes.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kSkyhashActions } from '../../../src/server/skyhash/dispatch.js';
import { ActionTable, arityAllows, exact, plainAction, type ActionNode } from '../../../src/server/skyhash/spec.js';
import { SkyClient, type Arg } from '../../support/skyhash.js';
import type { InProcessServer } from '../../support/server.js';
import { UNKNOWN_ACTION, code, err, freshTable, one, startServer } from './helpers.js';
import { allows, kArityProbeMax, kExpectedActions, type ExpectedNode } from './action-expectations.js';

/** `name` and the words before it, padded with filler to the smallest count `node` allows. */
function minimalRequest(words: readonly string[], node: ActionNode): Arg[] {
  const args: Arg[] = [...words];
  while (!arityAllows(node.arity, args.length - 1)) args.push('x');
  return args;
}

/** Every node that runs, with the words that reach it: `[['GET'], GET]`, `[['LMOD', 'x', 'PUSH'], PUSH]`. */
function runnableNodes(): Array<[string[], ActionNode]> {
  const out: Array<[string[], ActionNode]> = [];
  for (const action of kSkyhashActions.entries) {
    const set = action.subactions;
    if (set === null || action.run !== null) out.push([[action.name], action]);
    for (const sub of set?.list ?? []) out.push([[action.name, ...Array<string>(set!.at - 1).fill('x'), sub.name], sub]);
  }
  return out;
}

function expectSameNode(node: ActionNode, expected: ExpectedNode): void {
  for (let n = 0; n <= kArityProbeMax; n++) expect(arityAllows(node.arity, n), `${node.fullName} with ${n} arguments`).toBe(allows(expected.arity, n));
  expect(node.write, `${node.fullName} write`).toBe(expected.write === true);
  expect(node.beforeAuth, `${node.fullName} beforeAuth`).toBe(expected.beforeAuth === true);
}

describe('the action table', () => {
  it("holds exactly Skytable 0.7's actions and subactions, with their counts and flags", () => {
    expect(kSkyhashActions.entries.map((a) => a.name).sort()).toEqual(Object.keys(kExpectedActions).sort());
    for (const action of kSkyhashActions.entries) {
      const expected = kExpectedActions[action.name];
      if (expected === undefined) throw new Error(`unexpected action ${action.name}`);
      expectSameNode(action, expected);
      const set = action.subactions;
      expect(set === null, `${action.name} has subactions`).toBe(expected.sub === undefined);
      if (set === null || expected.sub === undefined) continue;
      expect(set.at, `${action.name} subaction position`).toBe(expected.sub.at);
      expect(set.unknown, `${action.name} unknown subaction`).toBe(expected.sub.unknown);
      expect(set.list.map((s) => s.name).sort()).toEqual(Object.keys(expected.sub.names).sort());
      for (const sub of set.list) expectSameNode(sub, expected.sub.names[sub.name] as ExpectedNode);
    }
  });

  it('refuses a duplicate name, a lower-case name, a write that does not run and a node that does nothing', () => {
    const run = (): void => undefined;
    expect(() => new ActionTable([[plainAction({ name: 'A', arity: exact(0), run })], [plainAction({ name: 'A', arity: exact(0), run })]])).toThrow(/defined twice/);
    expect(() => new ActionTable([[plainAction({ name: 'a', arity: exact(0), run })]])).toThrow(/upper case/);
    expect(() => new ActionTable([[plainAction({ name: 'A', arity: exact(0) })]])).toThrow(/needs run or subactions/);
    const sub = plainAction({ name: 'S', arity: exact(1), run });
    expect(() => new ActionTable([[plainAction({ name: 'A', arity: exact(1), write: true, subactions: { at: 1, unknown: 3, list: [sub] } })]])).toThrow(/write belongs/);
    expect(() => new ActionTable([[plainAction({ name: 'A', arity: exact(1), subactions: { at: 1, unknown: 3, list: [sub, sub] } })]])).toThrow(/defined twice/);
  });
});

describe('the table and the driver agree', () => {
  let server: InProcessServer;
  let client: SkyClient;
  beforeAll(async () => {
    server = await startServer();
    client = await SkyClient.connect(server.port);
    // LGET and LMOD need a list table to reach their subactions.
    await freshTable(client, 'keymap(str,list<str>)', 'agree');
  });
  afterAll(async () => {
    client.close();
    await server.stop();
  });

  it('answers every action and subaction of the table, in any case, with something other than its unknown reply', async () => {
    for (const [words, node] of runnableNodes()) {
      const action = kSkyhashActions.entries.find((a) => a.name === words[0]) as ActionNode;
      const unknown = one(typeof action.subactions?.unknown === 'number' ? code(action.subactions.unknown) : err(action.subactions?.unknown ?? 'Unknown action'));
      for (const spelled of [words, words.map((w) => w.toLowerCase())]) {
        const args = minimalRequest(spelled, node);
        const got = await client.run(...args);
        expect.soft(got, args.join(' ')).not.toBe(UNKNOWN_ACTION);
        expect.soft(got, args.join(' ')).not.toBe(unknown);
      }
    }
  });

  it('answers Unknown action to every name outside the table, and each container its own reply to an unknown subaction', async () => {
    const outside = ['PING', 'ECHO', 'INCR', 'HGET', 'KEYS', 'FLUSHALL', 'SELECT', 'QUIT', 'COMMAND', 'INFO', 'GETX', 'SE', 'AUTHX', 'LMODS', 'X'.repeat(kSkyhashActions.nameMaxBytes + 1)];
    for (const name of outside) expect.soft(await client.run(name, 'x', 'x'), name).toBe(UNKNOWN_ACTION);
    for (const action of kSkyhashActions.entries) {
      const set = action.subactions;
      if (set === null) continue;
      const args: Arg[] = [action.name, ...Array<string>(set.at - 1).fill('x'), 'NOSUCHSUB'];
      while (!arityAllows(action.arity, args.length - 1)) args.push('x');
      const expected = one(typeof set.unknown === 'number' ? code(set.unknown) : err(set.unknown));
      expect.soft(await client.run(...args), args.join(' ')).toBe(expected);
    }
  });
});

describe('the table and the driver agree on what an anonymous connection reaches', () => {
  const kOrigin = 'c4299d190fb9a00626797fcc138c56eae9971664';
  let server: InProcessServer;
  beforeAll(async () => {
    server = await startServer({ auth: { originKey: kOrigin } });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('answers 10 to every action not allowed before auth and 11 to such a subaction; the allowed ones reach their count check', async () => {
    const c = await SkyClient.connect(server.port);
    for (const [words, node] of runnableNodes()) {
      const action = kSkyhashActions.entries.find((a) => a.name === words[0]) as ActionNode;
      const args = minimalRequest(words, node);
      // Past the largest count (when the count is bounded): code 3 shows the request got past auth.
      do args.push('x');
      while (arityAllows(node.arity, args.length - 1) && args.length <= kArityProbeMax);
      const name = args.join(' ');
      const got = await c.run(...args);
      if (!action.beforeAuth) expect.soft(got, name).toBe(one(code(10)));
      else if (!node.beforeAuth) expect.soft(got, name).toBe(one(code(11)));
      else {
        expect(arityAllows(node.arity, args.length - 1), `${name} is a count ${node.fullName} refuses`).toBe(false);
        expect.soft(got, name).toBe(one(code(3)));
      }
    }
    // The allowed ones do run: a claim with the origin key logs in.
    expect(await c.run('AUTH', 'CLAIM', kOrigin)).toMatch(/^\*1\n\+56\n/);
    expect(await c.run('HEYA')).toBe('*1\n+4\nHEY!\n');
    c.close();
    const anonymous = await SkyClient.connect(server.port);
    expect(await anonymous.run('AUTH', 'NOSUCHSUB')).toBe(one(code(11)));
    expect(await anonymous.run('NOSUCHACTION')).toBe(one(code(10)));
    anonymous.close();
  });
});
