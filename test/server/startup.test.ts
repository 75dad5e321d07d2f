/**
 * Start-up order: the listeners open before the data set loads, so a port in use fails at once
 * (naming the listener and its address, with the data directory untouched and unlocked), and
 * clients that connect during the load are answered "loading" instead of being refused.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { open } from '../../src/database.js';
import { withDefaults } from '../../src/config/types.js';
import { FrostServer } from '../../src/server/server.js';
import { MemoryLogger, silentLogger } from '../../src/util/log.js';
import { SkyClient } from '../support/skyhash.js';
import { freePort, spawnCli } from '../support/server.js';
import { tempDir } from '../support/tmp.js';

/** A data directory whose live save holds `count` keys `key:<i>` = `value <i>` in default:default. */
async function dataSet(count: number): Promise<string> {
  const dataDir = join(tempDir(), 'data');
  const db = await open({ server: { dataDir } }, { logger: silentLogger });
  const table = db.table();
  for (let i = 0; i < count; i++) table.set(`key:${i}`, `value ${i}`);
  await db.close();
  return dataDir;
}

async function occupy(port: number): Promise<Server> {
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(port, '127.0.0.1', resolve));
  return squatter;
}

/** Send raw bytes and collect the reply until it has `expectBytes` bytes. */
async function rawReply(socket: Socket, bytes: string, expectBytes: number): Promise<string> {
  let reply = '';
  const done = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      reply += chunk.toString('latin1');
      if (reply.length >= expectBytes) {
        socket.off('data', onData);
        resolve(reply);
      }
    };
    socket.on('data', onData);
    setTimeout(() => reject(new Error(`reply so far: ${JSON.stringify(reply)}`)), 5_000).unref();
  });
  socket.write(bytes);
  return done;
}

async function rawConnect(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

describe('start-up order', () => {
  it.each([
    ['Skyhash', (port: number, other: number) => ['--port', String(port), '--resp-port', String(other)]],
    ['RESP', (port: number, other: number) => ['--port', String(other), '--resp-port', String(port)]],
  ])('fails fast when the %s port is in use: before loading, naming the listener and address, data directory released', async (name, flags) => {
    const dataDir = await dataSet(1000);
    const port = await freePort();
    const squatter = await occupy(port);
    try {
      const child = spawnCli(['--data-dir', dataDir, '--noart', ...flags(port, await freePort())]);
      expect((await child.exited).code).toBe(1);
      const output = child.output();
      expect(output).toMatch(new RegExp(`cannot start: cannot listen for ${name} on 127\\.0\\.0\\.1:${port}: the address is in use`));
      expect(output).not.toMatch(/loaded .*ks: 1000 keys/);
      expect(existsSync(join(dataDir, 'frostkv.lock'))).toBe(false);
    } finally {
      squatter.close();
    }
  }, 60_000);

  it('opens the listeners before loading, logs the load, then is ready', async () => {
    const dataDir = await dataSet(1000);
    const port = await freePort();
    const child = spawnCli(['--data-dir', dataDir, '--port', String(port), '--noart']);
    await child.waitFor(/ready to accept connections/);
    const output = child.output();
    const listening = output.search(/Skyhash listening on/);
    const loading = output.search(/loading the data set from .*data/);
    const loaded = output.search(/loaded .*ks: 1000 keys/);
    expect(listening).toBeGreaterThan(-1);
    expect(loading).toBeGreaterThan(listening);
    expect(loaded).toBeGreaterThan(loading);
    child.proc.kill('SIGTERM');
    expect((await child.exited).code).toBe(0);
  }, 60_000);

  it('a shutdown during the load waits for it, saves nothing half-loaded and releases the data directory', async () => {
    const dataDir = await dataSet(2000);
    const config = withDefaults({ server: { dataDir, port: 0 }, bgsave: { enabled: true, every: 3600 } });
    const server = await FrostServer.listen(config, { logger: new MemoryLogger(), saveOnShutdown: true });
    const loading = server.load();
    await server.shutdown();
    await loading;
    expect(existsSync(join(dataDir, 'frostkv.lock'))).toBe(false);
    const db = await open({ server: { dataDir } }, { logger: silentLogger });
    expect(db.table().size).toBe(2000);
    await db.close();
  }, 60_000);

  it('answers during the load (Skyhash err-loading, RESP -LOADING), then serves the same connections', async () => {
    const dataDir = await dataSet(10);
    const config = withDefaults({ server: { dataDir, port: 0 }, bgsave: { enabled: false, every: 120 }, resp: { enabled: true, port: 0 } });
    const server = await FrostServer.listen(config, { logger: new MemoryLogger(), saveOnShutdown: false });
    let redis: Redis | null = null;
    try {
      const sky = await SkyClient.connect(server.addresses.skyhash.port);
      expect(await sky.run('GET', 'key:1')).toBe('*1\n!11\nerr-loading\n');
      const resp = await rawConnect(server.addresses.resp?.port ?? 0);
      const loadingText = '-LOADING Redis is loading the dataset in memory\r\n';
      expect(await rawReply(resp, '*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$5\r\nkey:1\r\n', 2 * loadingText.length)).toBe(loadingText.repeat(2));
      const info = await rawReply(resp, '*2\r\n$4\r\nINFO\r\n$11\r\npersistence\r\n', 40);
      expect(info).toMatch(/loading:1\r\n/);
      // ioredis's ready check sees `loading:1` and holds its commands until the load is done.
      redis = new Redis({ port: server.addresses.resp?.port ?? 0, host: '127.0.0.1' });
      const pending = redis.get('key:7');
      await new Promise((resolve) => setTimeout(resolve, 200));
      await server.load();
      expect(await pending).toBe('value 7');
      expect(await sky.run('GET', 'key:1')).toBe('*1\n?7\nvalue 1\n');
      expect(await rawReply(resp, '*1\r\n$4\r\nPING\r\n', 7)).toBe('+PONG\r\n');
      resp.destroy();
      sky.close();
    } finally {
      redis?.disconnect();
      await server.shutdown();
    }
  }, 60_000);
});
