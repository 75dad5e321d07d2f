/**
 * RESP with auth on: the same users as Skyhash, Redis 7.0's way (src/server/resp/commands.ts):
 * NOAUTH before login except AUTH / HELLO / QUIT, `AUTH <token>` as root, `AUTH <user>
 * <token>`, WRONGPASS, HELLO's AUTH option, CLIENT LIST's `user=`; with ioredis, raw bytes, and
 * redis-cli's `-a` and `--user` (the requirepass-style use docs/behaviour.md describes).
 */

import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SkyClient } from '../../support/skyhash.js';
import { startInProcess, type InProcessServer } from '../../support/server.js';
import { RawClient, show } from './raw.js';

const kOrigin = 'Q7mZp2Lr8XvB4nT6yH1sK9dF3gJ5wC0aE2uR4iOo';
const kNoAuth = '-NOAUTH Authentication required.';
const kWrongPass = '-WRONGPASS invalid username-password pair or user is disabled.';
const run = promisify(execFile);
const kHasCli = spawnSync('sh', ['-c', 'command -v redis-cli'], { stdio: 'ignore' }).status === 0;

let server: InProcessServer;
let port: number;
let rootToken = '';
let userToken = '';

/** Claim root and add `app` over Skyhash; returns both tokens. */
async function claim(skyPort: number): Promise<{ root: string; app: string }> {
  const sky = await SkyClient.connect(skyPort);
  const tokenOf = (reply: string): string => reply.split('\n')[2] as string;
  const root = tokenOf(await sky.run('AUTH', 'CLAIM', kOrigin));
  const app = tokenOf(await sky.run('AUTH', 'ADDUSER', 'app'));
  sky.close();
  return { root, app };
}

beforeAll(async () => {
  server = await startInProcess({ auth: { originKey: kOrigin }, workers: { threads: 1 } }, { resp: true });
  port = server.respPort as number;
  ({ root: rootToken, app: userToken } = await claim(server.port));
});

afterAll(async () => {
  await server.stop();
});

describe('RESP before AUTH', () => {
  it('answers NOAUTH for every command but AUTH, HELLO and QUIT, after unknown-command and arity errors', async () => {
    const raw = await RawClient.connect(port);
    expect(show(await raw.call('GET', 'k'))).toBe(kNoAuth);
    expect(show(await raw.call('SET', 'k', 'v'))).toBe(kNoAuth);
    expect(show(await raw.call('PING'))).toBe(kNoAuth);
    expect(show(await raw.call('CLIENT', 'LIST'))).toBe(kNoAuth);
    expect(show(await raw.call('INFO'))).toBe(kNoAuth);
    expect(show(await raw.call('NOSUCH'))).toMatch(/^-ERR unknown command 'NOSUCH'/);
    expect(show(await raw.call('GET'))).toBe("-ERR wrong number of arguments for 'get' command");
    expect(show(await raw.call('HELLO', '2'))).toMatch(/^-NOAUTH HELLO must be called with the client already authenticated/);
    expect(show(await raw.call('AUTH', 'wrong'))).toBe(kWrongPass);
    expect(show(await raw.call('AUTH', 'app', rootToken))).toBe(kWrongPass);
    expect(show(await raw.call('AUTH', 'a', 'b', 'c'))).toBe('-ERR syntax error');
    expect(show(await raw.call('GET', 'k'))).toBe(kNoAuth);
    expect(show(await raw.call('QUIT'))).toBe('+OK');
    await raw.waitClosed();
  });
});

describe('RESP AUTH', () => {
  it('AUTH <token> logs in as root, AUTH <user> <token> as that user; CLIENT LIST shows user=', async () => {
    const raw = await RawClient.connect(port);
    expect(show(await raw.call('CLIENT', 'SETNAME', 'x'))).toBe(kNoAuth);
    expect(show(await raw.call('AUTH', rootToken))).toBe('+OK');
    expect(show(await raw.call('SET', 'k', 'v'))).toBe('+OK');
    const list = await raw.call('CLIENT', 'LIST');
    expect(list.t === '$' && list.v?.toString()).toMatch(/ user=root /);
    // A failed AUTH leaves the client logged in as it was (Redis keeps the previous user).
    expect(show(await raw.call('AUTH', 'app', 'nope'))).toBe(kWrongPass);
    expect(show(await raw.call('GET', 'k'))).toBe(`$${Buffer.from('v').toString('hex')}`);
    expect(show(await raw.call('AUTH', 'app', userToken))).toBe('+OK');
    const again = await raw.call('CLIENT', 'LIST');
    expect(again.t === '$' && again.v?.toString()).toMatch(/ user=app /);
    expect(show(await raw.call('AUTH', 'default', rootToken))).toBe('+OK');
    raw.destroy();
  });

  it('HELLO 2 AUTH <user> <token> authenticates and answers the handshake', async () => {
    const raw = await RawClient.connect(port);
    expect(show(await raw.call('HELLO', '2', 'AUTH', 'app', 'wrong'))).toBe(kWrongPass);
    const hello = await raw.call('HELLO', '2', 'AUTH', 'app', userToken, 'SETNAME', 'svc');
    expect(hello.t).toBe('*');
    expect(show(await raw.call('CLIENT', 'GETNAME'))).toBe(`$${Buffer.from('svc').toString('hex')}`);
    expect(show(await raw.call('DBSIZE'))).toMatch(/^:\d+$/);
    raw.destroy();
  });

  it('ioredis with username and password (Redis 6+ form) and with a password only', async () => {
    const asUser = new Redis({ port, username: 'app', password: userToken, lazyConnect: true, maxRetriesPerRequest: 0 });
    await asUser.connect();
    expect(await asUser.set('io', '1')).toBe('OK');
    expect(await asUser.get('io')).toBe('1');
    asUser.disconnect();
    const asRoot = new Redis({ port, password: rootToken, lazyConnect: true, maxRetriesPerRequest: 0 });
    await asRoot.connect();
    expect(await asRoot.get('io')).toBe('1');
    asRoot.disconnect();
    const none = new Redis({ port, lazyConnect: true, maxRetriesPerRequest: 0, enableReadyCheck: false, retryStrategy: () => null });
    await none.connect();
    await expect(none.get('io')).rejects.toThrow(/NOAUTH Authentication required/);
    none.disconnect();
    const wrong = new Redis({ port, username: 'app', password: 'wrong', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    const errors: Error[] = [];
    wrong.on('error', (error: Error) => errors.push(error));
    await wrong.connect().catch(() => undefined);
    expect(errors.map((error) => error.message).join('\n')).toContain(kWrongPass.slice(1));
    wrong.disconnect();
  });

  it.skipIf(!kHasCli)(`redis-cli -a <root token> and --user <name> -a <token>${kHasCli ? '' : ' [SKIPPED: redis-cli is not installed]'}`, async () => {
    // Asynchronously: the server runs in this process's event loop.
    const cli = async (args: string[]): Promise<string> => {
      const { stdout, stderr } = await run('redis-cli', ['-p', String(port), '--no-auth-warning', ...args], { timeout: 10_000 });
      return `${stdout}${stderr}`.trim();
    };
    expect(await cli(['-a', rootToken, 'SET', 'cli', 'yes'])).toBe('OK');
    expect(await cli(['--user', 'app', '-a', userToken, 'GET', 'cli'])).toBe('yes');
    expect(await cli(['-a', 'wrong', 'GET', 'cli'])).toContain('WRONGPASS');
    expect(await cli(['GET', 'cli'])).toBe('NOAUTH Authentication required.');
  });
});

describe('RESP with auth off', () => {
  it('keeps Redis 7.0 no-password behaviour and shows user=default', async () => {
    const plain = await startInProcess({ workers: { threads: 1 } }, { resp: true });
    try {
      const raw = await RawClient.connect(plain.respPort as number);
      expect(show(await raw.call('GET', 'k'))).toBe('$nil');
      expect(show(await raw.call('AUTH', 'pw'))).toMatch(/^-ERR AUTH <password> called without any password configured/);
      const list = await raw.call('CLIENT', 'LIST');
      expect(list.t === '$' && list.v?.toString()).toMatch(/ user=default /);
      raw.destroy();
    } finally {
      await plain.stop();
    }
  });
});

describe('RESP auth with RESET, HELLO 3 and transactions', () => {
  it('RESET answers before login and logs the client out; HELLO 3 AUTH logs in and switches to RESP3', async () => {
    const raw = await RawClient.connect(port);
    try {
      expect(show(await raw.call('RESET'))).toBe('+RESET');
      const hello = await raw.call('HELLO', '3', 'AUTH', 'app', userToken);
      expect(hello.t).toBe('%');
      expect(show(await raw.call('GET', 'missing'))).toBe('_');
      expect(show(await raw.call('RESET'))).toBe('+RESET');
      expect(show(await raw.call('GET', 'missing'))).toBe(kNoAuth);
    } finally {
      raw.destroy();
    }
  });

  it('a command refused with NOAUTH inside MULTI aborts the transaction', async () => {
    const raw = await RawClient.connect(port);
    try {
      expect(show(await raw.call('MULTI'))).toBe(kNoAuth);
      expect(show(await raw.call('AUTH', rootToken))).toBe('+OK');
      expect(show(await raw.call('MULTI'))).toBe('+OK');
      expect(show(await raw.call('SET', 'auth-tx', 'v'))).toBe('+QUEUED');
      expect(show(await raw.call('EXEC'))).toBe('[+OK]');
    } finally {
      raw.destroy();
    }
  });
});
