/**
 * RESP transactions against a real frostkv server, with ioredis, node-redis (RESP3 and RESP2)
 * and a raw socket: MULTI / EXEC / DISCARD / WATCH / UNWATCH with Redis 7.0's replies and
 * texts, a transaction refused while queuing applying nothing, WATCH conflicts from another
 * connection (writes, FLUSHDB, FLUSHALL, SWAPDB, and other handles), and EXEC running its queue
 * with no other client's command in between.
 */

import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { kKeysBatch } from '../../../src/server/resp/commands.js';
import { startInProcess, type InProcessServer } from '../../support/server.js';
import { SkyClient } from '../../support/skyhash.js';
import { RawClient, show } from './raw.js';
import { ioredis, nodeRedis } from './client-helpers.js';

const kExecAbort = 'EXECABORT Transaction discarded because of previous errors.';

describe('RESP transactions', () => {
  let server: InProcessServer;
  let port: number;
  let r: Redis;
  let other: Redis;

  beforeAll(async () => {
    server = await startInProcess({}, { resp: true });
    port = server.respPort as number;
    r = ioredis(port);
    other = ioredis(port);
    await r.connect();
    await other.connect();
  });

  afterAll(async () => {
    r.disconnect();
    other.disconnect();
    await server.stop();
  });

  beforeEach(async () => {
    await r.flushall();
  });

  describe('ioredis', () => {
    it('MULTI ... EXEC answers QUEUED for each command and runs them in order', async () => {
      const results = await r.multi().set('a', '1').incr('a').get('a').get('missing').exec();
      expect(results).toEqual([
        [null, 'OK'],
        [null, 2],
        [null, '2'],
        [null, null],
      ]);
    });

    it('a transaction with an unknown command or a wrong arity while queuing applies nothing (EXECABORT)', async () => {
      await r.set('kept', 'before');
      const raw = await RawClient.connect(port);
      try {
        raw.write('*1\r\n$5\r\nMULTI\r\n');
        raw.write('*3\r\n$3\r\nSET\r\n$4\r\nkept\r\n$5\r\nafter\r\n');
        raw.write('*2\r\n$7\r\nNOTACMD\r\n$1\r\nx\r\n');
        raw.write('*2\r\n$3\r\nSET\r\n$5\r\nother\r\n');
        raw.write('*3\r\n$3\r\nSET\r\n$5\r\nfresh\r\n$1\r\n1\r\n');
        raw.write('*1\r\n$4\r\nEXEC\r\n');
        const replies = (await raw.replies(6)).map(show);
        expect(replies).toEqual([
          '+OK',
          '+QUEUED',
          "-ERR unknown command 'NOTACMD', with args beginning with: 'x' ",
          "-ERR wrong number of arguments for 'set' command",
          '+QUEUED',
          `-${kExecAbort}`,
        ]);
      } finally {
        raw.destroy();
      }
      // Nothing of the transaction was applied, and the connection left MULTI.
      expect(await r.get('kept')).toBe('before');
      expect(await r.exists('fresh')).toBe(0);
    });

    it('ioredis sees EXECABORT for a transaction with a bad command and nothing is written', async () => {
      await r.set('k', 'old');
      const outcome = await r.multi().set('k', 'new').call('NOSUCHCOMMAND').set('k2', 'v').exec().then(
        (value) => ({ value, error: null }),
        (error: Error) => ({ value: null, error }),
      );
      // Checked first: before transactions, the SETs ran one by one and half the "transaction" applied.
      expect(await r.get('k')).toBe('old');
      expect(await r.exists('k2')).toBe(0);
      expect(outcome.error?.message).toMatch(/EXECABORT Transaction discarded because of previous errors/);
    });

    it('a command that fails while running inside EXEC answers its error in place; the others still run', async () => {
      await r.set('text', 'abc');
      const results = await r.multi().incr('text').set('after', '1').exec();
      expect(results?.[0]?.[0]?.message).toBe('ERR value is not an integer or out of range');
      expect(results?.[1]).toEqual([null, 'OK']);
      expect(await r.get('after')).toBe('1');
    });

    it('WATCH: a write by another client after WATCH makes EXEC answer null and run nothing', async () => {
      await r.set('balance', '10');
      await r.watch('balance');
      await other.set('balance', '20');
      const results = await r.multi().set('balance', '11').exec();
      expect(results).toBeNull();
      expect(await r.get('balance')).toBe('20');
      // The watch ended with that EXEC: the next transaction runs.
      expect(await r.multi().set('balance', '12').exec()).toEqual([[null, 'OK']]);
    });

    it('WATCH without a conflicting write lets EXEC run; a write to another key is no conflict', async () => {
      await r.watch('watched');
      await other.set('unrelated', 'x');
      expect(await r.multi().set('watched', 'mine').exec()).toEqual([[null, 'OK']]);
      expect(await r.get('watched')).toBe('mine');
    });

    it('UNWATCH forgets the watched keys', async () => {
      await r.watch('w');
      await other.set('w', 'theirs');
      expect(await r.unwatch()).toBe('OK');
      expect(await r.multi().set('w', 'mine').exec()).toEqual([[null, 'OK']]);
    });

    it('WATCH conflicts on FLUSHDB, FLUSHALL and SWAPDB by another client', async () => {
      for (const clear of [() => other.flushdb(), () => other.flushall(), () => other.swapdb(0, 1)]) {
        await r.set('w', 'v');
        await r.watch('w');
        await clear();
        expect(await r.multi().set('w', 'mine').exec()).toBeNull();
        await r.flushall();
      }
    });

    it('FLUSHDB and FLUSHALL touch only watched keys that existed (Redis 7.0)', async () => {
      for (const clear of [() => other.flushdb(), () => other.flushall()]) {
        await r.set('other-key', 'v');
        await r.watch('never-set');
        await clear();
        expect(await r.multi().ping().exec()).toEqual([[null, 'PONG']]);
      }
    });

    it('WATCH sees a DEL and a write inside another client\'s transaction', async () => {
      await r.set('w', 'v');
      await r.watch('w');
      await other.multi().del('w').exec();
      expect(await r.multi().set('w', 'mine').exec()).toBeNull();
    });

    it('DISCARD drops the queue and unwatches; DISCARD and EXEC without MULTI answer Redis texts', async () => {
      await r.set('k', 'old');
      const raw = await RawClient.connect(port);
      try {
        expect(show(await raw.call('WATCH', 'k'))).toBe('+OK');
        expect(show(await raw.call('MULTI'))).toBe('+OK');
        expect(show(await raw.call('SET', 'k', 'new'))).toBe('+QUEUED');
        expect(show(await raw.call('DISCARD'))).toBe('+OK');
        expect(await r.get('k')).toBe('old');
        await r.set('k', 'changed-after-discard');
        // DISCARD also unwatched: this transaction runs.
        expect(show(await raw.call('MULTI'))).toBe('+OK');
        expect(show(await raw.call('GET', 'k'))).toBe('+QUEUED');
        expect(show(await raw.call('EXEC'))).toBe(`[$${Buffer.from('changed-after-discard').toString('hex')}]`);
        expect(show(await raw.call('DISCARD'))).toBe('-ERR DISCARD without MULTI');
        expect(show(await raw.call('EXEC'))).toBe('-ERR EXEC without MULTI');
      } finally {
        raw.destroy();
      }
    });

    it('nested MULTI and WATCH inside MULTI answer their errors without aborting the transaction', async () => {
      const raw = await RawClient.connect(port);
      try {
        expect(show(await raw.call('MULTI'))).toBe('+OK');
        expect(show(await raw.call('MULTI'))).toBe('-ERR MULTI calls can not be nested');
        expect(show(await raw.call('WATCH', 'x'))).toBe('-ERR WATCH inside MULTI is not allowed');
        expect(show(await raw.call('SET', 'n', '1'))).toBe('+QUEUED');
        expect(show(await raw.call('EXEC'))).toBe('[+OK]');
        expect(await r.get('n')).toBe('1');
      } finally {
        raw.destroy();
      }
    });

    it('SAVE is not allowed inside MULTI, and refusing it aborts the transaction', async () => {
      const raw = await RawClient.connect(port);
      try {
        expect(show(await raw.call('MULTI'))).toBe('+OK');
        expect(show(await raw.call('SET', 'k', 'v'))).toBe('+QUEUED');
        expect(show(await raw.call('SAVE'))).toBe('-ERR Command not allowed inside a transaction');
        expect(show(await raw.call('EXEC'))).toBe(`-${kExecAbort}`);
        expect(await r.exists('k')).toBe(0);
      } finally {
        raw.destroy();
      }
    });

    it('a write queued while frostkv is read-only is refused with MISCONF and aborts the transaction', async () => {
      const engine = server.server.db.engine;
      const raw = await RawClient.connect(port);
      try {
        expect(show(await raw.call('MULTI'))).toBe('+OK');
        engine.setReadOnly('test: a failed save');
        const refused = show(await raw.call('SET', 'k', 'v'));
        expect(refused).toMatch(/^-MISCONF /);
        expect(show(await raw.call('GET', 'k'))).toBe('+QUEUED');
        expect(show(await raw.call('EXEC'))).toBe(`-${kExecAbort}`);
      } finally {
        engine.clearReadOnly();
        raw.destroy();
      }
      expect(await r.exists('k')).toBe(0);
    });

    it('EXEC of a queued write after frostkv turned read-only answers EXECABORT ... MISCONF and applies nothing', async () => {
      const engine = server.server.db.engine;
      const raw = await RawClient.connect(port);
      try {
        expect(show(await raw.call('MULTI'))).toBe('+OK');
        expect(show(await raw.call('SET', 'k', 'v'))).toBe('+QUEUED');
        engine.setReadOnly('test: a failed save');
        const reply = await raw.call('EXEC');
        expect(reply.t).toBe('-');
        expect(String(reply.v)).toMatch(/^EXECABORT Transaction discarded because of: MISCONF /);
        // The transaction is over.
        expect(show(await raw.call('EXEC'))).toBe('-ERR EXEC without MULTI');
      } finally {
        engine.clearReadOnly();
        raw.destroy();
      }
      expect(await r.exists('k')).toBe(0);
    });

    it('EXEC of a read-only queue still runs while frostkv is read-only', async () => {
      await r.set('k', 'v');
      const engine = server.server.db.engine;
      engine.setReadOnly('test: a failed save');
      try {
        expect(await r.multi().get('k').exec()).toEqual([[null, 'v']]);
      } finally {
        engine.clearReadOnly();
      }
    });

    it('EXEC runs its queue with no other client command in between, even a KEYS over many batches', async () => {
      const count = kKeysBatch * 3;
      const pipeline = r.pipeline();
      for (let i = 0; i < count; i++) pipeline.set(`key:${i}`, 'v');
      await pipeline.exec();
      const raw = await RawClient.connect(port);
      try {
        expect(show(await raw.call('MULTI'))).toBe('+OK');
        expect(show(await raw.call('KEYS', 'key:*'))).toBe('+QUEUED');
        expect(show(await raw.call('DEL', 'key:0'))).toBe('+QUEUED');
        expect(show(await raw.call('KEYS', 'key:*'))).toBe('+QUEUED');
        // Another client's write sent at the same moment lands before or after, never between.
        raw.write('*1\r\n$4\r\nEXEC\r\n');
        const write = other.set('key:intruder', 'v');
        const all = await raw.replies(5, 15_000);
        await write;
        const exec = all[4];
        if (exec?.t !== '*' || exec.v === null) throw new Error(`EXEC answered ${exec === undefined ? 'nothing' : show(exec)}`);
        const [first, , second] = exec.v;
        if (first?.t !== '*' || second?.t !== '*' || first.v === null || second.v === null) throw new Error('KEYS did not answer arrays');
        // Exactly one key fewer: the DEL, and nothing else changed between the two KEYS.
        expect(second.v.length).toBe(first.v.length - 1);
      } finally {
        raw.destroy();
      }
    });

    it('WATCH sees a write made over Skyhash and through the embedded API (other handles)', async () => {
      await r.set('shared', 'v');
      await r.watch('shared');
      const sky = await SkyClient.connect(server.port);
      try {
        expect(await sky.run('UPDATE', 'shared', 'from-skyhash')).toBeDefined();
      } finally {
        sky.close();
      }
      expect(await r.multi().set('shared', 'mine').exec()).toBeNull();
      expect(await r.get('shared')).toBe('from-skyhash');
      await r.watch('embedded');
      server.server.db.engine.table('default:default').set('embedded', 'x');
      expect(await r.multi().set('embedded', 'mine').exec()).toBeNull();
      expect(await r.get('embedded')).toBe('x');
    });
  });

  describe.each([3, 2] as const)('node-redis (RESP%i)', (resp) => {
    it('MULTI/EXEC with real SET/GET; a pipeline', async () => {
      const c = await nodeRedis(port, resp);
      try {
        expect(await c.multi().set('a', '1').incr('a').get('a').exec()).toEqual(['OK', 2, '2']);
        const replies = await c.multi().set('p', 'x').get('p').execAsPipeline();
        expect(replies).toEqual(['OK', 'x']);
      } finally {
        c.destroy();
      }
    });

    it('a transaction refused while queuing applies nothing', async () => {
      const c = await nodeRedis(port, resp);
      try {
        await c.set('k', 'old');
        // node-redis reports the queuing error (the server answered EXECABORT to the EXEC).
        await expect(c.multi().set('k', 'new').addCommand(['NOSUCHCOMMAND']).set('k2', 'v').exec()).rejects.toThrow(/unknown command 'NOSUCHCOMMAND'|EXECABORT/);
        expect(await c.get('k')).toBe('old');
        expect(await c.exists('k2')).toBe(0);
      } finally {
        c.destroy();
      }
    });

    it('a WATCH conflict from a second client makes EXEC fail; DISCARD drops the queue', async () => {
      const c = await nodeRedis(port, resp);
      const second = await nodeRedis(port, resp);
      try {
        await c.set('w', '1');
        await c.watch('w');
        await second.set('w', '2');
        await expect(c.multi().set('w', '3').exec()).rejects.toThrow(/WATCH/i);
        expect(await c.get('w')).toBe('2');
        expect(await c.sendCommand(['MULTI'])).toBe('OK');
        expect(await c.sendCommand(['SET', 'w', '4'])).toBe('QUEUED');
        expect(await c.sendCommand(['DISCARD'])).toBe('OK');
        expect(await c.get('w')).toBe('2');
      } finally {
        c.destroy();
        second.destroy();
      }
    });

    it('nested MULTI answers the error', async () => {
      const c = await nodeRedis(port, resp);
      try {
        expect(await c.sendCommand(['MULTI'])).toBe('OK');
        await expect(c.sendCommand(['MULTI'])).rejects.toThrow('MULTI calls can not be nested');
        expect(await c.sendCommand(['DISCARD'])).toBe('OK');
      } finally {
        c.destroy();
      }
    });
  });

  it('a dirty EXEC answers *-1 in RESP2 and _ in RESP3', async () => {
    for (const [protocol, expected] of [['2', '*nil'], ['3', '_']] as const) {
      const raw = await RawClient.connect(port);
      try {
        await raw.call('HELLO', protocol);
        await raw.call('WATCH', 'd');
        await r.set('d', protocol);
        await raw.call('MULTI');
        await raw.call('GET', 'd');
        expect(show(await raw.call('EXEC')), `RESP${protocol}`).toBe(expected);
      } finally {
        raw.destroy();
      }
    }
  });

  it('closing a connection in MULTI or with watched keys leaves nothing behind; RESET ends both', async () => {
    const raw = await RawClient.connect(port);
    try {
      await raw.call('WATCH', 'x');
      await raw.call('MULTI');
      await raw.call('SET', 'x', 'queued');
      expect(show(await raw.call('RESET'))).toBe('+RESET');
      expect(show(await raw.call('EXEC'))).toBe('-ERR EXEC without MULTI');
      await r.set('x', 'other');
      await raw.call('MULTI');
      await raw.call('GET', 'x');
      // RESET unwatched x, so the write above is no conflict.
      expect(show(await raw.call('EXEC'))).toBe(`[$${Buffer.from('other').toString('hex')}]`);
    } finally {
      raw.destroy();
    }
    expect(await r.get('x')).toBe('other');
  });
});
