/**
 * AUTH on Skyhash, byte for byte as Skytable 0.7.7 (server/src/auth/ and its tests): every
 * subaction and error with auth on and off, what an anonymous connection may run, pipelines,
 * and RESTORE's effect on open connections.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SkyClient, pipeline } from '../../support/skyhash.js';
import type { InProcessServer } from '../../support/server.js';
import { ACTION_ERROR, OK, UNKNOWN_ACTION, code, err, one, startServer } from './helpers.js';

const kOrigin = 'c4299d190fb9a00626797fcc138c56eae9971664';
const BAD_CREDENTIALS = one(code(10));
const PERMISSION = one(code(11));
const DISABLED = one(err('err-auth-disabled'));
const ALREADY_CLAIMED = one(err('err-auth-already-claimed'));
const ILLEGAL_USERNAME = one(err('err-auth-illegal-username'));
const DELUSER_FAIL = one(err('err-auth-deluser-fail'));
/** A token reply: `+56\n` then 56 characters of the bcrypt base64 alphabet, `=`-padded. */
const kTokenReply = /^\*1\n\+56\n([./A-Za-z0-9]{54}==)\n$/;

function token(replyText: string): string {
  const match = kTokenReply.exec(replyText);
  if (match === null) throw new Error(`not a token reply: ${JSON.stringify(replyText)}`);
  return match[1] as string;
}

describe('AUTH with auth off (no origin key)', () => {
  let server: InProcessServer;
  let c: SkyClient;
  beforeAll(async () => {
    server = await startServer();
    c = await SkyClient.connect(server.port);
  });
  afterAll(async () => {
    c.close();
    await server.stop();
  });

  it('answers err-auth-disabled for every well-formed subaction, after the argument count', async () => {
    for (const args of [
      ['AUTH', 'CLAIM', 'blah'],
      ['AUTH', 'LOGIN', 'user', 'blah'],
      ['AUTH', 'ADDUSER', 'user'],
      ['AUTH', 'LOGOUT'],
      ['AUTH', 'DELUSER', 'testuser'],
      ['AUTH', 'RESTORE', 'root'],
      ['AUTH', 'RESTORE', kOrigin, 'root'],
      ['AUTH', 'LISTUSER'],
      ['AUTH', 'WHOAMI'],
      ['auth', 'whoami'],
    ]) expect(await c.run(...args), args.join(' ')).toBe(DISABLED);
    expect(await c.run('AUTH')).toBe(ACTION_ERROR);
    expect(await c.run('AUTH', 'CLAIM')).toBe(ACTION_ERROR);
    expect(await c.run('AUTH', 'LOGOUT', 'extra')).toBe(ACTION_ERROR);
    expect(await c.run('AUTH', 'RESTORE')).toBe(ACTION_ERROR);
    expect(await c.run('AUTH', 'raspberry')).toBe(UNKNOWN_ACTION);
    // Everything else keeps working: auth off means every connection may run everything.
    expect(await c.run('HEYA')).toBe('*1\n+4\nHEY!\n');
  });
});

describe('AUTH with an origin key', () => {
  let server: InProcessServer;
  const clients: SkyClient[] = [];
  async function connect(): Promise<SkyClient> {
    const c = await SkyClient.connect(server.port);
    clients.push(c);
    return c;
  }
  let rootToken = '';
  beforeAll(async () => {
    server = await startServer({ auth: { originKey: kOrigin } });
  });
  afterAll(async () => {
    for (const c of clients) c.close();
    await server.stop();
  });

  it('lets an anonymous connection run only AUTH LOGIN / CLAIM / RESTORE / WHOAMI', async () => {
    const anon = await connect();
    expect(await anon.run('HEYA')).toBe(BAD_CREDENTIALS);
    expect(await anon.run('GET', 'x')).toBe(BAD_CREDENTIALS);
    expect(await anon.run('NOSUCHACTION')).toBe(BAD_CREDENTIALS);
    expect(await anon.run('AUTH', 'WHOAMI')).toBe(PERMISSION);
    expect(await anon.run('AUTH', 'ADDUSER', 'someuser')).toBe(PERMISSION);
    expect(await anon.run('AUTH', 'LOGOUT')).toBe(PERMISSION);
    expect(await anon.run('AUTH', 'DELUSER', 'someuser')).toBe(PERMISSION);
    expect(await anon.run('AUTH', 'LISTUSER')).toBe(PERMISSION);
    expect(await anon.run('AUTH', 'raspberry')).toBe(PERMISSION);
    expect(await anon.run('AUTH', 'RESTORE', 'root')).toBe(PERMISSION);
    expect(await anon.run('AUTH')).toBe(ACTION_ERROR);
    // A pipeline from an anonymous connection is answered as one query: bad credentials.
    anon.send(pipeline(['HEYA'], ['AUTH', 'CLAIM', kOrigin]));
    expect((await anon.response()).toString('latin1')).toBe(BAD_CREDENTIALS);
    expect(await anon.run('AUTH', 'LOGIN', 'root', 'x')).toBe(BAD_CREDENTIALS);
  });

  it('CLAIM: wrong key 10, argument count 3; the origin key claims root once and logs in', async () => {
    const c = await connect();
    expect(await c.run('AUTH', 'CLAIM', kOrigin.slice(1))).toBe(BAD_CREDENTIALS);
    expect(await c.run('AUTH', 'CLAIM')).toBe(ACTION_ERROR);
    expect(await c.run('AUTH', 'CLAIM', 'origin key', 'but more data')).toBe(ACTION_ERROR);
    rootToken = token(await c.run('AUTH', 'claim', kOrigin));
    expect(await c.run('AUTH', 'WHOAMI')).toBe(one('+4\nroot\n'));
    expect(await c.run('HEYA', 'abcd')).toBe('*1\n+4\nabcd\n');
    expect(await c.run('AUTH', 'CLAIM', kOrigin)).toBe(ALREADY_CLAIMED);
    expect(await c.run('AUTH', 'CLAIM', kOrigin.slice(1))).toBe(BAD_CREDENTIALS);
    const other = await connect();
    expect(await other.run('AUTH', 'CLAIM', kOrigin)).toBe(ALREADY_CLAIMED);
  });

  it('LOGIN, ADDUSER, LISTUSER, WHOAMI, LOGOUT, DELUSER with their errors', async () => {
    const root = await connect();
    expect(await root.run('AUTH', 'LOGIN', 'root', 'badpass')).toBe(BAD_CREDENTIALS);
    expect(await root.run('AUTH', 'LOGIN', 'lesserdata')).toBe(ACTION_ERROR);
    expect(await root.run('AUTH', 'LOGIN', 'user', 'password', 'extra')).toBe(ACTION_ERROR);
    expect(await root.run('AUTH', 'LOGIN', 'root', rootToken)).toBe(OK);
    expect(await root.run('AUTH', 'ADDUSER', 'user', 'butextradata')).toBe(ACTION_ERROR);
    const userToken = token(await root.run('AUTH', 'ADDUSER', 'testuser'));
    expect(await root.run('AUTH', 'ADDUSER', 'testuser')).toBe(ALREADY_CLAIMED);
    expect(await root.run('AUTH', 'ADDUSER', 'u'.repeat(40))).toMatch(kTokenReply);
    expect(await root.run('AUTH', 'ADDUSER', 'u'.repeat(41))).toBe(ILLEGAL_USERNAME);
    expect(await root.run('AUTH', 'ADDUSER', Buffer.from('ключ'))).toBe(ILLEGAL_USERNAME);
    expect(await root.run('AUTH', 'ADDUSER', '')).toBe(ILLEGAL_USERNAME);
    const listed = await root.run('AUTH', 'LISTUSER');
    expect(listed).toMatch(/^\*1\n\^\+3\n/);
    expect(listed).toContain('4\nroot\n');
    expect(listed).toContain('8\ntestuser\n');
    expect(listed).toContain(`40\n${'u'.repeat(40)}\n`);
    expect(await root.run('AUTH', 'LISTUSER', 'extra argument')).toBe(ACTION_ERROR);

    const user = await connect();
    expect(await user.run('AUTH', 'LOGIN', 'testuser', userToken)).toBe(OK);
    expect(await user.run('AUTH', 'WHOAMI')).toBe(one('+8\ntestuser\n'));
    expect(await user.run('AUTH', 'WHOAMI', 'extra argument')).toBe(ACTION_ERROR);
    expect(await user.run('AUTH', 'ADDUSER', 'someuser')).toBe(PERMISSION);
    expect(await user.run('AUTH', 'DELUSER', 'testuser')).toBe(PERMISSION);
    expect(await user.run('AUTH', 'LISTUSER')).toBe(PERMISSION);
    expect(await user.run('AUTH', 'RESTORE', 'root')).toBe(PERMISSION);
    expect(await user.run('AUTH', 'raspberry')).toBe(UNKNOWN_ACTION);
    expect(await user.run('AUTH', 'LOGOUT', 'butextradata')).toBe(ACTION_ERROR);
    expect(await user.run('AUTH', 'LOGOUT')).toBe(OK);
    expect(await user.run('HEYA')).toBe(BAD_CREDENTIALS);
    expect(await user.run('AUTH', 'LOGOUT')).toBe(PERMISSION);

    expect(await root.run('AUTH', 'DELUSER', 'root')).toBe(DELUSER_FAIL);
    expect(await root.run('AUTH', 'DELUSER', 'nosuchuser')).toBe(BAD_CREDENTIALS);
    expect(await root.run('AUTH', 'DELUSER', 'someuser', 'butextradata')).toBe(ACTION_ERROR);
    expect(await root.run('AUTH', 'DELUSER', 'u'.repeat(40))).toBe(OK);
    expect(await user.run('AUTH', 'LOGIN', 'testuser', userToken)).toBe(OK);
    // Deleting a user ends its open sessions at once (Skytable 0.7 left them logged in).
    expect(await root.run('AUTH', 'DELUSER', 'testuser')).toBe(OK);
    expect(await user.run('HEYA')).toBe(BAD_CREDENTIALS);
    expect(await user.run('AUTH', 'LOGIN', 'testuser', userToken)).toBe(BAD_CREDENTIALS);
  });

  it('RESTORE: by root or with the origin key; the old token stops working at once, and so do the sessions it opened', async () => {
    const root = await connect();
    expect(await root.run('AUTH', 'LOGIN', 'root', rootToken)).toBe(OK);
    const first = token(await root.run('AUTH', 'ADDUSER', 'someuser2'));
    const open = await connect();
    expect(await open.run('AUTH', 'LOGIN', 'someuser2', first)).toBe(OK);
    const second = token(await root.run('AUTH', 'RESTORE', 'someuser2'));
    expect(second).not.toBe(first);
    // The old token fails everywhere from now on, also on the connection that used it...
    expect(await open.run('AUTH', 'LOGIN', 'someuser2', first)).toBe(BAD_CREDENTIALS);
    const fresh = await connect();
    expect(await fresh.run('AUTH', 'LOGIN', 'someuser2', first)).toBe(BAD_CREDENTIALS);
    // ...and the session it opened has ended (Skytable 0.7 kept such sessions logged in).
    expect(await open.run('AUTH', 'WHOAMI')).toBe(PERMISSION);
    expect(await open.run('HEYA')).toBe(BAD_CREDENTIALS);
    expect(await fresh.run('AUTH', 'LOGIN', 'someuser2', second)).toBe(OK);
    // Root replacing its own token keeps its own session (it holds the new token).
    const rootAgain = token(await root.run('AUTH', 'RESTORE', 'root'));
    expect(await root.run('AUTH', 'WHOAMI')).toBe(one('+4\nroot\n'));
    rootToken = rootAgain;

    const anon = await connect();
    expect(await anon.run('AUTH', 'RESTORE', kOrigin.slice(1), 'someuser2')).toBe(BAD_CREDENTIALS);
    expect(await anon.run('AUTH', 'RESTORE', kOrigin, 'nosuchuser')).toBe(BAD_CREDENTIALS);
    expect(await anon.run('AUTH', 'RESTORE', kOrigin, 'x'.repeat(41))).toBe(ILLEGAL_USERNAME);
    expect(await anon.run('AUTH', 'RESTORE')).toBe(ACTION_ERROR);
    expect(await anon.run('AUTH', 'RESTORE', 'someuser', 'origin', 'but extra data')).toBe(ACTION_ERROR);
    const third = token(await anon.run('AUTH', 'RESTORE', kOrigin, 'someuser2'));
    // RESTORE with the origin key does not log the caller in.
    expect(await anon.run('HEYA')).toBe(BAD_CREDENTIALS);
    expect(await anon.run('AUTH', 'LOGIN', 'someuser2', second)).toBe(BAD_CREDENTIALS);
    expect(await anon.run('AUTH', 'LOGIN', 'someuser2', third)).toBe(OK);
    // Root's own token can be restored with the origin key when it is lost.
    const newRoot = token(await anon.run('AUTH', 'RESTORE', kOrigin, 'root'));
    expect(await anon.run('AUTH', 'LOGIN', 'root', rootToken)).toBe(BAD_CREDENTIALS);
    expect(await anon.run('AUTH', 'LOGIN', 'root', newRoot)).toBe(OK);
    // Root's session on `root` was opened with the replaced token: it has ended.
    expect(await root.run('AUTH', 'WHOAMI')).toBe(PERMISSION);
    rootToken = newRoot;
  });

  it('keeps the system keyspace out of reach: not listed, not usable, not droppable', async () => {
    const root = await connect();
    expect(await root.run('AUTH', 'LOGIN', 'root', rootToken)).toBe(OK);
    const listed = await root.run('INSPECT', 'KEYSPACES');
    expect(listed).not.toContain('system');
    expect(await root.run('USE', 'system')).toBe(one(err('container-not-found')));
    expect(await root.run('USE', 'system:auth')).toBe(one(err('container-not-found')));
    expect(await root.run('DROP', 'KEYSPACE', 'system')).toBe(one(err('err-protected-object')));
    expect(await root.run('DROP', 'TABLE', 'system:auth')).toBe(one(err('err-protected-object')));
    expect(await root.run('AUTH', 'WHOAMI')).toBe(one('+4\nroot\n'));
  });
});
