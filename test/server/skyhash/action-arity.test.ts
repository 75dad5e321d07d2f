/**
 * The central argument-count check over a real socket: for every Skytable 0.7 action and
 * subaction (test/server/skyhash/action-expectations.ts), a request with one argument too few
 * and one too many is answered Skytable's action error, code 3 (`!1\n3\n`), and changes nothing.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SkyClient, type Arg } from '../../support/skyhash.js';
import type { InProcessServer } from '../../support/server.js';
import { ACTION_ERROR, freshTable, startServer } from './helpers.js';
import { kExpectedActions, offByOne } from './action-expectations.js';

let server: InProcessServer;
let client: SkyClient;

beforeAll(async () => {
  server = await startServer();
  client = await SkyClient.connect(server.port);
  // A list table: LGET and LMOD check the model before their subaction's count.
  await freshTable(client, 'keymap(str,list<str>)', 'arity');
  expect(await client.run('LSET', 'x', 'p', 'q')).toBe('*1\n!1\n0\n');
});

afterAll(async () => {
  client.close();
  await server.stop();
});

/** `name` then `prefix` (a subaction's words) padded with filler to `count` arguments. */
function request(name: string, prefix: readonly string[], count: number): Arg[] {
  const args: Arg[] = [name, ...prefix];
  while (args.length - 1 < count) args.push('x');
  return args;
}

/** Every (request, label) with one argument too few or too many. */
function offByOneRequests(): Array<[string, Arg[]]> {
  const out: Array<[string, Arg[]]> = [];
  for (const [name, action] of Object.entries(kExpectedActions)) {
    for (const n of offByOne(action.arity, 0)) out.push([`${name} with ${n} arguments`, request(name, [], n)]);
    const sub = action.sub;
    if (sub === undefined) continue;
    for (const [subName, node] of Object.entries(sub.names)) {
      // The words before the subaction: the key for LGET/LMOD.
      const prefix = [...Array<string>(sub.at - 1).fill('x'), subName];
      for (const n of offByOne(node.arity, sub.at)) {
        // Counts the action itself refuses are covered above.
        if (offByOne(action.arity, 0).includes(n)) continue;
        out.push([`${name} ${subName} with ${n} arguments`, request(name, prefix, n)]);
      }
    }
  }
  return out;
}

describe('argument counts, checked centrally for every action', () => {
  it('answers 3 to one argument too few and one too many, for every action and subaction', async () => {
    const cases = offByOneRequests();
    // Every action is probed at least once (those taking any number of arguments from 0 have
    // nothing to probe, and there is none).
    for (const name of Object.keys(kExpectedActions)) expect(cases.some(([label]) => label.startsWith(`${name} `)), name).toBe(true);
    for (const [label, args] of cases) expect.soft(await client.run(...args), label).toBe(ACTION_ERROR);
  });

  it('changes nothing when the count is wrong', async () => {
    await client.run('FLUSHDB', 'x', 'y');
    await client.run('LMOD', 'x', 'PUSH');
    await client.run('LMOD', 'x', 'CLEAR', 'y');
    await client.run('LSET');
    expect(await client.run('LGET', 'x')).toBe('*1\n^+2\n1\np\n1\nq\n');
    expect(await client.run('DBSIZE')).toBe('*1\n:1\n1\n');
  });
});
