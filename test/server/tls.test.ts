/**
 * TLS on the Skyhash and RESP listeners, against a certificate and an encrypted key generated
 * at test time: byte-exact Skyhash replies over TLS, the plain port beside it, passphrase
 * files, refusals that name the file, and handshakes that cannot pin the server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withDefaults, type PartialConfig } from '../../src/config/types.js';
import { FrostServer } from '../../src/server/server.js';
import { kTlsHandshakeTimeoutMs, kTlsHandshakesPendingMax } from '../../src/server/tls-gate.js';
import { isFrostError } from '../../src/util/errors.js';
import { MemoryLogger } from '../../src/util/log.js';
import { freePort, spawnCli, startInProcess, type InProcessServer } from '../support/server.js';
import { SkyClient } from '../support/skyhash.js';
import { makeTlsFixture, type TlsFixture } from '../support/tls.js';
import { tempDir } from '../support/tmp.js';

const execFileAsync = promisify(execFile);
let tls: TlsFixture;
beforeAll(() => {
  tls = makeTlsFixture();
});

function sslOf(fixture: TlsFixture, extra: Partial<PartialConfig['ssl']> = {}): PartialConfig['ssl'] {
  return { enabled: true, key: fixture.key, chain: fixture.chain, port: 0, only: false, passin: null, ...extra };
}

/** Start with this [ssl] and expect the start to be refused; the FrostError. */
async function refusedStart(ssl: PartialConfig['ssl']): Promise<Error & { code?: string }> {
  const config = withDefaults({ server: { dataDir: tempDir(), port: 0 }, bgsave: { enabled: false, every: 120 }, ssl });
  const error = await FrostServer.start(config, { logger: new MemoryLogger(), saveOnShutdown: false }).then(
    async (server) => {
      await server.shutdown();
      throw new Error('the server started');
    },
    (caught: unknown) => caught as Error & { code?: string },
  );
  return error;
}

/** Resolves with how long the server took to close a socket (rejects past `limitMs`). */
function closedWithin(socket: Socket, limitMs: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still open after ${limitMs} ms`)), limitMs);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

function plainSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('Skyhash over TLS, multi-socket', () => {
  let running: InProcessServer;
  beforeAll(async () => {
    running = await startInProcess({ ssl: sslOf(tls) });
  });
  afterAll(() => running.stop());

  it('answers byte for byte on the TLS port, and the plain port keeps serving', async () => {
    const tlsPort = running.server.addresses.skyhashTls?.port as number;
    expect(tlsPort).toBeGreaterThan(0);
    expect(tlsPort).not.toBe(running.port);
    const secure = await SkyClient.connectTls(tlsPort, tls.ca);
    expect(await secure.run('HEYA')).toBe('*1\n+4\nHEY!\n');
    expect(await secure.run('SET', 'k', 'over tls')).toBe('*1\n!1\n0\n');
    const plain = await SkyClient.connect(running.port);
    expect(await plain.run('GET', 'k')).toBe('*1\n?8\nover tls\n');
    expect(await secure.run('GET', 'k')).toBe('*1\n?8\nover tls\n');
    secure.socket.destroy();
    plain.socket.destroy();
  });

  it('closes a plain-TCP client at once and an abandoned handshake within the timeout, serving others meanwhile', async () => {
    const tlsPort = running.server.addresses.skyhashTls?.port as number;
    const plainSpeaker = await plainSocket(tlsPort);
    plainSpeaker.write('*1\n~1\n4\nHEYA\n');
    const plainClosed = closedWithin(plainSpeaker, 2_000);
    const silent = await plainSocket(tlsPort);
    const silentClosed = closedWithin(silent, kTlsHandshakeTimeoutMs + 3_000);
    // A client that sends half a ClientHello and stops.
    const half = await plainSocket(tlsPort);
    half.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    const halfClosed = closedWithin(half, kTlsHandshakeTimeoutMs + 3_000);

    expect(await plainClosed).toBeLessThan(2_000);
    // Meanwhile, a TLS client is served, repeatedly, before the abandoned ones are timed out.
    const other = await SkyClient.connectTls(tlsPort, tls.ca);
    for (let i = 0; i < 5; i++) {
      expect(await other.run('HEYA')).toBe('*1\n+4\nHEY!\n');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const [silentMs, halfMs] = await Promise.all([silentClosed, halfClosed]);
    expect(silentMs).toBeGreaterThanOrEqual(kTlsHandshakeTimeoutMs - 1_000);
    expect(halfMs).toBeGreaterThanOrEqual(kTlsHandshakeTimeoutMs - 1_000);
    expect(await other.run('HEYA')).toBe('*1\n+4\nHEY!\n');
    expect(running.server.connectionCount).toBe(1);
    other.socket.destroy();
  }, kTlsHandshakeTimeoutMs + 20_000);
});

describe('the bound on pending handshakes', () => {
  it('closes a socket past kTlsHandshakesPendingMax at once, keeps serving, and accepts again once they go', async () => {
    const running = await startInProcess({ ssl: sslOf(tls) });
    const silent: Socket[] = [];
    try {
      const port = running.server.addresses.skyhashTls?.port as number;
      const served = await SkyClient.connectTls(port, tls.ca);
      for (let i = 0; i < kTlsHandshakesPendingMax; i++) silent.push(await plainSocket(port));
      // Let the server accept every one of them before the one past the bound.
      expect(await served.run('HEYA')).toBe('*1\n+4\nHEY!\n');
      await new Promise((resolve) => setTimeout(resolve, 200));
      const past = await plainSocket(port);
      expect(await closedWithin(past, 2_000)).toBeLessThan(2_000);
      expect(await served.run('HEYA')).toBe('*1\n+4\nHEY!\n');
      expect(running.server.stats.connectionsRejected).toBe(1);
      for (const socket of silent.splice(0)) socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const again = await SkyClient.connectTls(port, tls.ca);
      expect(await again.run('HEYA')).toBe('*1\n+4\nHEY!\n');
      again.socket.destroy();
      served.socket.destroy();
    } finally {
      for (const socket of silent) socket.destroy();
      await running.stop();
    }
  }, 30_000);
});

describe('encrypted keys and refusals', () => {
  it('decrypts the key with the first line of the passphrase file', async () => {
    const running = await startInProcess({ ssl: sslOf(tls, { key: tls.encryptedKey, passin: tls.passin }) });
    try {
      const client = await SkyClient.connectTls(running.server.addresses.skyhashTls?.port as number, tls.ca);
      expect(await client.run('HEYA')).toBe('*1\n+4\nHEY!\n');
      client.socket.destroy();
    } finally {
      await running.stop();
    }
  });

  it('refuses a wrong passphrase, naming the key and the passphrase file', async () => {
    const error = await refusedStart(sslOf(tls, { key: tls.encryptedKey, passin: tls.wrongPassin }));
    expect(isFrostError(error, 'ERR_TLS_PASSPHRASE'), String(error)).toBe(true);
    expect(error.message).toContain(tls.wrongPassin);
    expect(error.message).toContain(tls.encryptedKey);
    expect(error.message).not.toContain('not the passphrase');
  });

  it('refuses an encrypted key without a passphrase file, saying to set ssl.passin', async () => {
    const error = await refusedStart(sslOf(tls, { key: tls.encryptedKey }));
    expect(isFrostError(error, 'ERR_TLS_KEY'), String(error)).toBe(true);
    expect(error.message).toContain(tls.encryptedKey);
    expect(error.message).toContain('ssl.passin');
  });

  it('refuses unreadable key, chain and passphrase files, naming each', async () => {
    const missing = join(tls.dir, 'missing.pem');
    const cases: Array<[PartialConfig['ssl'], string]> = [
      [sslOf(tls, { key: missing }), missing],
      [sslOf(tls, { chain: missing }), missing],
      [sslOf(tls, { chain: tls.dir }), tls.dir],
      [sslOf(tls, { key: tls.encryptedKey, passin: missing }), missing],
    ];
    for (const [ssl, file] of cases) {
      const error = await refusedStart(ssl);
      expect(isFrostError(error, 'ERR_TLS_FILE'), String(error)).toBe(true);
      expect(error.message).toContain(file);
    }
  });

  it('refuses a key that is not a key, a chain that is not a certificate, and a key that is not the certificate\'s', async () => {
    const notKey = await refusedStart(sslOf(tls, { key: tls.chain }));
    expect([notKey.code, notKey.message.includes(tls.chain)]).toEqual(['ERR_TLS_KEY', true]);
    const notCert = await refusedStart(sslOf(tls, { chain: tls.key }));
    expect([notCert.code, notCert.message.includes(tls.key)]).toEqual(['ERR_TLS_CERT', true]);
    const mismatch = await refusedStart(sslOf(tls, { key: tls.otherKey }));
    expect([mismatch.code, mismatch.message.includes(tls.otherKey)]).toEqual(['ERR_TLS_KEY', true]);
  });

  it('the CLI refuses a wrong passphrase with exit code 1 and a message naming the file, before binding', async () => {
    const port = await freePort();
    const child = spawnCli(['--port', String(port), '--sslkey', tls.encryptedKey, '--sslchain', tls.chain, '--sslport', String(await freePort()), '--tlspassin', tls.wrongPassin, '--data-dir', join(tempDir(), 'data'), '--noart']);
    const { code } = await child.exited;
    expect(code, child.output()).toBe(1);
    expect(child.output()).toContain('does not decrypt the TLS private key');
    expect(child.output()).toContain(tls.wrongPassin);
  }, 30_000);
});

describe('a Skytable 0.7 config file with [ssl]', () => {
  it('starts TLS-only with a passphrase file and serves; the plain port is closed', async () => {
    const dir = tempDir();
    const [port, sslPort] = [await freePort(), await freePort()];
    mkdirSync(join(dir, 'tls'));
    const file = join(dir, 'skyd.toml');
    writeFileSync(
      file,
      [
        '[server]',
        'host = "127.0.0.1"',
        `port = ${port}`,
        'noart = true',
        '',
        '[ssl]',
        `key = "${tls.encryptedKey}"`,
        `chain = "${tls.chain}"`,
        `port = ${sslPort}`,
        'only = true',
        `passin = "${tls.passin}"`,
        '',
      ].join('\n'),
    );
    const child = spawnCli(['--withconfig', file], { env: { SKY_DATA_DIR: join(dir, 'data') } });
    try {
      await child.waitFor(/ready to accept connections/);
      const client = await SkyClient.connectTls(sslPort, tls.ca);
      expect(await client.run('HEYA')).toBe('*1\n+4\nHEY!\n');
      expect(await client.run('SET', 'a', 'b')).toBe('*1\n!1\n0\n');
      client.socket.destroy();
      await expect(plainSocket(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      child.proc.kill('SIGTERM');
      await child.exited;
    }
  }, 30_000);
});

describe('RESP over TLS', () => {
  let running: InProcessServer;
  beforeAll(async () => {
    running = await startInProcess({ ssl: sslOf(tls), resp: { tlsPort: 0 } }, { resp: true });
  });
  afterAll(() => running.stop());

  it('serves ioredis with tls: { ca }, beside the plain RESP port', async () => {
    const { Redis } = await import('ioredis');
    const port = running.server.addresses.respTls?.port as number;
    expect(port).toBeGreaterThan(0);
    const client = new Redis({ port, host: '127.0.0.1', tls: { ca: tls.ca, servername: 'localhost' }, lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await client.connect();
      expect(await client.ping()).toBe('PONG');
      expect(await client.set('greeting', 'hello over tls')).toBe('OK');
      expect(await client.get('greeting')).toBe('hello over tls');
    } finally {
      client.disconnect();
    }
    const plain = new Redis({ port: running.respPort as number, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await plain.connect();
      expect(await plain.get('greeting')).toBe('hello over tls');
    } finally {
      plain.disconnect();
    }
  });

  const redisCliTls = (() => {
    try {
      return execFileSync('redis-cli', ['--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).includes('--tls');
    } catch (error) {
      // redis-cli --help exits 0 on Redis 7; an older one exiting non-zero still prints the help.
      const output = String((error as { stdout?: unknown }).stdout ?? '');
      return output.includes('--tls');
    }
  })();

  it.skipIf(!redisCliTls)('serves redis-cli --tls --cacert (skipped when redis-cli is missing or built without TLS)', async () => {
    const port = String(running.server.addresses.respTls?.port as number);
    // Asynchronous: the server runs in this process, so a synchronous child would deadlock it.
    const cli = async (...args: string[]): Promise<string> =>
      (await execFileAsync('redis-cli', ['--tls', '--cacert', tls.chain, '-h', '127.0.0.1', '-p', port, '--sni', 'localhost', ...args], { encoding: 'utf8', timeout: 10_000 })).stdout.trim();
    expect(await cli('PING')).toBe('PONG');
    expect(await cli('SET', 'cli-key', 'cli value')).toBe('OK');
    expect(await cli('GET', 'cli-key')).toBe('cli value');
  });

  it('refuses a plain RESP client on the TLS port without answering it', async () => {
    const socket = await plainSocket(running.server.addresses.respTls?.port as number);
    let received = 0;
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    socket.write('PING\r\n');
    await closedWithin(socket, 2_000);
    // The server may answer with a TLS alert record, never with a RESP reply.
    expect(received).toBeLessThan(64);
  });
});

describe('a TLS client that rejects the certificate', () => {
  it('is closed and counts as no connection', async () => {
    const running = await startInProcess({ ssl: sslOf(tls) });
    try {
      const port = running.server.addresses.skyhashTls?.port as number;
      const failure = await new Promise<Error>((resolve) => {
        const socket = tlsConnect({ port, host: '127.0.0.1' }, () => resolve(new Error('connected')));
        socket.once('error', resolve);
      });
      expect(failure.message).toMatch(/self-signed|self signed/);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(running.server.connectionCount).toBe(0);
    } finally {
      await running.stop();
    }
  });
});
